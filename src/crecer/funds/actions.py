"""Writes of the funds. Each checks the right and the territory (:mod:`crecer.access.permissions`),
validates with field errors, and writes its change with its audit event in one transaction.

Network fund: :func:`create_fund`, :func:`allocate` (the formula of :mod:`crecer.lib.funds`), :func:`add_line`,
:func:`record_execution`. Innovation fund: :func:`create_call`, :func:`set_reviewers`, :func:`submit_proposal`,
:func:`close_submissions`, :func:`declare_conflict`, :func:`score`, :func:`award`, :func:`close_panel`,
:func:`disburse`, :func:`report_results`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access import permissions
from crecer.access.models import User
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, snapshot
from crecer.core import uploads as core_files
from crecer.funds import files
from crecer.funds.models import (
    Allocation,
    ApplicantKind,
    Award,
    BudgetLine,
    CallState,
    Conflict,
    Criterion,
    Disbursement,
    Execution,
    InnovationCall,
    NetworkFund,
    Proposal,
    ProposalFile,
    ProposalState,
    ResultsReport,
    Score,
    VulnerabilitySource,
)
from crecer.lib import funds as rules
from crecer.lib.periods import PeriodError
from crecer.lib.periods import parse as parse_period
from crecer.monitoring import definitions
from crecer.monitoring.models import Snapshot, SnapshotValue
from crecer.registry import scope as registry_scope
from crecer.registry.models import Child
from crecer.results.actions import clean_cents  # the one rule for an amount typed by a person
from crecer.risks.models import FlagStatus, RiskFlag
from crecer.territories.models import Territory
from crecer.validation import Collector

# --- checks ----------------------------------------------------------------------------------------------


def check_manage(user: Any, territory: Territory) -> None:
    """Raise unless ``user`` manages the funds of ``territory`` (managers, their territory and below)."""
    if not permissions.has(user, permissions.MANAGE_FUNDS):
        raise PermissionDenied(_("Your role cannot allocate funds or run innovation calls."))
    if not permissions.within(user, territory.path):
        raise PermissionDenied(_("This territory is outside the one you work in."))


def may_manage(user: Any, territory: Territory) -> bool:
    return permissions.has(user, permissions.MANAGE_FUNDS) and permissions.within(user, territory.path)


def may_plan(user: Any, municipality: Territory) -> bool:
    """Budget lines: a manager of the territory, or the municipality's coordinator."""
    return may_manage(user, municipality) or may_execute(user, municipality)


def may_execute(user: Any, municipality: Territory) -> bool:
    return permissions.has(user, permissions.RECORD_FUND_EXECUTION) and permissions.within(user, municipality.path)


def _text(raw: Mapping[str, Any], name: str, errors: Collector, size: int, *, required: bool = True) -> str:
    value = str(raw.get(name) or "").strip()
    if required and not value:
        errors.add(name, "required", _("This field is required."))
    elif len(value) > size:
        errors.add(name, "too_long", _("Write at most %(n)s characters.") % {"n": size})
    return value[:size]


def _date(raw: Any, field: str, errors: Collector) -> dt.date | None:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw or "").strip())
    except ValueError:
        errors.add(field, "invalid", _("Write a date such as 2026-03-31."))
        return None


def _decimal(raw: Any, field: str, errors: Collector, low: Decimal, high: Decimal) -> Decimal | None:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, AttributeError):
        errors.add(field, "invalid", _("Write a number."))
        return None
    if not value.is_finite() or not low <= value <= high or value.as_tuple().exponent < -4:  # type: ignore[operator]
        errors.add(field, "out_of_range", _("Write a number from %(low)s to %(high)s.") % {"low": low, "high": high})
        return None
    return value


def _currency(raw: Any, errors: Collector) -> str:
    currency = str(raw or "CLP").upper()
    if len(currency) != 3 or not currency.isalpha():
        errors.add("currency", "invalid", _("Use a three-letter currency code (CLP, PEN, USD)."))
    return currency


def _territory(raw: Any, field: str, errors: Collector) -> Territory | None:
    territory = Territory.objects.filter(code=str(raw or "")).first()
    if territory is None:
        errors.add(field, "unknown", _("Unknown territory."))
    return territory


def municipality_level() -> str:
    """The lowest level of the profile's tree: where people live (a municipality, a district)."""
    return conf.profile().territory_levels[-1].key


# --- network fund ----------------------------------------------------------------------------------------


def create_fund(actor: Actor, raw: Mapping[str, Any]) -> NetworkFund:
    """A year's network fund: ``year``, ``name``, ``territory_code`` (the country or a region), ``budget``,
    ``currency``, ``base`` (each municipality), ``vulnerability_weight`` (k), ``vulnerability_source``
    (``risk_flags``, ``indicator`` with ``indicator`` and ``indicator_period``, or ``none``)."""
    errors = Collector()
    try:
        year = int(str(raw.get("year") or ""))
        if not 2000 <= year <= 2100:
            raise ValueError
    except ValueError:
        errors.add("year", "invalid", _("Write a year such as 2026."))
        year = 0
    name = _text(raw, "name", errors, 200)
    territory = _territory(raw.get("territory_code"), "territory_code", errors)
    budget = clean_cents(raw.get("budget"), "budget", errors)
    base = clean_cents(raw.get("base"), "base", errors)
    currency = _currency(raw.get("currency"), errors)
    k = _decimal(raw.get("vulnerability_weight", "0"), "vulnerability_weight", errors, Decimal(0), Decimal(100))
    source = str(raw.get("vulnerability_source") or VulnerabilitySource.RISK_FLAGS)
    indicator = str(raw.get("indicator") or "").strip()
    indicator_period = ""
    if source not in VulnerabilitySource.values:
        errors.add("vulnerability_source", "invalid", _("Choose where vulnerability is read from."))
    elif source == VulnerabilitySource.INDICATOR:
        if indicator not in {i.code for i in definitions.indicators()}:
            errors.add("indicator", "unknown", _("Choose an indicator."))
        try:
            indicator_period = parse_period(str(raw.get("indicator_period") or "")).code
        except PeriodError:
            errors.add("indicator_period", "invalid", _("Use a year (2025), a quarter (2025-Q2) or a month (2025-07)."))
    else:
        indicator = ""
    errors.raise_if_any()
    assert territory is not None and budget is not None and base is not None and k is not None
    check_manage(actor.user, territory)
    if NetworkFund.objects.filter(year=year, territory=territory).exists():
        errors.add("year", "taken", _("This territory already has a network fund for this year."))
    count = Territory.objects.filter(path__startswith=territory.path, level=municipality_level()).count()
    if count == 0:
        errors.add("territory_code", "no_municipalities", _("This territory has no municipalities."))
    elif base * count > budget:
        errors.add(
            "base",
            "exceeds_budget",
            _("The base amount for each of the %(n)s municipalities exceeds the budget.") % {"n": count},
        )
    errors.raise_if_any()
    with transaction.atomic():
        fund = NetworkFund.objects.create(
            year=year,
            name=name,
            territory=territory,
            budget_cents=budget,
            currency=currency,
            base_cents=base,
            vulnerability_weight=k,
            vulnerability_source=source,
            indicator=indicator,
            indicator_period=indicator_period,
            created_by=actor.user,
        )
        record(actor, Action.CREATE, fund, after=snapshot(fund))
    return fund


def _children(actor: Actor, territory: Territory) -> Any:
    """The registry's children in ``territory``, through the scoped queries (the system reads all)."""
    queryset = (
        registry_scope.children(actor.user) if actor.user is not None else Child.unscoped.filter(voided_at__isnull=True)
    )
    return queryset.filter(territory__path__startswith=territory.path)


def _by_municipality(rows: Any, key: str, municipalities: Sequence[Territory]) -> dict[int, int]:
    counts = dict.fromkeys((m.pk for m in municipalities), 0)
    by_path = sorted(municipalities, key=lambda m: len(m.path), reverse=True)
    for row in rows:
        for m in by_path:
            if row[key].startswith(m.path):
                counts[m.pk] += row["n"]
                break
    return counts


def formula_inputs(actor: Actor, fund: NetworkFund) -> list[tuple[Territory, int, Fraction]]:
    """Each municipality of the fund's territory with its children and vulnerability (0 to 1), read in
    aggregate: one grouped count of children, and one of children with an open risk flag or one read of
    the indicator's frozen values."""
    municipalities = list(
        Territory.objects.filter(path__startswith=fund.territory.path, level=municipality_level()).order_by("code")
    )
    children_qs = _children(actor, fund.territory)
    children = _by_municipality(
        children_qs.values("territory__path").annotate(n=Count("pk")), "territory__path", municipalities
    )
    vulnerability: dict[int, Fraction] = dict.fromkeys(children, Fraction(0))
    if fund.vulnerability_source == VulnerabilitySource.RISK_FLAGS:
        flagged = _by_municipality(
            RiskFlag.unscoped.filter(status=FlagStatus.OPEN, child__in=children_qs.values("pk"))
            .values("child__territory__path")
            .annotate(n=Count("child", distinct=True)),
            "child__territory__path",
            municipalities,
        )
        vulnerability = {pk: Fraction(flagged[pk], children[pk]) if children[pk] else Fraction(0) for pk in children}
    elif fund.vulnerability_source == VulnerabilitySource.INDICATOR:
        snap = Snapshot.objects.filter(period=fund.indicator_period).order_by("-revision").first()
        values = dict(
            SnapshotValue.objects.filter(
                snapshot=snap, indicator=fund.indicator, group="", territory__in=municipalities
            ).values_list("territory_id", "value")
        )
        for pk in vulnerability:
            value = values.get(pk)
            if value is not None:
                exact = Fraction(Decimal(repr(value))) / 100
                vulnerability[pk] = min(max(exact, Fraction(0)), Fraction(1))
    return [(m, children[m.pk], vulnerability[m.pk]) for m in municipalities]


def allocate(actor: Actor, fund: NetworkFund) -> list[Allocation]:
    """Compute every municipality's allocation (:func:`crecer.lib.funds.allocate`); again, while no budget
    line is planned (the earlier rows are replaced, each change audited)."""
    check_manage(actor.user, fund.territory)
    errors = Collector()
    if BudgetLine.objects.filter(allocation__fund=fund).exists():
        errors.add("fund", "planned", _("Budget lines are planned already: the allocation can no longer change."))
    inputs = formula_inputs(actor, fund)
    if not inputs:
        errors.add("fund", "no_municipalities", _("This territory has no municipalities."))
    errors.raise_if_any()
    try:
        shares = rules.allocate(
            fund.budget_cents,
            fund.base_cents,
            Fraction(fund.vulnerability_weight),
            [rules.Municipality(str(m.pk), n, v) for m, n, v in inputs],
        )
    except rules.FundsError:
        errors.add("base", "exceeds_budget", _("The base amounts exceed the budget."))
        errors.raise_if_any()
        raise
    with transaction.atomic():
        old = {a.municipality_id: a for a in NetworkFund.objects.select_for_update().get(pk=fund.pk).allocations.all()}
        out = []
        for m, n, v in inputs:
            s = shares[str(m.pk)]
            fields = {
                "children": n,
                "vulnerability": str(v),
                "weight": str(s.weight),
                "base_cents": s.base,
                "share_cents": s.share,
                "amount_cents": s.amount,
            }
            previous = old.get(m.pk)
            if previous is None:
                item = Allocation.objects.create(fund=fund, municipality=m, **fields)
                record(actor, Action.CREATE, item, after=snapshot(item))
            else:
                before = snapshot(previous, list(fields))
                for k, value in fields.items():
                    setattr(previous, k, value)
                previous.save()
                record(actor, Action.UPDATE, previous, before=before, after=snapshot(previous, list(fields)))
                item = previous
            out.append(item)
        before_at = fund.allocated_at
        fund.allocated_at = timezone.now()
        fund.save(update_fields=["allocated_at"])
        record(
            actor,
            Action.UPDATE,
            fund,
            before={"allocated_at": before_at},
            after={"allocated_at": fund.allocated_at},
            note="allocate",
        )
    return out


def _planned(allocation: Allocation) -> int:
    return int(allocation.lines.aggregate(s=Sum("amount_cents"))["s"] or 0)


def _executed(line: BudgetLine) -> int:
    return int(line.executions.aggregate(s=Sum("amount_cents"))["s"] or 0)


def add_line(actor: Actor, allocation: Allocation, raw: Mapping[str, Any]) -> BudgetLine:
    """A budget line (``activity``, ``amount``) of a municipality's allocation; the lines never exceed it."""
    if not may_plan(actor.user, allocation.municipality):
        raise PermissionDenied(_("You cannot plan this municipality's network fund."))
    errors = Collector()
    activity = _text(raw, "activity", errors, 200)
    amount = clean_cents(raw.get("amount"), "amount", errors)
    if amount == 0:
        errors.add("amount", "invalid", _("Write an amount above zero."))
    errors.raise_if_any()
    assert amount is not None
    with transaction.atomic():
        Allocation.objects.select_for_update().filter(pk=allocation.pk).first()
        left = allocation.amount_cents - _planned(allocation)
        if amount > left:
            errors.add(
                "amount",
                "exceeds_allocation",
                _("This is more than what is left of the allocation to plan: %(left)s.") % {"left": money(left)},
            )
            errors.raise_if_any()
        line = BudgetLine.objects.create(
            allocation=allocation, activity=activity, amount_cents=amount, created_by=actor.user
        )
        record(actor, Action.CREATE, line, after=snapshot(line))
    return line


def record_execution(actor: Actor, line: BudgetLine, raw: Mapping[str, Any]) -> Execution:
    """Money spent on a line's activity (``date`` in the fund's year and not in the future, ``amount``,
    ``description``); what is executed never exceeds the line."""
    allocation = line.allocation
    if not (may_execute(actor.user, allocation.municipality) or actor.user is None):
        raise PermissionDenied(_("Only the municipality's network coordinator records its execution."))
    errors = Collector()
    date = _date(raw.get("date"), "date", errors)
    if date is not None and (date.year != allocation.fund.year or date > timezone.localdate()):
        errors.add(
            "date",
            "out_of_year",
            _("The date must be in %(year)s and not in the future.") % {"year": allocation.fund.year},
        )
    amount = clean_cents(raw.get("amount"), "amount", errors)
    if amount == 0:
        errors.add("amount", "invalid", _("Write an amount above zero."))
    description = _text(raw, "description", errors, 300)
    errors.raise_if_any()
    assert amount is not None and date is not None
    with transaction.atomic():
        BudgetLine.objects.select_for_update().filter(pk=line.pk).first()
        left = line.amount_cents - _executed(line)
        if amount > left:
            errors.add(
                "amount",
                "exceeds_line",
                _("This is more than what is left on this line: %(left)s.") % {"left": money(left)},
            )
            errors.raise_if_any()
        item = Execution.objects.create(
            line=line, date=date, amount_cents=amount, description=description, created_by=actor.user
        )
        record(actor, Action.CREATE, item, after=snapshot(item))
    return item


def money(cents: int) -> str:
    """Whole cents as an amount: 83333417 → "833334.17"."""
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


# --- innovation fund -------------------------------------------------------------------------------------


def _reviewers(raw: Any, errors: Collector) -> list[User]:
    names = [str(n).strip() for n in (raw or []) if str(n).strip()] if isinstance(raw, list) else None
    if names is None:
        errors.add("reviewers", "invalid", _("List the reviewers' user names."))
        return []
    found = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    out = []
    for name in names:
        user = found.get(name)
        if user is None or not permissions.has(user, permissions.REVIEW_PROPOSALS):
            errors.add(
                "reviewers", "not_a_reviewer", _("“%(name)s” is not a user who may review proposals.") % {"name": name}
            )
        elif user not in out:
            out.append(user)
    return out


def create_call(actor: Actor, raw: Mapping[str, Any]) -> InnovationCall:
    """A call: ``name``, ``territory_code``, ``opens_on``, ``closes_on``, ``budget``, ``currency``, ``criteria``
    (``[{name, weight, max_score}]``) and ``reviewers`` (user names: the panel)."""
    errors = Collector()
    name = _text(raw, "name", errors, 200)
    territory = _territory(raw.get("territory_code"), "territory_code", errors)
    opens = _date(raw.get("opens_on"), "opens_on", errors)
    closes = _date(raw.get("closes_on"), "closes_on", errors)
    if opens and closes and closes < opens:
        errors.add("closes_on", "before_opening", _("The call must close after it opens."))
    budget = clean_cents(raw.get("budget"), "budget", errors)
    if budget == 0:
        errors.add("budget", "invalid", _("Write an amount above zero."))
    currency = _currency(raw.get("currency"), errors)
    criteria = []
    raw_criteria = raw.get("criteria")
    if not isinstance(raw_criteria, list) or not raw_criteria:
        errors.add("criteria", "required", _("Give at least one criterion."))
        raw_criteria = []
    for i, c in enumerate(raw_criteria):
        at = f"criteria.{i}"
        if not isinstance(c, dict):
            errors.add(at, "invalid", _("A criterion is a set of fields."))
            continue
        c_name = str(c.get("name") or "").strip()[:200]
        if not c_name:
            errors.add(f"{at}.name", "required", _("This field is required."))
        weight = _decimal(c.get("weight", "1"), f"{at}.weight", errors, Decimal("0.0001"), Decimal(1000))
        try:
            max_score = int(str(c.get("max_score", "")))
            if not 1 <= max_score <= 1000:
                raise ValueError
        except ValueError:
            errors.add(f"{at}.max_score", "invalid", _("Write a whole number from 1 to 1000."))
            max_score = 0
        criteria.append((c_name, weight, max_score))
    reviewers = _reviewers(raw.get("reviewers", []), errors)
    errors.raise_if_any()
    assert territory is not None and budget is not None and opens is not None and closes is not None
    check_manage(actor.user, territory)
    with transaction.atomic():
        call = InnovationCall.objects.create(
            name=name,
            territory=territory,
            opens_on=opens,
            closes_on=closes,
            budget_cents=budget,
            currency=currency,
            created_by=actor.user,
        )
        for c_name, weight, max_score in criteria:
            Criterion.objects.create(call=call, name=c_name, weight=weight or Decimal(1), max_score=max_score)
        call.reviewers.set(reviewers)
        after = snapshot(call)
        after["criteria"] = [{"name": n, "weight": str(w), "max_score": m} for n, w, m in criteria]
        after["reviewers"] = [u.username for u in reviewers]
        record(actor, Action.CREATE, call, after=after)
    return call


def set_reviewers(actor: Actor, call: InnovationCall, usernames: Any) -> InnovationCall:
    """The panel: users who hold the right to review proposals, designated on the call (before awarding)."""
    check_manage(actor.user, call.territory)
    errors = Collector()
    if call.state == CallState.DECIDED:
        errors.add("reviewers", "decided", _("The call is decided: its panel no longer changes."))
    reviewers = _reviewers(usernames, errors)
    errors.raise_if_any()
    with transaction.atomic():
        before = sorted(call.reviewers.values_list("username", flat=True))
        call.reviewers.set(reviewers)
        record(
            actor,
            Action.UPDATE,
            call,
            before={"reviewers": before},
            after={"reviewers": sorted(u.username for u in reviewers)},
        )
    return call


def _step(actor: Actor, call: InnovationCall, source: str, target: str, note: str) -> InnovationCall:
    check_manage(actor.user, call.territory)
    with transaction.atomic():
        updated = InnovationCall.objects.filter(pk=call.pk, state=source).update(state=target)
        if not updated:
            errors = Collector()
            errors.add("state", "wrong_state", _("The call is not in the state this step needs."))
            errors.raise_if_any()
        record(actor, Action.UPDATE, call, before={"state": source}, after={"state": target}, note=note)
    call.state = target
    return call


def close_submissions(actor: Actor, call: InnovationCall) -> InnovationCall:
    """Open → panel review: no more proposals; the panel scores."""
    return _step(actor, call, CallState.OPEN, CallState.REVIEW, "close submissions")


def close_panel(actor: Actor, call: InnovationCall) -> InnovationCall:
    """Panel review → decided: no more scores or awards; disbursements and reports go on."""
    return _step(actor, call, CallState.REVIEW, CallState.DECIDED, "decide")


def _applicant(user: Any, errors: Collector) -> tuple[str, Territory | None, Any]:
    if user is not None and user.organisation_id is not None:
        organisation = user.organisation
        return ApplicantKind.ORGANISATION, organisation.territory, organisation
    if user is None:
        errors.add("applicant", "required", _("A proposal is submitted by a person."))
        return ApplicantKind.MUNICIPALITY, None, None
    return ApplicantKind.MUNICIPALITY, user.territory, None


def submit_proposal(
    actor: Actor, call: InnovationCall, raw: Mapping[str, Any], attachments: Sequence[Any] = ()
) -> Proposal:
    """A proposal of the user's municipality (a municipal coordinator) or organisation (its staff): ``title``,
    ``summary``, ``requested`` (at most the call's budget) and files, while the call is open and today lies
    between its opening and closing dates."""
    if not permissions.has(actor.user, permissions.SUBMIT_PROPOSALS) or actor.user is None:
        raise PermissionDenied(_("Your role cannot submit proposals."))
    errors = Collector()
    title = _text(raw, "title", errors, 200)
    summary = _text(raw, "summary", errors, 5000)
    requested = clean_cents(raw.get("requested"), "requested", errors)
    if requested == 0:
        errors.add("requested", "invalid", _("Write an amount above zero."))
    elif requested is not None and requested > call.budget_cents:
        errors.add("requested", "exceeds_budget", _("This is more than the call's whole budget."))
    today = timezone.localdate()
    if call.state != CallState.OPEN or not call.opens_on <= today <= call.closes_on:
        errors.add("call", "closed", _("This call does not take proposals now."))
    kind, territory, organisation = _applicant(actor.user, errors)
    if territory is not None and not territory.path.startswith(call.territory.path):
        errors.add("call", "out_of_territory", _("This call is for another territory."))
    for i, file in enumerate(attachments):
        files.check(file, errors, f"files.{i}" if len(attachments) > 1 else "file")
    errors.raise_if_any()
    assert territory is not None and requested is not None
    stored = [files.store(f) for f in attachments]
    try:
        with transaction.atomic():
            proposal = Proposal.objects.create(
                call=call,
                title=title,
                summary=summary,
                requested_cents=requested,
                applicant_kind=kind,
                territory=territory,
                organisation=organisation,
                submitted_by=actor.user,
            )
            record(actor, Action.CREATE, proposal, after=snapshot(proposal))
            for s in stored:
                _attach(actor, proposal, s)
    except Exception:
        core_files.discard(stored, files.AREA)
        raise
    return proposal


def _attach(actor: Actor, proposal: Proposal, stored: Any) -> ProposalFile:
    item = ProposalFile.objects.create(
        proposal=proposal,
        original_name=stored.original_name,
        stored_name=stored.stored_name,
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by=actor.user,
    )
    record(actor, Action.CREATE, item, after=snapshot(item, ["proposal", "original_name", "size", "sha256"]))
    return item


def _designated(user: Any, call: InnovationCall) -> bool:
    return user is not None and call.reviewers.filter(pk=user.pk).exists()


def declare_conflict(actor: Actor, proposal: Proposal, reason: str) -> Conflict:
    """A panel member declares a conflict of interest with a proposal: from then on they cannot score it,
    and any score they gave it is left out of its ranking."""
    refusal = permissions.panel_refusal(actor.user, _designated(actor.user, proposal.call), False)
    if refusal is not None:
        refusal.raise_()
    errors = Collector()
    reason = reason.strip()[:300]
    if not reason:
        errors.add("reason", "required", _("Say why (a relative, a former employer, a partner…)."))
    if Conflict.objects.filter(proposal=proposal, reviewer=actor.user).exists():
        errors.add("reason", "declared", _("You already declared a conflict with this proposal."))
    errors.raise_if_any()
    with transaction.atomic():
        assert actor.user is not None  # the panel is people (panel_refusal)
        item = Conflict.objects.create(proposal=proposal, reviewer=actor.user, reason=reason)
        record(actor, Action.CREATE, item, after=snapshot(item))
    return item


def score(actor: Actor, proposal: Proposal, raw_scores: Mapping[str, Any]) -> list[Score]:
    """A panel member's scores of a proposal, by criterion id (``{"12": 4, "13": 5}``), each from 0 to the
    criterion's maximum; while the call is under panel review. Refused to a reviewer not on the panel and to
    one who declared a conflict with the proposal."""
    call = proposal.call
    conflicted = actor.user is not None and Conflict.objects.filter(proposal=proposal, reviewer=actor.user).exists()
    refusal = permissions.panel_refusal(actor.user, _designated(actor.user, call), conflicted)
    if refusal is not None:
        refusal.raise_()
    errors = Collector()
    if call.state != CallState.REVIEW:
        errors.add("call", "not_in_review", _("Proposals are scored while the call is under panel review."))
    criteria = {str(c.pk): c for c in call.criteria.all()}
    values: dict[str, int] = {}
    if not isinstance(raw_scores, Mapping) or not raw_scores:
        errors.add("scores", "required", _("Score at least one criterion."))
        raw_scores = {}
    for key, raw in raw_scores.items():
        criterion = criteria.get(str(key))
        if criterion is None:
            errors.add(f"scores.{key}", "unknown", _("This criterion is not one of the call's."))
            continue
        try:
            value = int(str(raw).strip())
            if not 0 <= value <= criterion.max_score:
                raise ValueError
        except ValueError:
            errors.add(
                f"scores.{key}",
                "out_of_range",
                _("Score “%(name)s” from 0 to %(max)s.") % {"name": criterion.name, "max": criterion.max_score},
            )
            continue
        values[str(key)] = value
    errors.raise_if_any()
    assert actor.user is not None  # the panel is people (panel_refusal)
    out = []
    with transaction.atomic():
        for key, value in values.items():
            existing = Score.objects.filter(proposal=proposal, reviewer=actor.user, criterion_id=int(key)).first()
            if existing is None:
                item = Score.objects.create(proposal=proposal, reviewer=actor.user, criterion_id=int(key), score=value)
                record(actor, Action.CREATE, item, after=snapshot(item, ["proposal", "reviewer", "criterion", "score"]))
            else:
                before = existing.score
                existing.score = value
                existing.save()
                record(actor, Action.UPDATE, existing, before={"score": before}, after={"score": value})
                item = existing
            out.append(item)
    return out


def award(actor: Actor, proposal: Proposal, raw_amount: Any = None) -> Award:
    """Award a ranked proposal (amount: the requested one unless a smaller one is given), never beyond the
    call's budget: the awards of a call add up to at most its budget."""
    from crecer.funds.ranking import rank_call

    call = proposal.call
    check_manage(actor.user, call.territory)
    errors = Collector()
    amount = proposal.requested_cents
    if raw_amount not in (None, ""):
        given = clean_cents(raw_amount, "amount", errors)
        if given is not None:
            amount = given
    if amount <= 0:
        errors.add("amount", "invalid", _("Write an amount above zero."))
    elif amount > proposal.requested_cents:
        errors.add("amount", "exceeds_request", _("This is more than the proposal requested."))
    if call.state != CallState.REVIEW:
        errors.add("call", "not_in_review", _("Awards are decided while the call is under panel review."))
    row = next((r for r in rank_call(call) if r.proposal.pk == proposal.pk), None)
    if row is None or row.rank is None:
        errors.add("proposal", "not_scored", _("The panel has not scored this proposal yet."))
    if Award.objects.filter(proposal=proposal).exists():
        errors.add("proposal", "awarded", _("This proposal is awarded already."))
    errors.raise_if_any()
    assert row is not None and row.rank is not None and row.score is not None
    with transaction.atomic():
        InnovationCall.objects.select_for_update().filter(pk=call.pk).first()
        awarded = int(Award.objects.filter(proposal__call=call).aggregate(s=Sum("amount_cents"))["s"] or 0)
        left = call.budget_cents - awarded
        if amount > left:
            errors.add(
                "amount",
                "exceeds_budget",
                _("This is more than what is left of the call's budget: %(left)s.") % {"left": money(left)},
            )
            errors.raise_if_any()
        item = Award.objects.create(
            proposal=proposal, amount_cents=amount, score=str(row.score), rank=row.rank, awarded_by=actor.user
        )
        Proposal.objects.filter(pk=proposal.pk).update(state=ProposalState.AWARDED)
        record(actor, Action.CREATE, item, after=snapshot(item))
    proposal.state = ProposalState.AWARDED
    return item


def disburse(actor: Actor, award_: Award, raw: Mapping[str, Any]) -> Disbursement:
    """A payment of an award (``date`` not in the future, ``amount``, ``note``); payments never exceed it."""
    check_manage(actor.user, award_.proposal.call.territory)
    errors = Collector()
    date = _date(raw.get("date"), "date", errors)
    if date is not None and date > timezone.localdate():
        errors.add("date", "future", _("The date cannot be in the future."))
    amount = clean_cents(raw.get("amount"), "amount", errors)
    if amount == 0:
        errors.add("amount", "invalid", _("Write an amount above zero."))
    note = _text(raw, "note", errors, 300, required=False)
    errors.raise_if_any()
    assert amount is not None and date is not None
    with transaction.atomic():
        Award.objects.select_for_update().filter(pk=award_.pk).first()
        paid = int(award_.disbursements.aggregate(s=Sum("amount_cents"))["s"] or 0)
        left = award_.amount_cents - paid
        if amount > left:
            errors.add(
                "amount",
                "exceeds_award",
                _("This is more than what is left to pay of the award: %(left)s.") % {"left": money(left)},
            )
            errors.raise_if_any()
        item = Disbursement.objects.create(
            award=award_, date=date, amount_cents=amount, note=note, created_by=actor.user
        )
        record(actor, Action.CREATE, item, after=snapshot(item))
    return item


def may_report(user: Any, proposal: Proposal) -> bool:
    """The applicant reports: the organisation's staff, or the municipality's coordinator."""
    if not permissions.has(user, permissions.SUBMIT_PROPOSALS) or user is None:
        return user is None
    if proposal.organisation_id is not None:
        return bool(user.organisation_id == proposal.organisation_id)
    return user.organisation_id is None and permissions.within(user, proposal.territory.path)


def report_results(actor: Actor, award_: Award, text: str, file: Any = None) -> ResultsReport:
    """The results of an awarded project, by its applicant: a ``text`` and, optionally, a file."""
    proposal = award_.proposal
    if not may_report(actor.user, proposal):
        raise PermissionDenied(_("Only the applicant reports the project's results."))
    errors = Collector()
    text = text.strip()
    if not text:
        errors.add("text", "required", _("This field is required."))
    if file is not None:
        files.check(file, errors)
    errors.raise_if_any()
    stored = files.store(file) if file is not None else None
    try:
        with transaction.atomic():
            attachment = _attach(actor, proposal, stored) if stored is not None else None
            item = ResultsReport.objects.create(award=award_, text=text[:20000], file=attachment, created_by=actor.user)
            record(actor, Action.CREATE, item, after=snapshot(item))
    except Exception:
        if stored is not None:
            core_files.discard([stored], files.AREA)
        raise
    return item
