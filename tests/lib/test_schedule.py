"""Check-up schedule states at the edges of each window, assignment of encounters, and SQL date ranges."""

from __future__ import annotations

import datetime as dt

import pytest

from crecer.lib import profiles
from crecer.lib.schedule import Contact, State, assign, birth_dates_in_state, build_contacts, states

M1 = Contact("m1", "1 mes", "1 month", start=23, end=44, late_until=75)


@pytest.mark.parametrize(
    ("age", "state"),
    [
        (0, State.UPCOMING),
        (22, State.UPCOMING),
        (23, State.DUE),
        (44, State.DUE),
        (45, State.OVERDUE),
        (75, State.OVERDUE),
        (76, State.MISSED),
    ],
)
def test_states_at_window_edges(age, state):
    assert M1.state(age) == state


def test_done_wins_over_time():
    assert M1.state(400, done=True) == State.DONE


def test_late_until_defaults_to_the_next_window_end_and_last_has_grace():
    contacts = build_contacts(
        [
            {"code": "a", "name_es": "A", "name_en": "A", "start": 10, "end": 20},
            {"code": "b", "name_es": "B", "name_en": "B", "start": 30, "end": 40},
        ]
    )
    assert [c.late_until for c in contacts] == [40, 130]


def test_assign_prefers_the_due_contact_then_the_earliest_overdue():
    schedule = profiles.load("cl").child_schedule
    by = {c.code: c for c in schedule}
    assert assign(schedule, 30).code == "m1"
    assert assign(schedule, 30, done={"m1"}).code == "dyad"  # the late dyad visit is caught up
    assert assign(schedule, 30, done={"m1", "dyad"}) is None  # nothing else is due or overdue
    # Once the 2-month window opens, that contact is due: it is assigned, the late 1-month stays open.
    assert assign(schedule, by["m2"].start + 1).code == "m2"
    assert assign(schedule, by["m2"].end - 1, done={"m2"}).code == "m1"
    # Once the 2-month window has closed, the 1-month contact is missed: nothing to assign.
    assert assign(schedule, by["m2"].end + 3, done={"m2"}) is None


def test_states_for_a_child():
    born = dt.date(2025, 1, 1)
    result = {
        s.contact.code: s for s in states(profiles.load("cl").child_schedule, born, dt.date(2025, 3, 1), done={"dyad"})
    }
    assert result["dyad"].state == State.DONE
    assert result["m1"].state == State.OVERDUE and result["m2"].state == State.DUE
    assert result["m2"].opens == born + dt.timedelta(days=result["m2"].contact.start)


@pytest.mark.parametrize("state", [State.DUE, State.OVERDUE, State.MISSED, State.UPCOMING])
def test_birth_date_ranges_agree_with_states(state):
    today = dt.date(2026, 11, 23)
    low, high = birth_dates_in_state(M1, state, today)
    for days_old in range(0, 120):
        born = today - dt.timedelta(days=days_old)
        assert (low <= born <= high) == (M1.state(days_old) == state), days_old


def test_due_this_week_range():
    today = dt.date(2026, 11, 23)
    low, high = birth_dates_in_state(M1, State.DUE, today, horizon_days=6)
    due_some_day = {
        days_old for days_old in range(0, 120) if any(M1.state(days_old + k) == State.DUE for k in range(7))
    }
    assert {(today - b).days for b in (low, high)} == {max(due_some_day), min(due_some_day)}


@pytest.mark.parametrize("profile_id", ["cl", "pe", "sv"])
def test_shipped_schedules(profile_id):
    profile = profiles.load(profile_id)
    assert profile.child_schedule and profile.prenatal_schedule
    starts = [c.start for c in profile.child_schedule]
    assert starts == sorted(starts)
    assert all(c.start <= c.end <= c.late_until for c in profile.child_schedule)
    # The first prenatal contact is due before 14 weeks of gestation.
    assert profile.prenatal_schedule[0].end == 13 * 7 + 6


def test_peru_newborn_windows_in_days():
    codes = {c.code: (c.start, c.end) for c in profiles.load("pe").child_schedule}
    assert [codes[f"rn{i}"] for i in range(1, 5)] == [(3, 6), (7, 14), (15, 21), (22, 28)]


def test_chile_screenings_in_schedule():
    by = {c.code: c for c in profiles.load("cl").child_schedule}
    assert by["m8"].screenings == ("eedp",) and by["m18"].screenings == ("eedp",)
    assert by["y3"].screenings == ("tepsi",)
    assert by["m4"].screenings == ("pauta_breve",) and "epds" in by["m2"].screenings
