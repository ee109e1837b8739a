"""Writes of money on results: agreements (one, or one per municipality of a region), signing, evaluating a
tranche, appeals and their decision, incentive distributions and award results. Each checks the right and
the territory, validates with field errors, and writes its change with its audit event in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer.access import permissions
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, record_many, snapshot
from crecer.lib import results as money
from crecer.lib.periods import PeriodError
from crecer.lib.periods import parse as parse_period
from crecer.monitoring import snapshots as monitoring_snapshots
from crecer.registry.models import Child
from crecer.results import evaluation, files
from crecer.results.models import (
    Agreement,
    AgreementState,
    Appeal,
    AppealState,
    Condition,
    ConditionRule,
    Evaluation,
    PartyKind,
    PaymentRule,
    Tranche,
)
from crecer.territories.models import Organisation, Territory
from crecer.validation import Collector

PARTY_LEVEL_DEPTH = {PartyKind.REGION: 1}


# --- checks ----------------------------------------------------------------------------------------------


def check_manage(user: Any, territory: Territory) -> None:
    """Raise unless ``user`` may manage results of ``territory`` (managers, their territory and below)."""
    if not permissions.has(user, permissions.MANAGE_RESULTS):
        raise PermissionDenied(_("Your role cannot manage agreements, incentives or awards."))
    if not permissions.within(user, territory.path):
        raise PermissionDenied(_("This territory is outside the one you work in."))


def clean_cents(raw: Any, field: str, errors: Collector, *, required: bool = True) -> int | None:
    """An amount in currency units ("1500000", "1500000.50") as whole cents; refuses more than 2 decimals."""
    if raw is None or str(raw).strip() == "":
        if required:
            errors.add(field, "required", _("This field is required."))
        return None
    try:
        value = Decimal(str(raw).strip().replace(" ", ""))
    except InvalidOperation:
        errors.add(field, "invalid", _("Write an amount such as 1500000 or 1500000.50."))
        return None
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
        errors.add(field, "invalid", _("Write a positive amount with at most two decimals."))
        return None
    return int(value * 100)


def _decimal(raw: Any, field: str, errors: Collector, low: Decimal, high: Decimal) -> Decimal | None:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, AttributeError):
        errors.add(field, "invalid", _("Write a number."))
        return None
    if not value.is_finite() or not low <= value <= high:
        errors.add(field, "out_of_range", _("Write a number from %(low)s to %(high)s.") % {"low": low, "high": high})
        return None
    return value


def _period(raw: Any, field: str, errors: Collector, kind: str | None = None) -> str:
    try:
        period = parse_period(str(raw or ""))
    except PeriodError:
        errors.add(field, "invalid", _("Use a year (2025), a quarter (2025-Q2) or a month (2025-07)."))
        return ""
    if kind and period.kind != kind:
        errors.add(field, "invalid", _("Use a month (2025-07)."))
    return period.code


def clean_conditions(
    raw_list: Any, default_territory: Territory | None, errors: Collector, prefix: str, *, with_territory: bool = True
) -> list[dict[str, Any]]:
    """Conditions: indicator, territory_code (default: the party's), rule, period or months (+ k), points,
    baseline, target, weight. Problems go to ``errors`` under ``prefix.i.field``."""
    out: list[dict[str, Any]] = []
    if not isinstance(raw_list, list) or not raw_list:
        errors.add(f"{prefix}", "required", _("Give at least one condition."))
        return out
    codes = {str(r.get("territory_code")) for r in raw_list if isinstance(r, dict) and r.get("territory_code")}
    territories = {t.code: t for t in Territory.objects.filter(code__in=codes)}
    for i, raw in enumerate(raw_list):
        at = f"{prefix}.{i}"
        if not isinstance(raw, dict):
            errors.add(at, "invalid", _("A condition is a set of fields."))
            continue
        indicator = str(raw.get("indicator") or "").strip()
        if not evaluation.indicator_known(indicator):
            errors.add(f"{at}.indicator", "unknown", _("Unknown indicator “%(code)s”.") % {"code": indicator})
        territory = default_territory
        if with_territory and raw.get("territory_code"):
            territory = territories.get(str(raw["territory_code"]))
            if territory is None:
                errors.add(f"{at}.territory_code", "unknown", _("Unknown territory."))
        rule = str(raw.get("rule") or ConditionRule.AT_PERIOD_END)
        if not evaluation.rule_known(rule):
            errors.add(f"{at}.rule", "unknown", _("Unknown rule “%(rule)s”.") % {"rule": rule})
        params: dict[str, Any] = dict(raw.get("params") or {})
        period = ""
        if evaluation.reads_months(rule):
            months = raw.get("months") or params.get("months") or []
            if not isinstance(months, list) or not months:
                errors.add(f"{at}.months", "required", _("List the months the target must be met in."))
                months = []
            params["months"] = sorted({_period(m, f"{at}.months", errors, "month") for m in months} - {""})
            k = raw.get("k", params.get("k", len(params["months"])))
            try:
                params["k"] = int(k)
                if not 1 <= params["k"] <= max(1, len(params["months"])):
                    raise ValueError
            except (TypeError, ValueError):
                errors.add(f"{at}.k", "invalid", _("k is a whole number from 1 to the number of months."))
        else:
            period = _period(raw.get("period"), f"{at}.period", errors)
        if evaluation.needs_points(rule):
            points = _decimal(
                raw.get("points", params.get("points")), f"{at}.points", errors, Decimal("0.0001"), Decimal(10**6)
            )
            if points is not None:
                params["points"] = str(points)
        values = {}
        for name, low in (("baseline", Decimal(0)), ("target", Decimal(0)), ("weight", Decimal("0.0001"))):
            default = "1" if name == "weight" else None
            raw_value = raw.get(name, default)
            if raw_value is None:
                errors.add(f"{at}.{name}", "required", _("This field is required."))
                continue
            values[name] = _decimal(raw_value, f"{at}.{name}", errors, low, Decimal(10**9))
        out.append(
            {"indicator": indicator, "territory": territory, "rule": rule, "period": period, "params": params, **values}
        )
    return out


def clean_agreement(raw: Mapping[str, Any], errors: Collector) -> dict[str, Any]:
    """An agreement with its tranches and conditions; every problem goes to ``errors`` by field."""
    code = str(raw.get("code") or "").strip()
    if not code:
        errors.add("code", "required", _("This field is required."))
    elif Agreement.objects.filter(code=code).exists():
        errors.add("code", "taken", _("Another agreement has this code."))
    party = str(raw.get("party_kind") or PartyKind.MUNICIPALITY)
    if party not in PartyKind.values:
        errors.add("party_kind", "invalid", _("Choose a municipality, a region or an organisation."))
    organisation = None
    territory = None
    if party == PartyKind.ORGANISATION:
        organisation = (
            Organisation.objects.select_related("territory").filter(code=raw.get("organisation_code")).first()
        )
        if organisation is None:
            errors.add("organisation_code", "unknown", _("Unknown organisation."))
        else:
            territory = organisation.territory
    else:
        territory = Territory.objects.filter(code=str(raw.get("territory_code") or "")).first()
        if territory is None:
            errors.add("territory_code", "unknown", _("Unknown territory."))
    period = _period(raw.get("period"), "period", errors)
    total = clean_cents(raw.get("total"), "total", errors)
    currency = str(raw.get("currency") or "CLP").upper()
    if len(currency) != 3 or not currency.isalpha():
        errors.add("currency", "invalid", _("Use a three-letter currency code (CLP, PEN, USD)."))
    tranches = []
    raw_tranches = raw.get("tranches")
    if not isinstance(raw_tranches, list) or not raw_tranches:
        errors.add("tranches", "required", _("Give at least one tranche."))
        raw_tranches = []
    numbers = set()
    for i, t in enumerate(raw_tranches):
        at = f"tranches.{i}"
        if not isinstance(t, dict):
            errors.add(at, "invalid", _("A tranche is a set of fields."))
            continue
        number = t.get("number", i + 1)
        if not isinstance(number, int) or number < 1 or number in numbers:
            errors.add(f"{at}.number", "invalid", _("Number the tranches 1, 2, 3… once each."))
        numbers.add(number)
        share = _decimal(t.get("share"), f"{at}.share", errors, Decimal("0.0001"), Decimal(100))
        try:
            due = dt.date.fromisoformat(str(t.get("due_date") or ""))
        except ValueError:
            errors.add(f"{at}.due_date", "invalid", _("Write a date as YYYY-MM-DD."))
            due = None
        rule = str(t.get("payment_rule") or "")
        if rule not in PaymentRule.values:
            errors.add(f"{at}.payment_rule", "invalid", _("Choose all or nothing, proportional or threshold."))
        floor = None
        if rule == PaymentRule.THRESHOLD:
            floor = _decimal(t.get("floor"), f"{at}.floor", errors, Decimal(0), Decimal(1))
        conditions = clean_conditions(t.get("conditions"), territory, errors, f"{at}.conditions")
        tranches.append(
            {
                "number": number,
                "share": share,
                "due_date": due,
                "payment_rule": rule,
                "floor": floor,
                "conditions": conditions,
            }
        )
    shares = [t["share"] for t in tranches if t["share"] is not None]
    if tranches and len(shares) == len(tranches) and sum(shares) != 100:
        errors.add("tranches", "shares", _("The tranches' shares must add up to 100 %."))
    return {
        "code": code,
        "name": str(raw.get("name") or code).strip()[:200],
        "party_kind": party,
        "territory": territory,
        "organisation": organisation,
        "period": period,
        "total_cents": total,
        "currency": currency,
        "tranches": tranches,
    }


def _tranche_amounts(total: int, tranches: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """Each tranche's amount: the total split by the shares so the amounts add up to it exactly."""
    return {
        int(k): v for k, v in money.split(total, {str(t["number"]): Fraction(t["share"]) for t in tranches}).items()
    }


def _write_agreement(
    actor: Actor, cleaned: Mapping[str, Any], batch: str = "", formula: dict[str, Any] | None = None
) -> Agreement:
    agreement = Agreement.objects.create(
        code=cleaned["code"],
        name=cleaned["name"],
        party_kind=cleaned["party_kind"],
        territory=cleaned["territory"],
        organisation=cleaned["organisation"],
        period=cleaned["period"],
        total_cents=cleaned["total_cents"],
        currency=cleaned["currency"],
        batch=batch,
        formula=formula or {},
        created_by=actor.user,
    )
    amounts = _tranche_amounts(cleaned["total_cents"], cleaned["tranches"])
    for t in cleaned["tranches"]:
        tranche = Tranche.objects.create(
            agreement=agreement,
            number=t["number"],
            share=t["share"],
            amount_cents=amounts[t["number"]],
            due_date=t["due_date"],
            payment_rule=t["payment_rule"],
            floor=t["floor"],
        )
        Condition.objects.bulk_create(
            Condition(
                tranche=tranche,
                indicator=c["indicator"],
                territory=c["territory"] or agreement.territory,
                rule=c["rule"],
                period=c["period"],
                baseline=c["baseline"],
                target=c["target"],
                weight=c["weight"],
                params=c["params"],
            )
            for c in t["conditions"]
        )
    record(
        actor,
        Action.CREATE,
        agreement,
        after={
            **snapshot(agreement),
            "tranches": [
                {
                    k: (str(v) if k in ("share", "floor", "due_date") and v is not None else v)
                    for k, v in t.items()
                    if k != "conditions"
                }
                | {"conditions": len(t["conditions"])}
                for t in cleaned["tranches"]
            ],
        },
    )
    return agreement


def create_agreement(actor: Actor, raw: Mapping[str, Any]) -> Agreement:
    errors = Collector()
    cleaned = clean_agreement(raw, errors)
    errors.raise_if_any()
    check_manage(actor.user, cleaned["territory"])
    with transaction.atomic():
        return _write_agreement(actor, cleaned)


def children_by_municipality(municipalities: Sequence[Territory]) -> dict[int, int]:
    """Children of the registry (not voided) living in each municipality or below it (one query)."""
    counts: dict[int, int] = dict.fromkeys((m.pk for m in municipalities), 0)
    by_path = sorted(municipalities, key=lambda m: len(m.path), reverse=True)
    rows = (
        Child.unscoped.filter(voided_at__isnull=True, territory__path__startswith=_common_prefix(municipalities))
        .values("territory__path")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        for m in by_path:
            if row["territory__path"].startswith(m.path):
                counts[m.pk] += row["n"]
                break
    return counts


def _common_prefix(territories: Sequence[Territory]) -> str:
    paths = [t.path for t in territories]
    if not paths:
        return "\x00"
    prefix = paths[0]
    for p in paths[1:]:
        while not p.startswith(prefix):
            prefix = prefix[: prefix.rstrip("/").rfind("/") + 1]
    return prefix


def create_for_region(
    actor: Actor, region_code: str, raw: Mapping[str, Any], base: Any, per_child: Any
) -> list[Agreement]:
    """The same agreement for every municipality of a region at once: code ``{code}-{municipality}``,
    total = base + per child × children of the registry living there (:func:`crecer.lib.results.formula_amount`).
    ``raw`` is an agreement without party or total; its conditions apply to each municipality."""
    errors = Collector()
    region = Territory.objects.filter(code=region_code).first()
    if region is None:
        errors.add("region_code", "unknown", _("Unknown territory."))
    base_cents = clean_cents(base, "base", errors)
    per_child_cents = clean_cents(per_child, "per_child", errors)
    errors.raise_if_any()
    assert region is not None and base_cents is not None and per_child_cents is not None
    check_manage(actor.user, region)
    level = _municipality_level()
    municipalities = list(Territory.objects.filter(path__startswith=region.path, level=level).order_by("code"))
    if not municipalities:
        errors.add("region_code", "no_municipalities", _("This territory has no municipalities."))
        errors.raise_if_any()
    counts = children_by_municipality(municipalities)
    prefix = str(raw.get("code") or "").strip()
    cleaned_all = []
    for m in municipalities:
        total = money.formula_amount(base_cents, per_child_cents, counts[m.pk])
        one = {
            **raw,
            "code": f"{prefix}-{m.code}",
            "name": f"{raw.get('name') or prefix} — {m.name}",
            "party_kind": PartyKind.MUNICIPALITY,
            "territory_code": m.code,
            "total": Decimal(total) / 100,
        }
        cleaned = clean_agreement(one, errors)
        for t in cleaned["tranches"]:
            for c in t["conditions"]:
                c["territory"] = m  # each municipality is measured on its own figures
        cleaned_all.append((cleaned, counts[m.pk]))
        if errors.errors:
            break
    errors.raise_if_any()
    with transaction.atomic():
        return [
            _write_agreement(
                actor,
                cleaned,
                batch=f"{prefix}@{region.code}",
                formula={"base_cents": base_cents, "per_child_cents": per_child_cents, "children": children},
            )
            for cleaned, children in cleaned_all
        ]


def _municipality_level() -> str:
    from crecer import conf

    # the lowest level of the profile's tree: where people live (a municipality, a district)
    return conf.profile().territory_levels[-1].key


# --- states --------------------------------------------------------------------------------------------

TRANSITIONS = {
    "sign": (AgreementState.DRAFT, AgreementState.SIGNED),
    "start": (AgreementState.SIGNED, AgreementState.IN_EXECUTION),
    "close": (AgreementState.IN_EXECUTION, AgreementState.CLOSED),
}


def transition(actor: Actor, agreement: Agreement, step: str) -> Agreement:
    """draft → signed → in execution → closed, one step at a time, audited."""
    check_manage(actor.user, agreement.territory)
    source, target = TRANSITIONS[step]
    with transaction.atomic():
        current = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if current.state != source:
            errors = Collector()
            errors.add(
                "state", "invalid_state", _("This agreement is %(state)s.") % {"state": current.get_state_display()}
            )
            errors.raise_if_any()
        current.state = target
        if step == "sign":
            current.signed_at = timezone.now()
            current.signed_by = actor.user
        current.save()
        record(actor, Action.UPDATE, current, before={"state": source}, after={"state": target}, note=step)
    return current


def sign(actor: Actor, agreement: Agreement) -> Agreement:
    return transition(actor, agreement, "sign")


def attach_report(actor: Actor, agreement: Agreement, title: str, file: Any) -> Any:
    from crecer.results.models import TechnicalReport

    check_manage(actor.user, agreement.territory)
    errors = Collector()
    if not title.strip():
        errors.add("title", "required", _("This field is required."))
    files.check(file, errors)
    errors.raise_if_any()
    stored = files.store(file)
    with transaction.atomic():
        report = TechnicalReport.objects.create(
            agreement=agreement,
            title=title.strip()[:200],
            original_name=stored.original_name,
            stored_name=stored.stored_name,
            size=stored.size,
            sha256=stored.sha256,
            uploaded_by=actor.user,
        )
        record(actor, Action.CREATE, report, after=snapshot(report, ["agreement", "title", "original_name", "sha256"]))
    return report


# --- evaluating -----------------------------------------------------------------------------------------


def _build_evaluation(
    actor: Actor,
    tranche: Tranche,
    version: int,
    specs: list[evaluation.ConditionSpec],
    found: dict[str, Any],
    figures: evaluation.Figures,
    reason: str,
    appeal: Appeal | None,
) -> tuple[Evaluation, dict[str, Any]]:
    """The evaluation's row (not yet saved) and what its audit event says."""
    computed = evaluation.compute(tranche.amount_cents, tranche.payment_rule, tranche.floor, specs, found, figures)
    result = computed.result
    item = Evaluation(
        tranche=tranche,
        version=version,
        snapshots=computed.snapshots,
        definitions=computed.definitions,
        conditions=computed.entries,
        weighted_compliance=str(result.weighted_compliance),
        weighted_display=Decimal(money.decimal_text(result.weighted_compliance)),
        amount_cents=result.amount,
        reason=reason[:500],
        appeal=appeal,
        created_by=actor.user,
    )
    after = {
        "agreement": tranche.agreement.code,
        "tranche": tranche.number,
        "version": version,
        "snapshots": computed.snapshots,
        "weighted_compliance": item.weighted_compliance,
        "amount_cents": item.amount_cents,
    }
    return item, after


def _note(reason: str, version: int) -> str:
    return reason[:300] or ("re-evaluation" if version > 1 else "evaluation")


def _start_execution(actor: Actor, agreement_ids: Sequence[int]) -> None:
    """Signed agreements go into execution at their first evaluation (one statement, audited)."""
    signed = list(
        Agreement.objects.filter(pk__in=agreement_ids, state=AgreementState.SIGNED).values_list("pk", flat=True)
    )
    if signed:
        Agreement.objects.filter(pk__in=signed).update(state=AgreementState.IN_EXECUTION)
        record_many(
            actor,
            Action.UPDATE,
            "results.agreement",
            ((pk, None, {"state": AgreementState.SIGNED}, {"state": AgreementState.IN_EXECUTION}) for pk in signed),
            note="first evaluation",
        )


def _check_evaluable(actor: Actor, tranches: Sequence[Tranche]) -> None:
    agreements = {t.agreement_id: t.agreement for t in tranches}
    for agreement in agreements.values():
        check_manage(actor.user, agreement.territory)
    states = dict(Agreement.objects.filter(pk__in=list(agreements)).values_list("pk", "state"))
    for pk, agreement in agreements.items():
        agreement.state = states[pk]
        if agreement.state not in (AgreementState.SIGNED, AgreementState.IN_EXECUTION):
            errors = Collector()
            errors.add("state", "not_signed", _("Only a signed agreement in execution is evaluated."))
            errors.raise_if_any()


def _specs_of(tranches: Sequence[Tranche]) -> dict[int, list[evaluation.ConditionSpec]]:
    """The conditions of every tranche (one query)."""
    out: dict[int, list[evaluation.ConditionSpec]] = {t.pk: [] for t in tranches}
    rows = Condition.objects.filter(tranche__in=[t.pk for t in tranches]).select_related("territory").order_by("pk")
    for c in rows:
        out[c.tranche_id].append(
            evaluation.ConditionSpec(
                indicator=c.indicator,
                territory_id=c.territory_id,
                territory_code=c.territory.code,
                rule=c.rule,
                periods=tuple(c.periods()),
                baseline=Fraction(c.baseline),
                target=Fraction(c.target),
                weight=Fraction(c.weight),
                params=c.params,
            )
        )
    return out


def tranche_specs(tranche: Tranche) -> list[evaluation.ConditionSpec]:
    return _specs_of([tranche])[tranche.pk]


def evaluate(actor: Actor, tranche: Tranche, reason: str = "", appeal: Appeal | None = None) -> Evaluation:
    """A new version of the tranche's evaluation, on the latest snapshot revision of every period its
    conditions read (refused, naming the period, when one has no snapshot)."""
    _check_evaluable(actor, [tranche])
    specs = tranche_specs(tranche)
    periods = {p for s in specs for p in s.periods}
    found = evaluation.latest_snapshots(periods)
    evaluation.require_snapshots(periods, found)
    figures = evaluation.read_figures(found, specs)
    with transaction.atomic():
        # one version at a time per tranche: a concurrent evaluation waits for this one
        Tranche.objects.select_for_update().filter(pk=tranche.pk).first()
        last = Evaluation.objects.filter(tranche=tranche).aggregate(m=Max("version"))["m"] or 0
        item, after = _build_evaluation(actor, tranche, last + 1, specs, found, figures, reason, appeal)
        item.save()
        record(actor, Action.CREATE, item, after=after, note=_note(reason, item.version))
        _start_execution(actor, [tranche.agreement_id])
    return item


def evaluate_many(actor: Actor, tranches: Sequence[Tranche], reason: str = "") -> list[Evaluation]:
    """Evaluate many tranches (e.g. every tranche of every municipality's agreement) as :func:`evaluate`
    does each, in a few statements: conditions, snapshots and figures read once for all, the evaluations
    and their audit events written in bulk."""
    tranches = list(tranches)
    _check_evaluable(actor, tranches)
    specs_by = _specs_of(tranches)
    all_specs = [s for specs in specs_by.values() for s in specs]
    periods = {p for s in all_specs for p in s.periods}
    found = evaluation.latest_snapshots(periods)
    evaluation.require_snapshots(periods, found)
    figures = evaluation.read_figures(found, all_specs)
    with transaction.atomic():
        list(Tranche.objects.select_for_update().filter(pk__in=[t.pk for t in tranches]).order_by("pk"))
        last = dict(
            Evaluation.objects.filter(tranche__in=[t.pk for t in tranches])
            .values("tranche")
            .annotate(m=Max("version"))
            .values_list("tranche", "m")
        )
        built = [
            _build_evaluation(actor, t, last.get(t.pk, 0) + 1, specs_by[t.pk], found, figures, reason, None)
            for t in tranches
        ]
        items = Evaluation.objects.bulk_create([item for item, _after in built])
        record_many(
            actor,
            Action.CREATE,
            "results.evaluation",
            ((item.pk, None, None, after) for item, (_i, after) in zip(items, built, strict=True)),
            note=reason[:300] or "evaluation",
        )
        _start_execution(actor, sorted({t.agreement_id for t in tranches}))
    return items


# --- appeals ---------------------------------------------------------------------------------------------


def file_appeal(actor: Actor, item: Evaluation, text: str, file: Any = None) -> Appeal:
    """A party appeals an evaluation with its grounds and, if any, a file of evidence."""
    agreement = item.tranche.agreement
    if not permissions.has(actor.user, permissions.APPEAL_RESULTS) or not permissions.within(
        actor.user, agreement.territory.path
    ):
        raise PermissionDenied(_("Only the party of the agreement can appeal its evaluation."))
    errors = Collector()
    if len(text.strip()) < 10:
        errors.add("text", "required", _("Say why the evaluation should change (at least 10 characters)."))
    if file is not None:
        files.check(file, errors)
    latest = Evaluation.objects.filter(tranche_id=item.tranche_id).order_by("-version").first()
    if latest is not None and latest.pk != item.pk:
        errors.add("evaluation", "superseded", _("Appeal the latest version of the evaluation."))
    if Appeal.objects.filter(evaluation__tranche_id=item.tranche_id, state=AppealState.OPEN).exists():
        errors.add("evaluation", "open_appeal", _("An appeal of this tranche is already open."))
    errors.raise_if_any()
    stored = files.store(file) if file is not None else None
    with transaction.atomic():
        appeal = Appeal.objects.create(
            evaluation=item,
            text=text.strip(),
            original_name=stored.original_name if stored else "",
            stored_name=stored.stored_name if stored else "",
            size=stored.size if stored else 0,
            sha256=stored.sha256 if stored else "",
            filed_by=actor.user,
        )
        record(actor, Action.CREATE, appeal, after=snapshot(appeal, ["evaluation", "text", "original_name", "sha256"]))
    return appeal


def decide_appeal(
    actor: Actor, appeal: Appeal, decision: str, reason: str, *, retake: bool = True
) -> Evaluation | None:
    """The coordinating ministry decides an open appeal: ``recompute`` takes a new snapshot revision of each
    period the tranche reads (``retake``; audited with who and why) and evaluates again (a new version,
    linked to the appeal); ``reject`` closes it with the reason. Returns the new evaluation, if any."""
    tranche = appeal.evaluation.tranche
    check_manage(actor.user, tranche.agreement.territory)
    errors = Collector()
    if decision not in ("recompute", "reject"):
        errors.add("decision", "invalid", _("Choose to recompute or to reject."))
    if len(reason.strip()) < 5:
        errors.add("reason", "required", _("Give the reason of the decision."))
    if appeal.state != AppealState.OPEN:
        errors.add("decision", "decided", _("This appeal was already decided."))
    errors.raise_if_any()
    new = None
    why = _("Appeal %(id)s: %(reason)s") % {"id": appeal.pk, "reason": reason.strip()}
    if decision == "recompute" and retake:
        for period in sorted({p for s in tranche_specs(tranche) for p in s.periods}):
            monitoring_snapshots.take(actor, parse_period(period), why)
    with transaction.atomic():
        current = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if current.state != AppealState.OPEN:
            errors.add("decision", "decided", _("This appeal was already decided."))
            errors.raise_if_any()
        if decision == "recompute":
            new = evaluate(actor, tranche, reason=why, appeal=current)
        current.state = AppealState.RECOMPUTED if decision == "recompute" else AppealState.REJECTED
        current.decided_at = timezone.now()
        current.decided_by = actor.user
        current.decision = reason.strip()
        current.save()
        record(
            actor,
            Action.UPDATE,
            current,
            before={"state": AppealState.OPEN},
            after={"state": current.state, "decision": current.decision, "evaluation": new.pk if new else None},
            note=decision,
        )
    return new
