"""Merging two records of the same child, and undoing a merge exactly.

A merge keeps one record (the survivor) and folds the other into it: every encounter, measurement,
screening, delivery, referral, risk flag, caregiver link, case note, access grant and group membership
of the merged record moves to the survivor; the survivor's empty fields take the merged record's
values; the merged record is voided ("merged into …"), never deleted. Audit events cannot be moved
(they are immutable); the survivor's history shows the merged record's events through the merge.

Rows that cannot move without breaking a rule stay where they were and are listed: a second mother
link, an open referral to a service the survivor is already referred to, an open risk flag of a rule
already open on the survivor. An encounter for a scheduled contact the survivor already had keeps its
data but loses the contact code (a child has each contact once).

Everything the merge changed is recorded on the :class:`MergeRecord`, so :func:`unmerge` restores both
records and what belonged to each exactly. Both actions are audited and need a coordinator or manager
whose territory holds both records.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer.access import permissions
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record
from crecer.dedup.models import DuplicatePair, MergeRecord, PairStatus
from crecer.registry import actions as registry_actions
from crecer.registry import scope
from crecer.registry.inputs import clean_child
from crecer.registry.models import CaregiverLink, Child, Relationship
from crecer.registry.resolvers import DbResolver
from crecer.risks import engine
from crecer.risks.models import FlagStatus, RiskFlag
from crecer.validation import Collector

#: survivor fields filled from the merged record when empty
FILLABLE = (
    "maternal_surname",
    "sex",
    "birth_date",
    "national_id_type",
    "national_id",
    "household_id",
    "facility_id",
    "birth_weight_g",
    "gestational_weeks",
    "pregnancy_id",
)
#: fields whose value the coordinator chooses, when the two records differ (input form: codes, ISO dates)
CHOOSABLE = (
    "given_names",
    "paternal_surname",
    "maternal_surname",
    "sex",
    "birth_date",
    "national_id",
    "territory_code",
    "facility_code",
    "birth_weight_g",
    "gestational_weeks",
)
OPEN_REFERRAL_STATES = ("draft", "sent", "accepted", "in_progress")
_SKIP = ("dedup.",)  # the deduplication's own records stay as they are


def may_merge(user: Any) -> bool:
    """A signed-in user holding :data:`crecer.access.permissions.MERGE`."""
    return bool(getattr(user, "is_authenticated", False)) and permissions.has(user, permissions.MERGE)


def _children_of(actor: Actor, *ids: int) -> list[Child]:
    """The records, if the actor may merge them (404 otherwise, as for anything out of scope)."""
    if not may_merge(actor.user):
        raise PermissionDenied(_("Only coordinators and managers merge records."))
    return [scope.get_child_or_404(actor.user, pk) for pk in ids]


def _fields(child: Child) -> dict[str, Any]:
    return {f.attname: _json(getattr(child, f.attname)) for f in Child._meta.concrete_fields if not f.primary_key}


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _restore(child_id: int, fields: dict[str, Any]) -> None:
    by_name = {f.attname: f for f in Child._meta.concrete_fields}
    Child.unscoped.filter(pk=child_id).update(**{k: by_name[k].to_python(v) for k, v in fields.items()})


def _related() -> list[tuple[type[models.Model], str]]:
    """(model, field name) of every foreign key to Child, outside the deduplication's own tables."""
    out = []
    for relation in Child._meta.related_objects:
        model = relation.related_model
        if isinstance(model, type) and not model._meta.label_lower.startswith(_SKIP):
            out.append((model, relation.field.name))
    return out


def _movable(
    model: type[models.Model], rows: models.QuerySet[Any], survivor: Child
) -> tuple[list[int], dict[str, Any]]:
    """Ids of ``rows`` that can move to the survivor, and what must change for them to (by id)."""
    label = model._meta.label_lower
    ids = list(rows.values_list("pk", flat=True))
    changes: dict[str, Any] = {}
    if label == "registry.caregiverlink":
        theirs = CaregiverLink.unscoped.filter(child=survivor)
        taken_people = set(theirs.values_list("caregiver_id", flat=True))
        taken_roles = set(
            theirs.filter(relationship__in=(Relationship.MOTHER, Relationship.FATHER)).values_list(
                "relationship", flat=True
            )
        )
        ids = [
            pk
            for pk, caregiver, relationship in rows.values_list("pk", "caregiver_id", "relationship")
            if caregiver not in taken_people and relationship not in taken_roles
        ]
    elif label == "risks.riskflag":
        open_rules = set(
            RiskFlag.unscoped.filter(child=survivor, status=FlagStatus.OPEN).values_list("rule_id", flat=True)
        )
        ids = [
            pk
            for pk, rule, status in rows.values_list("pk", "rule_id", "status")
            if not (status == FlagStatus.OPEN and rule in open_rules)
        ]
    elif label == "referrals.referral":
        open_services = set(
            model._default_manager.filter(child=survivor, state__in=OPEN_REFERRAL_STATES).values_list(
                "service_id", flat=True
            )
        )
        ids = [
            pk
            for pk, service, state in rows.values_list("pk", "service_id", "state")
            if not (state in OPEN_REFERRAL_STATES and service in open_services)
        ]
    elif label == "tracking.encounter":
        done = set(
            model._default_manager.filter(child=survivor, voided_at__isnull=True)
            .exclude(contact_code="")
            .values_list("contact_code", flat=True)
        )
        cleared = {}
        for pk, code, voided in rows.values_list("pk", "contact_code", "voided_at"):
            if code and voided is None and code in done:
                cleared[str(pk)] = code
        changes["contact_code"] = cleared
    return ids, changes


def differing(a: Child, b: Child) -> list[tuple[str, Any, Any]]:
    """The :data:`CHOOSABLE` fields whose values differ between two records: ``(field, a's, b's)`` in
    input form (what the merge page offers to choose between)."""
    raw_a, raw_b = registry_actions.child_raw(a), registry_actions.child_raw(b)
    return [(f, raw_a[f], raw_b[f]) for f in CHOOSABLE if str(raw_a[f] or "") != str(raw_b[f] or "")]


def _check_choices(choices: dict[str, Any], survivor_id: int, merged_id: int, errors: Collector) -> None:
    for field, source in choices.items():
        if field not in CHOOSABLE:
            errors.add(field, "unknown_field", _("This field cannot be chosen in a merge."))
        elif source not in (survivor_id, merged_id):
            errors.add(field, "invalid_choice", _("Choose the value of one of the two records."))


#: a model field filled by default from the merged record, by the choosable field that decides it
_CHOICE_OF = {"national_id_type": "national_id", "facility_id": "facility_code"}


def _choice_field(attname: str) -> str:
    return _CHOICE_OF.get(attname, attname)


def _apply_choices(
    actor: Actor,
    survivor: Child,
    merged_id: int,
    survivor_raw: dict[str, Any],
    merged_raw: dict[str, Any],
    choices: dict[str, int],
    note: str,
) -> dict[str, list[Any]]:
    """Give the survivor the chosen values (``survivor_raw``/``merged_raw``: the two records before the
    merge, in input form), validated as a whole record with the registry's rules and written with their
    audit events; returns what changed, ``{field: [before, after]}``."""
    current = registry_actions.child_raw(survivor)
    changes: dict[str, Any] = {}
    for field, source in choices.items():
        wanted = merged_raw[field] if source == merged_id else survivor_raw[field]
        if str(wanted or "") != str(current[field] or ""):
            changes[field] = wanted
    if "national_id" in changes:
        side = merged_raw if choices["national_id"] == merged_id else survivor_raw
        changes["national_id_type"] = side["national_id_type"]
    if not changes:
        return {}
    values = clean_child(
        {**current, **changes},
        DbResolver(actor),
        current_id=survivor.pk,
        current_facility_id=survivor.facility_id,
        current_household_id=survivor.household_id,
    )
    registry_actions.update_person(
        actor, survivor, values, registry_actions.current_mothers([survivor.pk]).get(survivor.pk), note=note
    )
    return {f: [current[f], changes[f]] for f in changes}


def merge(
    actor: Actor,
    survivor_id: int,
    merged_id: int,
    reason: str,
    pair: DuplicatePair | None = None,
    choices: dict[str, int] | None = None,
) -> MergeRecord:
    """Fold ``merged_id`` into ``survivor_id``; returns the record of what was done. ``choices``: for a
    field of :data:`CHOOSABLE` where the records differ, the id of the record whose value the survivor
    keeps (by default its own, or the other's where its own is empty); the result is validated with the
    registry's rules, errors named by field."""
    choices = dict(choices or {})
    errors = Collector()
    _check_choices(choices, survivor_id, merged_id, errors)
    if survivor_id == merged_id:
        errors.add("merged", "same", _("A record cannot be merged with itself."))
    if not (reason or "").strip():
        errors.add("reason", "required", _("Say why these records are the same child."))
    errors.raise_if_any()
    survivor, merged = _children_of(actor, survivor_id, merged_id)
    for child, name in ((survivor, "survivor"), (merged, "merged")):
        if child.voided_at is not None:
            errors.add(name, "voided", _("This record is voided or already merged."))
    errors.raise_if_any()
    with transaction.atomic():
        survivor = Child.unscoped.select_for_update().get(pk=survivor.pk)
        merged = Child.unscoped.select_for_update().get(pk=merged.pk)
        before: dict[str, Any] = {"survivor": _fields(survivor), "merged": _fields(merged), "kept": {}}
        survivor_raw, merged_raw = registry_actions.child_raw(survivor), registry_actions.child_raw(merged)
        moved: dict[str, list[int]] = {}
        for model, field in _related():
            rows = model._default_manager.filter(**{field: merged})
            ids, changes = _movable(model, rows, survivor)
            label = model._meta.label_lower
            kept = sorted(set(rows.values_list("pk", flat=True)) - set(ids))
            if kept:
                before["kept"][label] = kept
            if changes.get("contact_code"):
                before["contact_code"] = changes["contact_code"]
                for pk in changes["contact_code"]:
                    model._default_manager.filter(pk=int(pk)).update(contact_code="")
            if ids:
                model._default_manager.filter(pk__in=ids).update(**{field: survivor})
                moved[label] = sorted(ids)
        # The survivor's empty fields take the merged record's values (a document moves).
        filled = {
            f: getattr(merged, f)
            for f in FILLABLE
            if getattr(survivor, f) in (None, "") and getattr(merged, f) not in (None, "")
        }
        # Filling an empty field is the default choice; a field chosen is decided by the choice.
        filled = {f: v for f, v in filled.items() if _choice_field(f) not in choices}
        if "national_id" in filled or (choices.get("national_id") == merged.pk and merged.national_id):
            if "national_id" in filled:
                filled.setdefault("national_id_type", merged.national_id_type)
            Child.unscoped.filter(pk=merged.pk).update(national_id=None)
        now = timezone.now()
        Child.unscoped.filter(pk=merged.pk).update(
            voided_at=now,
            void_reason=_("Merged into %(number)s") % {"number": survivor.registry_number},
            updated_at=now,
        )
        if filled:
            for f, v in filled.items():
                setattr(survivor, f, v)
            survivor.refresh_search_name()
            Child.unscoped.filter(pk=survivor.pk).update(**filled, search_name=survivor.search_name, updated_at=now)
        chosen = _apply_choices(
            actor,
            Child.unscoped.get(pk=survivor.pk),
            merged.pk,
            survivor_raw,
            merged_raw,
            choices,
            note=f"merge: {reason.strip()}",
        )
        # The survivor's risks with the combined facts; remember the flags this creates or changes.
        flags_before = {
            f.pk: {"status": f.status, "resolved_at": _json(f.resolved_at), "resolution": f.resolution}
            for f in RiskFlag.unscoped.filter(child=survivor)
        }
        engine.evaluate(actor, children=[Child.unscoped.get(pk=survivor.pk)])
        flags_after = {f.pk: f for f in RiskFlag.unscoped.filter(child=survivor)}
        before["flags_created"] = sorted(set(flags_after) - set(flags_before))
        before["flags_changed"] = {
            str(pk): state
            for pk, state in flags_before.items()
            if pk in flags_after and flags_after[pk].status != state["status"]
        }
        merge_record = MergeRecord.objects.create(  # type: ignore[misc]
            survivor=survivor,
            merged=merged,
            pair=pair,
            actor=actor.user,
            reason=reason.strip()[:300],
            moved=moved,
            before=before,
        )
        if pair is not None:
            DuplicatePair.objects.filter(pk=pair.pk).update(
                status=PairStatus.MERGED, reviewed_by=actor.user, reviewed_at=now
            )
        summary = {label: len(ids) for label, ids in moved.items()}
        record(
            actor,
            Action.CREATE,
            merge_record,
            child_id=survivor.pk,
            after={"merged": merged.pk, "moved": summary, "kept": before["kept"], "chosen": chosen},
            note=reason.strip()[:300],
        )
        record(
            actor,
            Action.UPDATE,
            survivor,
            child_id=survivor.pk,
            before={f: _json(before["survivor"][f]) for f in filled},
            after={f: _json(v) for f, v in filled.items()},
            note=f"merge {merge_record.pk}",
        )
        record(
            actor,
            Action.UPDATE,
            merged,
            child_id=merged.pk,
            before={"voided_at": None},
            after={"voided_at": now.isoformat(), "merged_into": survivor.pk},
            note=f"merge {merge_record.pk}",
        )
    return merge_record


def unmerge(actor: Actor, merge_record: MergeRecord, reason: str) -> MergeRecord:
    """Undo a merge: both records and what belonged to each, as they were before it."""
    errors = Collector()
    if merge_record.undone_at is not None:
        errors.add("merge", "undone", _("This merge was already undone."))
    if not (reason or "").strip():
        errors.add("reason", "required", _("Say why the merge is undone."))
    errors.raise_if_any()
    if not may_merge(actor.user):
        raise PermissionDenied(_("Only coordinators and managers merge records."))
    survivor = scope.get_child_or_404(actor.user, merge_record.survivor_id)
    merged = Child.unscoped.get(pk=merge_record.merged_id)
    before = merge_record.before
    with transaction.atomic():
        fields = dict(_related())
        models_by_label = {m._meta.label_lower: m for m, _f in _related()}
        for label, ids in merge_record.moved.items():
            model = models_by_label[label]
            field = fields[model]
            model._default_manager.filter(pk__in=ids, **{field: survivor}).update(**{field: merged})
        for pk, code in before.get("contact_code", {}).items():
            models_by_label["tracking.encounter"]._default_manager.filter(pk=int(pk)).update(contact_code=code)
        RiskFlag.unscoped.filter(pk__in=before.get("flags_created", [])).delete()
        for pk, state in before.get("flags_changed", {}).items():
            RiskFlag.unscoped.filter(pk=int(pk)).update(
                status=state["status"],
                resolved_at=RiskFlag._meta.get_field("resolved_at").to_python(state["resolved_at"]),
                resolution=state["resolution"],
            )
        # The survivor first: a document it took back goes to the merged record.
        _restore(survivor.pk, before["survivor"])
        _restore(merged.pk, before["merged"])
        now = timezone.now()
        MergeRecord.objects.filter(pk=merge_record.pk).update(
            undone_at=now, undone_by=actor.user, undo_reason=reason.strip()[:300]
        )
        if merge_record.pair_id:
            DuplicatePair.objects.filter(pk=merge_record.pair_id).update(
                status=PairStatus.OPEN, reviewed_by=None, reviewed_at=None
            )
        record(
            actor,
            Action.UPDATE,
            merge_record,
            child_id=survivor.pk,
            before={"undone": False},
            after={"undone": True},
            note=reason.strip()[:300],
        )
        record(
            actor,
            Action.UPDATE,
            merged,
            child_id=merged.pk,
            before={"voided_at": "merged"},
            after={"voided_at": None},
            note=f"unmerge {merge_record.pk}",
        )
    merge_record.refresh_from_db()
    return merge_record


def merged_into(child_id: int) -> list[int]:
    """Ids of the records currently merged into this one (their history belongs to it)."""
    return list(
        MergeRecord.objects.filter(survivor_id=child_id, undone_at__isnull=True).values_list("merged_id", flat=True)
    )


def survivor_of(child_id: int) -> int | None:
    """The record that now holds a merged child (following merges of merges), or None if the child was
    not merged. Says nothing about whether anybody may see it: the caller asks the scope."""
    seen: set[int] = set()
    current: int | None = None
    following = child_id
    while following not in seen:
        seen.add(following)
        survivor = (
            MergeRecord.objects.filter(merged_id=following, undone_at__isnull=True)
            .values_list("survivor_id", flat=True)
            .first()
        )
        if survivor is None:
            break
        current = following = survivor
    return current


def survivors_of_number(registry_number: str) -> list[int]:
    """The records that hold the children once known by ``registry_number`` and merged since (an old
    registry number still finds the child). Ids only: the caller restricts them to the user's scope."""
    merged = MergeRecord.objects.filter(
        merged__registry_number=registry_number.strip().upper(), undone_at__isnull=True
    ).values_list("merged_id", flat=True)
    return [s for s in (survivor_of(m) for m in merged) if s is not None]


def mark_distinct(actor: Actor, pair: DuplicatePair, note: str = "") -> DuplicatePair:
    """A reviewer says the two records are different children: the pair is not proposed again."""
    _children_of(actor, pair.child_a_id, pair.child_b_id)
    with transaction.atomic():
        now = timezone.now()
        DuplicatePair.objects.filter(pk=pair.pk).update(
            status=PairStatus.DISTINCT, reviewed_by=actor.user, reviewed_at=now, note=(note or "").strip()[:300]
        )
        record(
            actor,
            Action.UPDATE,
            pair,
            child_id=pair.child_a_id,
            before={"status": pair.status},
            after={"status": PairStatus.DISTINCT},
            note=note[:300],
        )
    pair.refresh_from_db()
    return pair


def pairs_for(user: Any) -> models.QuerySet[DuplicatePair]:
    """Pairs whose two records the user may see (deny by default: nobody else sees a pair)."""
    if not may_merge(user):
        return DuplicatePair.objects.none()
    visible = scope.children(user).values("pk")
    return DuplicatePair.objects.filter(child_a__in=visible, child_b__in=visible)


def merges_for(user: Any) -> models.QuerySet[MergeRecord]:
    if not may_merge(user):
        return MergeRecord.objects.none()
    return MergeRecord.objects.filter(survivor__in=scope.children(user).values("pk"))
