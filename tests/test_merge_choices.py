"""A merge lets the coordinator choose, field by field, which record's value the survivor keeps: the
choice is validated with the registry's rules, audited, and undone with the merge."""

from __future__ import annotations

import pytest
from django.test import Client

from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.dedup import merging
from crecer.dedup.models import DedupRun, DuplicatePair, MergeRecord
from crecer.registry.models import Child
from crecer.validation import InputErrors
from tests.test_merge import _state, pair  # noqa: F401  (the same boy registered twice)


def test_differing_fields_are_offered(pair):  # noqa: F811
    kept, other = pair
    fields = {f: (a, b) for f, a, b in merging.differing(kept, other)}
    assert fields["given_names"] == ("Tomás", "Tomas")
    assert fields["maternal_surname"] == ("", "Pérez")
    assert fields["facility_code"] == ("F-ALTA", "")
    assert "birth_date" not in fields and "sex" not in fields  # the same in both


def test_merge_with_chosen_values_is_validated_audited_and_undone(cast, pair):  # noqa: F811
    kept, other = pair
    coordinator = Actor(cast["coordinator_alta"], Channel.WEB)
    before = _state(kept.pk, other.pk)
    record = merging.merge(
        coordinator,
        kept.pk,
        other.pk,
        "Mismo niño",
        # The other record's spelling and document; the survivor's own (empty) maternal surname.
        choices={"given_names": other.pk, "national_id": other.pk, "maternal_surname": kept.pk},
    )
    kept.refresh_from_db()
    assert (kept.given_names, kept.national_id, kept.maternal_surname) == ("Tomas", "24965885-5", "")
    assert kept.birth_weight_g == 3100  # not chosen: the empty field takes the other's value, as before
    assert kept.search_name.startswith("tomas soto")
    event = AuditEvent.objects.get(entity="dedup.mergerecord", entity_id=record.pk, action=Action.CREATE)
    assert event.after["chosen"]["given_names"] == ["Tomás", "Tomas"]
    change = AuditEvent.objects.get(
        entity="registry.child", entity_id=kept.pk, action=Action.UPDATE, note__startswith="merge: "
    )
    assert change.before["given_names"] == "Tomás" and change.after["given_names"] == "Tomas"

    merging.unmerge(coordinator, record, "Eran distintos")
    assert _state(kept.pk, other.pk) == before


def test_a_bad_choice_is_refused_by_field_and_nothing_changes(cast, pair):  # noqa: F811
    kept, other = pair
    coordinator = Actor(cast["coordinator_alta"], Channel.WEB)
    before = _state(kept.pk, other.pk)
    with pytest.raises(InputErrors) as refused:
        merging.merge(coordinator, kept.pk, other.pk, "x", choices={"given_names": 999_999, "registry_number": kept.pk})
    assert {f: e[0].code for f, e in refused.value.errors.items()} == {
        "given_names": "invalid_choice",
        "registry_number": "unknown_field",
    }
    assert _state(kept.pk, other.pk) == before and not MergeRecord.objects.exists()


def test_merge_page_offers_a_radio_per_differing_field(cast, pair):  # noqa: F811
    kept, other = pair
    a, b = sorted((kept, other), key=lambda c: c.pk)
    duplicate = DuplicatePair.objects.create(
        run=DedupRun.objects.create(actor=None), child_a=a, child_b=b, probability=0.97, decision="match"
    )
    client = Client()
    client.force_login(cast["coordinator_alta"])
    page = client.get(f"/duplicates/{duplicate.pk}/")
    html = page.content.decode()
    assert 'name="choose_given_names" value="a"' in html and 'name="choose_given_names" value="b"' in html
    assert 'name="choose_sex"' not in html  # the same in both records: nothing to choose
    labels = {row["field"]: row["label"] for row in page.context["choices"]}
    assert str(labels["facility_code"]) == "Centro de salud"

    bad = client.post(
        f"/duplicates/{duplicate.pk}/",
        {"action": "keep_a", "reason": "Mismo niño", "choose_given_names": "z"},
    )
    assert bad.status_code == 400 and not MergeRecord.objects.exists()
    row = next(r for r in bad.context["choices"] if r["field"] == "given_names")
    assert row["errors"][0]["code"] == "invalid_choice"

    done = client.post(
        f"/duplicates/{duplicate.pk}/",
        {"action": "keep_a", "reason": "Mismo niño", "choose_given_names": "b", "choose_maternal_surname": "b"},
    )
    assert done.status_code == 302
    survivor = Child.unscoped.get(pk=a.pk)
    assert survivor.given_names == b.given_names and survivor.maternal_surname == "Pérez"
