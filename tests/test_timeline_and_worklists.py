"""The child's timeline (order, categories, scope) and the worklists (due, overdue, missed, risk)."""

from __future__ import annotations

import datetime as dt

import pytest

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.tracking import actions, timeline, worklists
from crecer.validation import InputErrors
from tests.conftest import SYSTEM


@pytest.fixture
def kids(make_child, make_mother, today):
    """Born 70 days ago (2-month check-up due, 1-month overdue), 10 days ago (dyad due),
    300 days ago (8-month contact missed recently), in Alta, enrolled at F-ALTA."""
    make_mother()

    def born(days, name):
        return make_child(
            given_names=name, birth_date=(today - dt.timedelta(days=days)).isoformat(), facility_code="F-ALTA"
        )

    return {"d70": born(70, "Setenta"), "d10": born(10, "Diez"), "d300": born(300, "Trescientos")}


def _ids(rows):
    return {(r["pk"], r["contact"]) for r in rows}


def test_due_this_week(cast, kids, today):
    rows = worklists.worklist(cast["nurse_alta"], "week", today)
    got = _ids(rows)
    assert (kids["d70"].pk, "m2") in got and (kids["d10"].pk, "dyad") in got
    assert (kids["d70"].pk, "m1") not in got  # overdue, not due


def test_overdue_and_recording_removes_it(cast, kids, today):
    assert (kids["d70"].pk, "m1") in _ids(worklists.worklist(cast["nurse_alta"], "overdue", today))
    actions.record_encounter(
        Actor(cast["nurse_alta"], Channel.WEB), {"date": today.isoformat(), "contact_code": "m1"}, child=kids["d70"]
    )
    assert (kids["d70"].pk, "m1") not in _ids(worklists.worklist(cast["nurse_alta"], "overdue", today))


def test_missed_recently(cast, kids, today):
    missed = _ids(worklists.worklist(cast["nurse_alta"], "missed", today))
    # At 300 days the 6-month contact's catch-up time ended 27 days ago; the 5-month one ended too long ago.
    assert (kids["d300"].pk, "m6") in missed and (kids["d300"].pk, "m5") not in missed
    assert (kids["d300"].pk, "m8") in _ids(worklists.worklist(cast["nurse_alta"], "overdue", today))
    assert all(pk != kids["d10"].pk for pk, _ in missed)


def test_worklists_are_scoped(cast, kids, today):
    assert not list(worklists.worklist(cast["nurse_baja"], "week", today))
    assert not list(worklists.worklist(cast["inspector"], "week", today))


def test_risk_tab_from_growth_and_screening(cast, kids, today):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    # Severe wasting at 300 days: very low weight for the length.
    actions.record_encounter(
        nurse,
        {
            "date": today.isoformat(),
            "measurement": {"weight_kg": 5.5, "length_cm": 72, "confirm_reason": "Weighed twice"},  # WHO flags it
        },
        child=kids["d300"],
    )
    # A development screening in delay for the 70-day-old.
    actions.record_encounter(
        nurse,
        {"date": today.isoformat(), "screenings": [{"instrument": "eedp", "inputs": {"cd": 0.6}}]},
        child=kids["d70"],
    )
    risky = {c.pk for c in worklists.worklist(cast["nurse_alta"], "risk", today)}
    assert risky == {kids["d300"].pk, kids["d70"].pk}
    # The screening corrected to a normal score: no longer an open risk.
    from crecer.tracking.models import Screening

    actions.correct_screening(nurse, Screening.unscoped.get(child=kids["d70"]), {"cd": 0.95}, "re-scored")
    assert {c.pk for c in worklists.worklist(cast["nurse_alta"], "risk", today)} == {kids["d300"].pk}
    rows = worklists.build_rows(
        cast["nurse_alta"], "risk", list(worklists.worklist(cast["nurse_alta"], "risk", today)), today
    )
    assert "wasting_severe" in rows[0].alerts


def test_timeline_in_date_order_with_states(cast, kids, today):
    child = kids["d70"]
    actions.record_encounter(
        Actor(cast["nurse_alta"], Channel.WEB),
        {"date": (today - dt.timedelta(days=35)).isoformat(), "measurement": {"weight_kg": 4.4}},
        child=child,
    )
    items = timeline.build(cast["nurse_alta"], child, today)
    dates = [i.date for i in items]
    assert dates == sorted(dates)
    kinds = [i.kind for i in items]
    assert kinds[0] == "birth" and "encounter" in kinds and "measurement" in kinds
    contacts = {i.title: i.state for i in items if i.kind == "contact"}
    assert contacts["Control de salud 2 meses"] == "due"
    # The check-up at 35 days fulfilled the 1-month contact: listed as an encounter, not as pending.
    assert "Control de salud 1 mes" not in contacts
    assert any(i.kind == "encounter" and i.title == "Control de salud 1 mes" for i in items)


def test_timeline_hides_categories(cast, kids, today):
    child = kids["d70"]
    actions.record_encounter(
        Actor(cast["nurse_alta"], Channel.WEB),
        {"date": today.isoformat(), "screenings": [{"instrument": "epds", "inputs": {"items": [3] * 9 + [1]}}]},
        child=child,
    )
    nurse_sees = [i for i in timeline.build(cast["nurse_alta"], child, today) if i.kind == "screening"]
    manager_sees = [i for i in timeline.build(cast["national"], child, today) if i.kind == "screening"]
    assert nurse_sees and nurse_sees[0].alert and not manager_sees  # mental health is sensitive


def test_group_programme_completion(cast, kids, make_mother, today):
    from crecer.registry.models import Caregiver
    from crecer.territories.models import Facility

    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    group = actions.create_group(
        nurse,
        code="G1",
        name="Nadie es Perfecto — otoño",
        facility=Facility.objects.get(code="F-ALTA"),
        start_date=today - dt.timedelta(days=40),
        planned_sessions=6,
    )
    member = actions.record_attendance(nurse, group, Caregiver.unscoped.get(), [], kids["d70"])
    for n in range(1, 5):
        actions.record_session(nurse, group, n, today - dt.timedelta(days=40 - 7 * n), [member])
    member.refresh_from_db()
    assert member.sessions_attended == 4 and member.completed_on is not None  # 4 of 6 completes (profile)
    assert any(i.kind == "group" for i in timeline.build(cast["nurse_alta"], kids["d70"], today))
    with pytest.raises(InputErrors):
        actions.record_session(nurse, group, 9, today, [member])


def test_unborn_child_has_no_contacts(cast, country, today):
    from crecer.registry import actions as registry_actions

    child = registry_actions.create_child(SYSTEM, {"paternal_surname": "Pérez", "territory_code": "CL01001"})
    assert [i.kind for i in timeline.build(cast["nurse_alta"], child, today)] == []
