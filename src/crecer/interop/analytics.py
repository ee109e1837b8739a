"""Pseudonymised analytics export: the registry and its events as Parquet files.

Direct identifiers are left out (names, document numbers, registry numbers, external ids,
addresses, phone numbers, household codes, free text such as reasons, notes and details, and the
names of professionals). Every record id becomes a stable pseudonym: HMAC-SHA256 with a secret key
of ``"<entity>:<id>"``, truncated to 128 bits (32 hexadecimal characters), so a child has the same
pseudonym in every table and in every export made with the same key, and foreign keys join. The key
is never written to the export. Calendar dates (birth dates and event dates alike) are reduced to
the month (``YYYY-MM``): with exact event dates and ages in days a birth date could be recomputed.
Ages in days at each event and durations in days are kept. See ``docs/analytics.md``.

Streams: each table is read with ``values_list(...).iterator(chunk_size=...)`` and written in row
groups with ``pyarrow.parquet.ParquetWriter``; memory holds one row group at a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer import conf
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record
from crecer.territories.models import Territory

KEY_ENV = "CRECER_PSEUDONYM_KEY"
KEY_FILE = "pseudonym_key"
ROW_GROUP = 100_000
CHUNK = 5_000

# --- the key and the pseudonyms -----------------------------------------------------------------


def key_path() -> Path:
    return Path(settings.DATA_DIR) / KEY_FILE


def pseudonym_key() -> bytes:
    """The secret key: ``CRECER_PSEUDONYM_KEY``, else ``<DATA_DIR>/pseudonym_key`` (generated once)."""
    configured = os.environ.get(KEY_ENV)
    if configured:
        return configured.encode()
    path = key_path()
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


class Pseudonyms:
    """HMAC-SHA256 of ``"<entity>:<id>"`` under the key, first 16 bytes in hexadecimal.

    The HMAC is computed from precomputed inner and outer pads (RFC 2104): identical to
    ``hmac.digest(key, message, "sha256")``, about twice as fast for tens of millions of ids."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the pseudonym key is empty")
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def __call__(self, entity: str, pk: int | None) -> str | None:
        if pk is None:
            return None
        return self.digest(f"{entity}:{pk}".encode()).hex()[:32]

    @property
    def fingerprint(self) -> str:
        """Tells two exports made with the same key apart from others without revealing it."""
        return self.digest(b"crecer:pseudonym-key-fingerprint").hex()[:12]


# --- value helpers ------------------------------------------------------------------------------


def month(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return f"{value.year:04d}-{value.month:02d}"


def _day(value: dt.date | dt.datetime | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def age_days(on: dt.date | dt.datetime | None, birth: dt.date | None) -> int | None:
    day = _day(on)
    if day is None or birth is None:
        return None
    return (day - birth).days


def days_between(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 86400, 2)


def _json(value: Any) -> str | None:
    return None if value in (None, {}, []) else json.dumps(value, sort_keys=True, ensure_ascii=False)


# --- the tables ---------------------------------------------------------------------------------

S, I, F, B = pa.string(), pa.int32(), pa.float64(), pa.bool_()


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    model: str
    fields: tuple[str, ...]
    columns: tuple[tuple[str, pa.DataType], ...]
    row: Callable[[Pseudonyms, tuple[Any, ...]], tuple[Any, ...]]
    where: Callable[[str], Q]
    base: Q

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(name, kind) for name, kind in self.columns])


def _in(prefix: str, *paths: str) -> Q:
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{path}__path__startswith": prefix})
    return condition


def _child_ok(field: str = "child") -> Q:
    """Events of voided children (registered in error) are left out with the child."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__voided_at__isnull": True})


def _children(p: Pseudonyms, r: tuple[Any, ...]) -> tuple[Any, ...]:
    pk, sex, birth, territory, facility, household, pregnancy, weight, weeks, doc_type, doc, created = r
    return (
        p("child", pk),
        sex or None,
        month(birth),
        territory,
        facility,
        p("household", household),
        p("pregnancy", pregnancy),
        weight,
        weeks,
        doc_type or None,
        bool(doc),
        month(created),
    )


def _caregivers(p: Pseudonyms, r: tuple[Any, ...]) -> tuple[Any, ...]:
    pk, sex, birth, territory, household, schooling, doc_type, doc, phone = r
    return (
        p("caregiver", pk),
        sex or None,
        month(birth),
        territory,
        p("household", household),
        schooling,
        doc_type or None,
        bool(doc),
        bool(phone),
    )


def _links(p: Pseudonyms, r: tuple[Any, ...]) -> tuple[Any, ...]:
    _pk, child, caregiver, relationship = r
    return (p("child", child), p("caregiver", caregiver), relationship)


def _households(p: Pseudonyms, r: tuple[Any, ...]) -> tuple[Any, ...]:
    pk, territory, percentile = r
    return (p("household", pk), territory, percentile)


def _pregnancies(p: Pseudonyms, r: tuple[Any, ...]) -> tuple[Any, ...]:
    pk, mother, lmp, edd, first, week, facility, outcome, outcome_date = r
    return (
        p("pregnancy", pk),
        p("caregiver", mother),
        month(lmp),
        month(edd),
        month(first),
        week,
        facility,
        outcome,
        month(outcome_date),
    )


def _encounters(p: Pseudonyms, r: tuple[Any, ...]) -> tuple[Any, ...]:
    pk, child, pregnancy, kind, contact, date, birth, weeks, facility, professional = r
    return (
        p("encounter", pk),
        p("child", child),
        p("pregnancy", pregnancy),
        kind,
        contact or None,
        month(date),
        age_days(date, birth) if child is not None else None,
        weeks,
        facility,
        p("user", professional),
    )


#: The stored measurement values, in column order (names and kinds, as for :func:`_columns`).
MEASUREMENT_SPEC = (
    "weight_kg:f length_cm:f position:s head_cm:f muac_cm:f oedema:b haemoglobin_g_l:f z_wfa:f z_lhfa:f z_wflh:f"
    " z_bmi:f z_hcfa:f z_acfa:f implausible:s stunting:i underweight:i wasting:i overweight:i bmi_5_19:i anaemia:b"
    " is_current:b"
)
MEASUREMENT_FIELDS = " ".join(item.split(":")[0] for item in MEASUREMENT_SPEC.split())


def _measurements(p: Pseudonyms, r: tuple[Any, ...]) -> tuple[Any, ...]:
    pk, encounter, child, measured_on, age, *values, supersedes = r
    values[2] = values[2] or None  # position
    values[13] = ",".join(values[13]) if values[13] else None  # implausible indicators
    return (
        p("measurement", pk),
        p("encounter", encounter),
        p("child", child),
        month(measured_on),
        age,
        *values,
        p("measurement", supersedes),
    )


def _screenings(p: Pseudonyms, r: tuple[Any, ...]) -> tuple[Any, ...]:
    (
        pk,
        encounter,
        child,
        caregiver,
        pregnancy,
        instrument,
        version,
        applied_on,
        age,
        score,
        classification,
        urgent,
        category,
        subscores,
        subclasses,
        current,
        supersedes,
    ) = r
    return (
        p("screening", pk),
        p("encounter", encounter),
        p("child", child),
        p("caregiver", caregiver),
        p("pregnancy", pregnancy),
        instrument,
        version,
        month(applied_on),
        age,
        score,
        classification,
        urgent,
        category,
        _json(subscores),
        _json(subclasses),
        current,
        p("screening", supersedes),
    )


def _deliveries(p: Pseudonyms, r: tuple[Any, ...]) -> tuple[Any, ...]:
    pk, service, child, caregiver, encounter, delivered_on, birth, facility = r
    return (
        p("delivery", pk),
        service,
        p("child", child),
        p("caregiver", caregiver),
        p("encounter", encounter),
        month(delivered_on),
        age_days(delivered_on, birth),
        facility,
    )


def _referrals(p: Pseudonyms, r: tuple[Any, ...]) -> tuple[Any, ...]:
    (
        pk,
        child,
        pregnancy,
        birth,
        service,
        organisation,
        flag,
        territory,
        priority,
        consent,
        state,
        created,
        sent,
        accepted,
        started,
        finished,
        closed,
        overdue,
        not_completed,
        counter,
        facility,
    ) = r
    return (
        p("referral", pk),
        p("child", child),
        p("pregnancy", pregnancy),
        service,
        organisation,
        p("flag", flag),
        territory,
        priority,
        _json(sorted(consent or [])),
        state,
        month(created),
        month(sent),
        age_days(created, birth),
        days_between(sent, accepted),
        days_between(sent, started),
        days_between(sent, finished),
        days_between(sent, closed),
        overdue is not None,
        not_completed or None,
        (counter or {}).get("outcome"),
        facility,
    )


def _flags(p: Pseudonyms, r: tuple[Any, ...]) -> tuple[Any, ...]:
    (
        pk,
        child,
        pregnancy,
        birth,
        rule,
        version,
        category,
        axis,
        severity,
        data_category,
        status,
        raised,
        resolved,
        resolution,
    ) = r
    return (
        p("flag", pk),
        p("child", child),
        p("pregnancy", pregnancy),
        rule,
        version,
        category,
        axis,
        severity,
        data_category,
        status,
        month(raised),
        month(resolved),
        days_between(raised, resolved),
        age_days(raised, birth),
        resolution or None,
    )


def _members(p: Pseudonyms, r: tuple[Any, ...]) -> tuple[Any, ...]:
    pk, group, service, facility, start, planned, caregiver, child, attended, completed = r
    return (
        p("member", pk),
        p("group", group),
        service,
        facility,
        month(start),
        planned,
        p("caregiver", caregiver),
        p("child", child),
        attended,
        month(completed),
    )


def _columns(spec: str) -> tuple[tuple[str, pa.DataType], ...]:
    """``"child:s age_days:i"`` -> ((name, arrow type), ...): s string, i int32, f float64, b bool."""
    kinds = {"s": S, "i": I, "f": F, "b": B}
    return tuple((name, kinds[kind]) for name, kind in (item.split(":") for item in spec.split()))


def _table(
    name: str,
    description: str,
    model: str,
    fields: str,
    columns: str,
    row: Callable[[Pseudonyms, tuple[Any, ...]], tuple[Any, ...]],
    where: Callable[[str], Q],
    base: Q | None = None,
) -> Table:
    return Table(name, description, model, tuple(fields.split()), _columns(columns), row, where, base or Q())


TABLES: tuple[Table, ...] = (
    _table(
        "children",
        "children (also unborn), one row each",
        "registry.Child",
        "pk sex birth_date territory__code facility__code household_id pregnancy_id birth_weight_g gestational_weeks"
        " national_id_type national_id created_at",
        "child:s sex:s birth_month:s territory_code:s facility_code:s household:s pregnancy:s birth_weight_g:i"
        " gestational_weeks:i document_type:s has_document:b registered_month:s",
        _children,
        lambda path: _in(path, "territory"),
        Q(voided_at__isnull=True),
    ),
    _table(
        "caregivers",
        "mothers, fathers, guardians and other caregivers",
        "registry.Caregiver",
        "pk sex birth_date territory__code household_id schooling_years national_id_type national_id phone",
        "caregiver:s sex:s birth_month:s territory_code:s household:s schooling_years:i document_type:s"
        " has_document:b has_phone:b",
        _caregivers,
        lambda path: _in(path, "territory") | Q(child_links__child__territory__path__startswith=path),
        Q(voided_at__isnull=True),
    ),
    _table(
        "caregiver_links",
        "who cares for which child, and as what",
        "registry.CaregiverLink",
        "pk child_id caregiver_id relationship",
        "child:s caregiver:s relationship:s",
        _links,
        lambda path: _in(path, "child__territory"),
        Q(child__voided_at__isnull=True, caregiver__voided_at__isnull=True),
    ),
    _table(
        "households",
        "households with their social-vulnerability percentile",
        "registry.Household",
        "pk territory__code vulnerability_percentile",
        "household:s territory_code:s vulnerability_percentile:i",
        _households,
        lambda path: _in(path, "territory"),
    ),
    _table(
        "pregnancies",
        "pregnancies and their outcome",
        "registry.Pregnancy",
        "pk mother_id lmp_date edd_date first_visit_date first_visit_week facility__code outcome outcome_date",
        "pregnancy:s mother:s lmp_month:s edd_month:s first_visit_month:s first_visit_week:i facility_code:s"
        " outcome:s outcome_month:s",
        _pregnancies,
        lambda path: _in(path, "mother__territory"),
    ),
    _table(
        "encounters",
        "check-ups, prenatal contacts, nutrition consultations and home visits",
        "tracking.Encounter",
        "pk child_id pregnancy_id kind contact_code date child__birth_date gestational_weeks facility__code"
        " professional_id",
        "encounter:s child:s pregnancy:s kind:s contact_code:s month:s age_days:i gestational_weeks:i"
        " facility_code:s professional:s",
        _encounters,
        lambda path: _in(path, "child__territory", "pregnancy__mother__territory"),
        Q(voided_at__isnull=True) & _child_ok(),
    ),
    _table(
        "measurements",
        "anthropometry and haemoglobin with WHO z-scores (corrected values keep their history)",
        "tracking.Measurement",
        f"pk encounter_id child_id measured_on age_days {MEASUREMENT_FIELDS} supersedes_id",
        f"measurement:s encounter:s child:s month:s age_days:i {MEASUREMENT_SPEC} supersedes:s",
        _measurements,
        lambda path: _in(path, "child__territory"),
        Q(child__voided_at__isnull=True, encounter__voided_at__isnull=True),
    ),
    _table(
        "screenings",
        "developmental and psychosocial screenings with score and result",
        "tracking.Screening",
        "pk encounter_id child_id caregiver_id pregnancy_id instrument instrument_version applied_on age_days score"
        " classification urgent data_category subscores sub_classifications is_current supersedes_id",
        "screening:s encounter:s child:s caregiver:s pregnancy:s instrument:s instrument_version:s month:s"
        " age_days:i score:f classification:s urgent:b data_category:s subscores:s sub_classifications:s"
        " is_current:b supersedes:s",
        _screenings,
        lambda path: _in(path, "child__territory", "pregnancy__mother__territory"),
        _child_ok(),
    ),
    _table(
        "deliveries",
        "services delivered (kits, home visits, stimulation sessions, enrolments…)",
        "tracking.Delivery",
        "pk service_code child_id caregiver_id encounter_id delivered_on child__birth_date facility__code",
        "delivery:s service_code:s child:s caregiver:s encounter:s month:s age_days:i facility_code:s",
        _deliveries,
        lambda path: _in(path, "child__territory", "caregiver__territory"),
        Q(voided_at__isnull=True) & _child_ok(),
    ),
    _table(
        "referrals",
        "referrals across sectors: service, provider, state and durations in days from sending",
        "referrals.Referral",
        "pk child_id pregnancy_id child__birth_date service__code organisation__code flag_id territory__code priority"
        " consent state created_at sent_at accepted_at started_at finished_at closed_at overdue_at"
        " not_completed_reason counter_referral sender_facility__code",
        "referral:s child:s pregnancy:s service_code:s organisation_code:s flag:s territory_code:s priority:s"
        " consent:s state:s created_month:s sent_month:s age_days:i days_to_accept:f days_to_start:f"
        " days_to_finish:f days_to_close:f overdue:b not_completed_reason:s counter_referral_outcome:s"
        " sender_facility_code:s",
        _referrals,
        lambda path: _in(path, "territory"),
        _child_ok(),
    ),
    _table(
        "risk_flags",
        "risk flags raised by the profile's rules, open or resolved",
        "risks.RiskFlag",
        "pk child_id pregnancy_id child__birth_date rule_id rule_version category axis severity data_category status"
        " raised_at resolved_at resolution",
        "flag:s child:s pregnancy:s rule_id:s rule_version:i category:s axis:s severity:s data_category:s status:s"
        " raised_month:s resolved_month:s days_open:f age_days:i resolution:s",
        _flags,
        lambda path: _in(path, "child__territory", "pregnancy__mother__territory"),
        _child_ok(),
    ),
    _table(
        "group_members",
        "caregivers (and children) in parenting groups, with attendance and completion",
        "tracking.GroupMember",
        "pk group_id group__service_code group__facility__code group__start_date group__planned_sessions"
        " caregiver_id child_id sessions_attended completed_on",
        "member:s group:s service_code:s facility_code:s group_start_month:s planned_sessions:i caregiver:s child:s"
        " sessions_attended:i completed_month:s",
        _members,
        lambda path: _in(path, "caregiver__territory", "child__territory"),
        Q(caregiver__voided_at__isnull=True) & _child_ok(),
    ),
)

#: Identifying or free-text columns of the source tables that no table carries.
REMOVED = (
    "given names and surnames",
    "identity document numbers (only the document type and whether there is one)",
    "registry numbers and external ids",
    "addresses, household codes and phone numbers",
    "exact birth dates and event dates (reduced to the month)",
    "free text: referral reasons, rejection reasons, counter-referral follow-up, case notes, delivery details,"
    " correction and void reasons",
    "names of professionals and facilitators (professionals appear as pseudonyms)",
    "screening answers (item by item) and details",
)


def queryset(table: Table, territory: Territory | None) -> QuerySet[Any]:
    from django.apps import apps

    model = apps.get_model(table.model)
    rows = model.unscoped if hasattr(model, "unscoped") else model._default_manager
    qs = rows.filter(table.base)
    if territory is not None:
        qs = qs.filter(pk__in=rows.filter(table.where(territory.path)).values("pk"))
    return qs


@dataclass
class TableResult:
    name: str
    file: str
    rows: int
    columns: list[str]


def write_table(
    table: Table,
    path: Path,
    pseudonyms: Pseudonyms,
    territory: Territory | None,
    progress: Callable[[int, int | None], None] | None = None,
    row_group: int = ROW_GROUP,
) -> TableResult:
    schema = table.schema
    qs = queryset(table, territory)
    total = qs.count()
    columns: list[list[Any]] = [[] for _ in table.columns]
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:

        def flush() -> None:
            arrays = [pa.array(values, type=f.type) for values, f in zip(columns, schema, strict=True)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=row_group)
            for values in columns:
                values.clear()

        for raw in qs.order_by("pk").values_list(*table.fields).iterator(chunk_size=CHUNK):
            for values, value in zip(columns, table.row(pseudonyms, raw), strict=True):
                values.append(value)
            rows += 1
            if rows % row_group == 0:
                flush()
                if progress is not None:
                    progress(rows, total)
        if columns[0] or rows == 0:
            flush()
    if progress is not None:
        progress(rows, total)
    return TableResult(table.name, path.name, rows, [name for name, _t in table.columns])


@dataclass
class AnalyticsResult:
    tables: list[TableResult]
    seconds: float
    fingerprint: str


def export(
    actor: Actor,
    out_dir: Path,
    territory: Territory | None = None,
    *,
    progress: Callable[[str], Any] | None = None,
    tables: Sequence[Table] = TABLES,
    row_group: int = ROW_GROUP,
) -> AnalyticsResult:
    """Write every table to ``out_dir`` (``<table>.parquet``, ``manifest.json``, ``README.txt``).

    ``progress(label)`` returns a context manager yielding ``update(done, total)`` (see
    :func:`crecer.core.progress.progress_bar`). Raises ValueError if the key file would land in
    the export."""
    started = time.perf_counter()
    out_dir = out_dir.resolve()
    if not os.environ.get(KEY_ENV) and key_path().resolve().is_relative_to(out_dir):
        raise ValueError(
            _("The pseudonym key (%(path)s) would be inside the export folder; choose another folder.")
            % {"path": key_path()}
        )
    pseudonyms = Pseudonyms(pseudonym_key())
    out_dir.mkdir(parents=True, exist_ok=True)
    results: list[TableResult] = []
    complete = False
    try:
        for table in tables:
            path = out_dir / f"{table.name}.parquet"
            if progress is None:
                results.append(write_table(table, path, pseudonyms, territory, None, row_group))
            else:
                with progress(table.name) as update:
                    results.append(write_table(table, path, pseudonyms, territory, update, row_group))
        _write_manifest(out_dir, results, territory, pseudonyms.fingerprint)
        complete = True
    finally:
        with transaction.atomic():
            record(
                actor,
                Action.EXPORT,
                entity="interop.analytics",
                note=f"pseudonymised analytics {territory.code if territory else 'all'}",
                after={
                    "format": "parquet",
                    "pseudonymised": True,
                    "territory": territory.code if territory else None,
                    "tables": {r.name: r.rows for r in results},
                    "key_fingerprint": pseudonyms.fingerprint,
                    "complete": complete,
                },
            )
    return AnalyticsResult(results, time.perf_counter() - started, pseudonyms.fingerprint)


def _write_manifest(out_dir: Path, results: list[TableResult], territory: Territory | None, fingerprint: str) -> None:
    descriptions = {t.name: t.description for t in TABLES}
    manifest = {
        "pseudonymised": True,
        "created_at": timezone.localtime().isoformat(timespec="seconds"),
        "profile": conf.profile().id,
        "territory": territory.code if territory else None,
        "pseudonyms": (
            "HMAC-SHA256 of '<entity>:<record id>' with a secret key, first 128 bits in hexadecimal; "
            "the same record has the same pseudonym in every table and in every export made with the same key"
        ),
        "key_included": False,
        "key_fingerprint": fingerprint,
        "dates": "birth dates and event dates are reduced to the month (YYYY-MM); ages in days and durations are kept",
        "removed": list(REMOVED),
        "tables": {
            r.name: {"file": r.file, "rows": r.rows, "description": descriptions.get(r.name, ""), "columns": r.columns}
            for r in results
        },
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    lines = [
        "Crecer analytics export - PSEUDONYMISED DATA",
        "",
        "Names, identity document numbers, registry numbers, external ids, addresses, phone numbers and",
        "free text are not included. Every record id is replaced by a pseudonym: HMAC-SHA256 of",
        "'<entity>:<id>' with a secret key (first 128 bits, hexadecimal). The key is NOT included in this",
        "export; without it pseudonyms cannot be reversed or recomputed. The same key gives the same",
        f"pseudonyms in every export (key fingerprint: {fingerprint}).",
        "",
        "Birth dates and event dates are reduced to the month (YYYY-MM); ages in days at each event and",
        "durations in days are kept. Pseudonymised data are still personal data: keep them under the same",
        "rules, and do not try to re-identify anyone.",
        "",
        f"Territory: {territory.code if territory else 'whole country'}",
        "",
        "Tables (Parquet):",
        *(f"  {r.file:28} {r.rows:>12,} rows  {descriptions.get(r.name, '')}" for r in results),
        "",
        "Columns of each table: manifest.json.",
    ]
    (out_dir / "README.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
