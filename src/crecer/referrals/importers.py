"""Importers for the service catalogue and the provider directory."""

from __future__ import annotations

from django.utils.translation import gettext as _

from crecer import conf
from crecer.access import permissions
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, snapshot
from crecer.imports.framework import ImportResult, Row, batch_note, error, register, repeated_message
from crecer.lib.profiles import AXES, SECTORS
from crecer.places.actions import save_place
from crecer.places.importers import reject_all
from crecer.referrals import actions
from crecer.referrals.models import Provision, Service
from crecer.registry.inputs import parse_int
from crecer.territories.models import Organisation, Sector, Territory
from crecer.validation import Collector, InputErrors

TRUE = {"1", "true", "yes", "y", "si", "sí", "s"}


class ServiceImporter:
    kind = "services"
    columns = (
        "code",
        "name_es",
        "name_en",
        "sector",
        "axis",
        "universal",
        "eligibility_es",
        "eligibility_en",
        "acceptance_days",
        "attention_days",
        "active",
    )
    required = ("code", "name_es", "sector", "axis")
    batch_size = 1000

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        if not permissions.has(actor.user, permissions.EDIT_CATALOGUE):
            for line, row in rows:
                result.reject(line, row, error("row", "forbidden", _("Your role cannot edit the service catalogue.")))
            return
        existing = {s.code: s for s in Service.objects.all()}
        for line, row in rows:
            code = (row.get("code") or "").strip()
            if code in self.seen:
                result.reject(line, row, error("code", "repeated", repeated_message(self.seen[code])))
                continue
            self.seen[code] = line
            errors = Collector()
            if not code:
                errors.add("code", "required", _("This column is required."))
            name_es = (row.get("name_es") or "").strip()
            if not name_es:
                errors.add("name_es", "required", _("This column is required."))
            for name, allowed in (("sector", SECTORS), ("axis", AXES)):
                if row.get(name, "").strip() not in allowed:
                    errors.add(
                        name, "invalid_choice", _("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)}
                    )
            acceptance = parse_int(row.get("acceptance_days"), "acceptance_days", errors, 0, 365)
            attention = parse_int(row.get("attention_days"), "attention_days", errors, 0, 365)
            if errors.errors:
                result.reject(line, row, InputErrors(errors.errors).as_dict())
                continue
            values = {
                "name_es": name_es[:200],
                "name_en": (row.get("name_en") or name_es).strip()[:200],
                "sector": row["sector"].strip(),
                "axis": row["axis"].strip(),
                "universal": (row.get("universal") or "").strip().lower() in TRUE,
                "eligibility_es": (row.get("eligibility_es") or "").strip()[:300],
                "eligibility_en": (row.get("eligibility_en") or "").strip()[:300],
                "acceptance_days": acceptance if acceptance is not None else 5,
                "attention_days": attention if attention is not None else 30,
                "active": (row.get("active") or "true").strip().lower() in TRUE,
            }
            current = existing.get(code)
            if current is None:
                service = Service.objects.create(code=code, **values)
                record(actor, Action.CREATE, service, after=snapshot(service), note=batch_note(result))
                result.created += 1
                continue
            changed = [k for k, v in values.items() if getattr(current, k) != v]
            if not changed:
                result.unchanged += 1
                continue
            before = snapshot(current, changed)
            for k in changed:
                setattr(current, k, values[k])
            current.save()
            record(
                actor, Action.UPDATE, current, before=before, after=snapshot(current, changed), note=batch_note(result)
            )
            result.updated += 1


class ProviderImporter:
    """One row per organisation and service it offers: where and with what monthly capacity."""

    kind = "providers"
    columns = (
        "organisation_code",
        "organisation_name",
        "sector",
        "territory_code",
        "service_code",
        "territories",
        "monthly_capacity",
    )
    required = ("organisation_code", "organisation_name", "sector", "territory_code", "service_code", "territories")
    batch_size = 2000

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], int] = {}

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        if reject_all(rows, actor, result):
            return
        territories = {t.code: t for t in Territory.objects.all()}
        services = {s.code: s for s in Service.objects.all()}
        named = {(row.get("service_code") or "").strip() for _, row in rows}
        if named - set(services) & {s.code for s in conf.profile().services}:
            # The profile's catalogue, which a directory refers to, is stored on first use.
            actions.sync_services(actor)
            services = {s.code: s for s in Service.objects.all()}
        for line, row in rows:
            key = ((row.get("organisation_code") or "").strip(), (row.get("service_code") or "").strip())
            if key in self.seen:
                result.reject(line, row, error("service_code", "repeated", repeated_message(self.seen[key])))
                continue
            self.seen[key] = line
            errors = Collector()
            if not key[0]:
                errors.add("organisation_code", "required", _("This column is required."))
            if not (row.get("organisation_name") or "").strip():
                errors.add("organisation_name", "required", _("This column is required."))
            if row.get("sector", "").strip() not in Sector.values:
                errors.add(
                    "sector", "invalid_choice", _("Choose one of: %(choices)s.") % {"choices": ", ".join(Sector.values)}
                )
            seat = territories.get(row.get("territory_code", "").strip())
            if seat is None:
                errors.add(
                    "territory_code",
                    "unknown",
                    _("No territory has the code “%(code)s”.") % {"code": row.get("territory_code", "")},
                )
            service = services.get(key[1])
            if service is None:
                errors.add(
                    "service_code", "unknown", _("“%(code)s” is not a service of the catalogue.") % {"code": key[1]}
                )
            served = []
            for code in (row.get("territories") or "").replace(",", ";").split(";"):
                code = code.strip()
                if not code:
                    continue
                if code not in territories:
                    errors.add("territories", "unknown", _("No territory has the code “%(code)s”.") % {"code": code})
                    break
                served.append(territories[code])
            if not served and "territories" not in errors.errors:
                errors.add("territories", "required", _("List the territories served."))
            capacity = parse_int(row.get("monthly_capacity"), "monthly_capacity", errors, 0, 1_000_000)
            if errors.errors:
                result.reject(line, row, InputErrors(errors.errors).as_dict())
                continue
            assert seat is not None and service is not None
            organisation = Organisation.objects.filter(code=key[0]).first()
            if organisation is None:  # a new organisation, with the name, sector and seat given
                place = {
                    "code": key[0],
                    "name": row["organisation_name"].strip()[:200],
                    "sector": row["sector"].strip(),
                }
                save_place(actor, Organisation, "sector", place, seat.pk, None)
                organisation = Organisation.objects.get(code=key[0])
            current = (
                Provision.objects.filter(organisation=organisation, service=service)
                .prefetch_related("territories")
                .first()
            )
            if (
                current is not None
                and current.monthly_capacity == capacity
                and {t.pk for t in current.territories.all()} == {t.pk for t in served}
            ):
                result.unchanged += 1
                continue
            actions.save_provision(actor, organisation, service, served, capacity)
            if current is None:
                result.created += 1
            else:
                result.updated += 1


register("services")(ServiceImporter)
register("providers")(ProviderImporter)
