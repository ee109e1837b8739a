"""The child's timeline speaks the user's language: numbers with the decimal comma, dates as the language
writes them, instruments by their names (never codes or ISO dates)."""

from __future__ import annotations

import datetime as dt
import re

from django.test import Client

from crecer.tracking import actions as tracking_actions
from tests.conftest import SYSTEM


def test_the_timeline_writes_numbers_dates_and_names_in_spanish(cast, make_child, today):
    child = make_child(birth_date=(today - dt.timedelta(days=70)).isoformat(), facility_code="F-ALTA")
    tracking_actions.record_encounter(
        SYSTEM,
        {
            "date": today.isoformat(),
            "measurement": {"weight_kg": 5.4, "length_cm": 58.5},
            "screenings": [{"instrument": "epds", "inputs": {"items": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}}],
        },
        child=child,
    )
    client = Client()
    client.force_login(cast["coordinator_alta"])
    html = client.get(f"/children/{child.pk}/").content.decode()
    timeline = html.split("<svg", 1)[0] + html.rsplit("</svg>", 1)[-1]  # the growth chart draws its own labels
    assert "5,4 kg" in timeline and "58,5 cm" in timeline and "5.4 kg" not in timeline
    assert "Edimburgo" in html and "EPDS" not in html.replace("(EPDS)", "")
    text = re.sub(r"<[^>]+>", " ", html.split("<main", 1)[1])  # what people read, not the markup
    assert today.isoformat() not in text and today.strftime("%d/%m/%Y") in text
