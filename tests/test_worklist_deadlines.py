"""Worklists a nurse works from: "today" (contacts open today) and "this week" (contacts whose window
closes within the next 7 days), sorted by deadline, with the caregiver's phone and the open flags."""

from __future__ import annotations

import datetime as dt

import pytest

from crecer.tracking import worklists
from tests.conftest import SYSTEM

# A Wednesday; the dates below are built by hand from the Chilean schedule (dyad 7–10 days, 1 month
# 23–44, 2 months 54–75, 3 months 84–105, 8 months 230–274).
DAY = dt.date(2026, 3, 4)


@pytest.fixture
def kids(make_child, make_mother):
    mother = make_mother(phone="+56 9 5555 0000")

    def born(days: int, name: str, **extra):
        return make_child(
            given_names=name, birth_date=(DAY - dt.timedelta(days=days)).isoformat(), facility_code="F-ALTA", **extra
        )

    return {
        "closes_today": born(75, "Hoy", mother_national_id=mother.national_id),  # 2 months: last day today
        "closes_in_6": born(69, "Seis"),  # 2 months: closes on DAY + 6
        "closes_in_7": born(68, "Siete"),  # 2 months: closes on DAY + 7, outside the week
        "dyad_in_3": born(7, "Diada"),  # dyad: opens today, closes on DAY + 3
        "closed_yesterday": born(76, "Ayer"),  # 2 months: overdue since today
        "long_window": born(240, "Ocho"),  # 8 months: open for another 34 days
    }


def _rows(user, tab):
    return [(r["pk"], r["contact"], r["closes"]) for r in worklists.worklist(user, tab, DAY)]


def test_this_week_holds_the_contacts_closing_in_the_next_seven_days_soonest_first(cast, kids):
    rows = _rows(cast["nurse_alta"], "week")
    assert [(pk, contact) for pk, contact, _closes in rows] == [
        (kids["closes_today"].pk, "m2"),
        (kids["dyad_in_3"].pk, "dyad"),
        (kids["closes_in_6"].pk, "m2"),
    ]
    assert [
        worklists.build_rows(cast["nurse_alta"], "week", [r], DAY)[0].closes
        for r in worklists.worklist(cast["nurse_alta"], "week", DAY)
    ] == [
        DAY,
        DAY + dt.timedelta(days=3),
        DAY + dt.timedelta(days=6),
    ]


def test_today_holds_every_contact_open_today_soonest_deadline_first(cast, kids):
    rows = _rows(cast["nurse_alta"], "today")
    got = [(pk, contact) for pk, contact, _closes in rows]
    assert got == [
        (kids["closes_today"].pk, "m2"),
        (kids["dyad_in_3"].pk, "dyad"),
        (kids["closes_in_6"].pk, "m2"),
        (kids["closes_in_7"].pk, "m2"),
        (kids["long_window"].pk, "m8"),
    ]
    assert (kids["closed_yesterday"].pk, "m2") not in got  # overdue: on its own tab
    assert (kids["closed_yesterday"].pk, "m2") in {
        (r["pk"], r["contact"]) for r in worklists.worklist(cast["nurse_alta"], "overdue", DAY)
    }


def test_a_contact_done_leaves_the_week(cast, kids):
    from crecer.tracking import actions

    actions.record_encounter(SYSTEM, {"date": DAY.isoformat(), "contact_code": "m2"}, child=kids["closes_today"])
    assert kids["closes_today"].pk not in {pk for pk, _c, _d in _rows(cast["nurse_alta"], "week")}


def test_rows_carry_the_caregivers_phone_and_the_open_flags_urgent_first(cast, kids, settings):
    from crecer.tracking import actions

    child = kids["closes_today"]
    actions.record_encounter(
        SYSTEM,
        {
            "date": DAY.isoformat(),
            "contact_code": "m1",
            "screenings": [{"instrument": "epds", "inputs": {"items": [2, 2, 2, 2, 2, 0, 0, 0, 0, 1]}}],
        },
        child=child,
    )
    rows = worklists.build_rows(
        cast["nurse_alta"], "week", list(worklists.worklist(cast["nurse_alta"], "week", DAY)), DAY
    )
    row = next(r for r in rows if r.child.pk == child.pk)
    assert row.phone == "+56 9 5555 0000"
    assert row.flags[0][0] == "maternal_self_harm"
    assert row.flags[0][2] is True
    # Without mental health granted, neither the flag nor the urgent mark shows.
    settings.CRECER_ROLE_SENSITIVE_CATEGORIES = {"health_worker": []}
    rows = worklists.build_rows(
        cast["nurse_alta"], "week", list(worklists.worklist(cast["nurse_alta"], "week", DAY)), DAY
    )
    flags = next(r for r in rows if r.child.pk == child.pk).flags
    assert "maternal_self_harm" not in {rule for rule, _label, _urgent in flags}
    assert not any(waiting for _rule, _label, waiting in flags)


def test_the_page_and_the_api_list_this_week_by_deadline(cast, make_child, api_client, today):
    from django.test import Client

    late = make_child(
        given_names="Tarde", birth_date=(today - dt.timedelta(days=69)).isoformat(), facility_code="F-ALTA"
    )
    soon = make_child(
        given_names="Pronto", birth_date=(today - dt.timedelta(days=75)).isoformat(), facility_code="F-ALTA"
    )
    body = api_client(cast["nurse_alta"]).get("/api/v1/worklists", {"tab": "week"}).json()
    assert [r["child"] for r in body["results"]] == [soon.pk, late.pk]
    assert body["results"][0]["closes"] == today.isoformat() and body["urgent"] == []
    client = Client()
    client.force_login(cast["nurse_alta"])
    page = client.get("/")  # a health worker's home: this week's list
    assert [r.child.pk for r in page.context["rows"]] == [soon.pk, late.pk]
    html = page.content.decode()
    assert html.index("Pronto") < html.index("Tarde")
