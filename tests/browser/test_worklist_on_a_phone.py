"""A worklist row carrying many alerts (flags of several rules, growth alerts, an overdue contact with its
deadline) still fits a 390 px phone, on every tab of the health worker's home and of the worklist page."""

from __future__ import annotations

import datetime as dt

from crecer.risks.models import RiskFlag
from crecer.tracking import actions as tracking_actions
from tests.browser.conftest import fits_the_phone
from tests.conftest import SYSTEM


def test_a_row_with_many_alerts_fits_the_phone_on_every_tab(
    transactional_db, sign_in, cast, make_child, make_mother, today
):
    mother = make_mother(phone="+56 9 8765 4321", birth_date=(today - dt.timedelta(days=16 * 365)).isoformat())
    child = make_child(
        given_names="Maximiliano Alejandro Benjamín",
        paternal_surname="Fernández de la Fuente",
        birth_date=(today - dt.timedelta(days=300)).isoformat(),
        facility_code="F-ALTA",
        mother_national_id=mother.national_id,
    )
    # Short and thin for his age, the Edinburgh scale of his mother positive, an EEDP in delay, and every
    # check-up of the schedule missed: several flags and growth alerts on one row.
    tracking_actions.record_encounter(
        SYSTEM,
        {
            "date": today.isoformat(),
            "measurement": {"weight_kg": 6.2, "length_cm": 64.0},
            "screenings": [
                {"instrument": "epds", "inputs": {"items": [2, 2, 2, 2, 2, 2, 2, 1, 1, 0]}},
                {"instrument": "eedp", "inputs": {"cd": 0.62}},
            ],
            "confirm_reason": "medido dos veces",
        },
        child=child,
    )
    assert RiskFlag.unscoped.filter(child=child, status="open").count() >= 3

    page = sign_in(cast["nurse_alta"])
    for path in ("/", "/?tab=today", "/?tab=overdue", "/?tab=missed", "/?tab=risk", "/worklists/?tab=risk"):
        page.goto(page.base + path)
        assert fits_the_phone(page), (path, page.evaluate("document.documentElement.scrollWidth"))
    assert "Maximiliano" in page.content()  # the row is on the risk tab
