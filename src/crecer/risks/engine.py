"""Running the risk rules: open the flags whose condition holds, resolve those whose no longer does.

:func:`evaluate` is called inside the action that wrote the facts (same transaction), by imports for
the subjects a file touched, and by ``crecer risks recompute`` over everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from crecer import conf
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record_many
from crecer.core.bulk import BulkInsert, among
from crecer.lib.rules import Rule, RuleError
from crecer.registry.models import Child, Pregnancy
from crecer.risks.facts import child_facts, pregnancy_facts
from crecer.risks.models import FlagStatus, Resolution, RiskFlag
from crecer.risks.signals import urgent_flags_raised


@dataclass
class Outcome:
    subjects: int = 0
    evaluations: int = 0
    raised: int = 0
    resolved: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.subjects += other.subjects
        self.evaluations += other.evaluations
        self.raised += other.raised
        self.resolved += other.resolved
        self.errors += other.errors


def _flag_row(rule: Rule, subject: str, subject_id: int) -> dict[str, Any]:
    return {
        "child_id": subject_id if subject == "child" else None,
        "pregnancy_id": subject_id if subject == "pregnancy" else None,
        "rule_id": rule.id,
        "rule_version": rule.version,
        "category": rule.flag.category,
        "axis": rule.flag.axis,
        "severity": rule.flag.severity,
        "data_category": rule.flag.data_category,
        "recommendation": (
            {
                "service": rule.referral.service,
                "priority": rule.referral.priority,
                "deadline_days": rule.referral.deadline_days,
            }
            if rule.referral
            else None
        ),
        "status": FlagStatus.OPEN,
        "urgent": rule.urgent,
    }


def _apply(
    actor: Actor,
    subject: str,
    facts: dict[int, dict[str, Any]],
    rules: list[Rule],
    retire_unknown: bool,
) -> Outcome:
    outcome = Outcome(subjects=len(facts))
    key = "child_id" if subject == "child" else "pregnancy_id"
    open_flags = {
        (getattr(f, key), f.rule_id): f
        for f in RiskFlag.unscoped.filter(among(key, facts), status=FlagStatus.OPEN)
        if getattr(f, key) in facts
    }
    raise_rows, resolve = [], []
    # Subjects with the same relevant facts get the same answer: evaluate each distinct key once.
    answers: dict[tuple[str, tuple[Any, ...]], bool | RuleError] = {}
    for subject_id, subject_facts in facts.items():
        for rule in rules:
            outcome.evaluations += 1
            memo = (rule.id, rule.cache_key(subject_facts))
            answer = answers.get(memo)
            if answer is None:
                try:
                    answer = rule.matches(subject_facts)
                except RuleError as exc:
                    answer = exc
                answers[memo] = answer
            if isinstance(answer, RuleError):
                outcome.errors.append(f"{subject} {subject_id}: {answer}")
                continue  # an error changes nothing
            matched = answer
            current = open_flags.get((subject_id, rule.id))
            if matched and current is None:
                raise_rows.append(_flag_row(rule, subject, subject_id))
            elif not matched and current is not None:
                resolve.append((current, Resolution.FACTS_CHANGED))
    if retire_unknown:
        known = {r.id for r in rules}
        resolve += [(f, Resolution.RULE_RETIRED) for (_s, rule_id), f in open_flags.items() if rule_id not in known]
    now = timezone.now()
    with transaction.atomic():
        if raise_rows:
            BulkInsert(RiskFlag).write(raise_rows)
            found = RiskFlag.unscoped.filter(
                among(key, {r[key] for r in raise_rows}), status=FlagStatus.OPEN
            ).values_list("pk", key, "rule_id", "rule_version", "urgent")
            wanted = {(r[key], r["rule_id"]) for r in raise_rows}
            created = [row for row in found if (row[1], row[2]) in wanted]
            record_many(
                actor,
                Action.CREATE,
                "risks.riskflag",
                (
                    (pk, sid if subject == "child" else None, None, {"rule": f"{rule_id}@{version}"})
                    for pk, sid, rule_id, version, _urgent in created
                ),
            )
            urgent = [pk for pk, _sid, _rule, _version, is_urgent in created if is_urgent]
            if urgent:
                # Urgent results act at once: whoever listens (notifications) runs in this transaction.
                urgent_flags_raised.send(sender=RiskFlag, actor=actor, flag_ids=urgent)
        resolved_pairs = []
        for flag, resolution in resolve:
            # Compare-and-set: a flag is resolved once even if two evaluations race.
            if RiskFlag.unscoped.filter(pk=flag.pk, status=FlagStatus.OPEN).update(
                status=FlagStatus.RESOLVED, resolved_at=now, resolution=resolution
            ):
                resolved_pairs.append((flag, resolution))
        record_many(
            actor,
            Action.UPDATE,
            "risks.riskflag",
            (
                (flag.pk, flag.child_id, {"status": "open"}, {"status": "resolved", "resolution": str(resolution)})
                for flag, resolution in resolved_pairs
            ),
        )
    outcome.raised, outcome.resolved = len(raise_rows), len(resolved_pairs)
    return outcome


def evaluate(
    actor: Actor,
    *,
    children: Iterable[Child] = (),
    pregnancies: Iterable[Pregnancy] = (),
    today: dt.date | None = None,
    rules: Iterable[Rule] | None = None,
    retire_unknown: bool = False,
) -> Outcome:
    """Evaluate the rules for these subjects and open/resolve their flags (in the caller's transaction
    if there is one)."""
    today = today or timezone.localdate()
    all_rules = list(rules if rules is not None else conf.profile().rules)
    outcome = Outcome()
    children = [c for c in children if c.voided_at is None]
    if children:
        outcome.add(
            _apply(
                actor,
                "child",
                child_facts(children, today),
                [r for r in all_rules if r.subject == "child"],
                retire_unknown,
            )
        )
    pregnancies = list(pregnancies)
    if pregnancies:
        outcome.add(
            _apply(
                actor,
                "pregnancy",
                pregnancy_facts(pregnancies, today),
                [r for r in all_rules if r.subject == "pregnancy"],
                retire_unknown,
            )
        )
    return outcome


#: the fields of a child the facts read (loading only these is faster at import scale)
FACT_FIELDS = (
    "id",
    "birth_date",
    "sex",
    "national_id",
    "birth_weight_g",
    "gestational_weeks",
    "household_id",
    "voided_at",
)


def evaluate_ids(
    actor: Actor, child_ids: Iterable[int] = (), pregnancy_ids: Iterable[int] = (), batch: int = 5000
) -> Outcome:
    """:func:`evaluate` for subjects given by id, in batches (imports and recomputation)."""
    outcome = Outcome()
    child_ids, pregnancy_ids = sorted(set(child_ids)), sorted(set(pregnancy_ids))
    for start in range(0, len(child_ids), batch):
        chunk = set(child_ids[start : start + batch])
        children = Child.unscoped.filter(among("pk", chunk)).only(*FACT_FIELDS)
        outcome.add(evaluate(actor, children=[c for c in children if c.pk in chunk]))
    for start in range(0, len(pregnancy_ids), batch):
        chunk = set(pregnancy_ids[start : start + batch])
        outcome.add(
            evaluate(actor, pregnancies=[p for p in Pregnancy.unscoped.filter(among("pk", chunk)) if p.pk in chunk])
        )
    return outcome


def recompute(actor: Actor, batch: int = 5000, progress: Any = None) -> Outcome:
    """Re-run every rule over every child and pregnancy (after a new rule version), resolving the flags
    of rules the profile no longer has."""
    outcome = Outcome()
    rules = list(conf.profile().rules)
    total = Child.unscoped.filter(voided_at__isnull=True).count() + Pregnancy.unscoped.count()
    last = 0
    while True:
        children = list(Child.unscoped.filter(voided_at__isnull=True, pk__gt=last).order_by("pk")[:batch])
        if not children:
            break
        last = children[-1].pk
        outcome.add(evaluate(actor, children=children, rules=rules, retire_unknown=True))
        if progress:
            progress(outcome.subjects, total)
    last = 0
    while True:
        pregnancies = list(Pregnancy.unscoped.filter(pk__gt=last).order_by("pk")[:batch])
        if not pregnancies:
            break
        last = pregnancies[-1].pk
        outcome.add(evaluate(actor, pregnancies=pregnancies, rules=rules, retire_unknown=True))
        if progress:
            progress(outcome.subjects, total)
    return outcome
