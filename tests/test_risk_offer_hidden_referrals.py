"""The pregnancy page's risk offer says "already referred" only because of a referral the user may see: a
referral is of its service's data category, and an open referral of a category hidden from the user does not
show through the flag's offer (nor is the user offered to send a referral of a category they cannot read)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from crecer.access import permissions
from crecer.access.categories import of_service
from crecer.registry.models import Pregnancy
from crecer.risks.models import RiskFlag
from crecer.web.prenatal import risk_offers


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def referred(cast, network, make_mother, today):
    """A pregnancy with a positive EPsA whose recommended home visit was already sent."""
    mother = make_mother()
    client = _client(cast["nurse_alta"])
    client.post(
        f"/pregnancies/new/?mother={mother.pk}",
        {
            "lmp_date": (today - dt.timedelta(weeks=10)).isoformat(),
            "first_visit_date": today.isoformat(),
            "facility_code": "F-ALTA",
            "use.epsa": "on",
            "s.epsa.low_support": "on",
        },
    )
    pregnancy = Pregnancy.unscoped.get(mother=mother)
    flag = RiskFlag.unscoped.get(pregnancy=pregnancy, rule_id="epsa_positive")
    sent = client.post(f"/pregnancies/{pregnancy.pk}/refer/", {"flag": flag.pk, "consent": "mental_health"})
    assert sent.status_code == 302
    return pregnancy, flag


def test_the_user_who_sees_the_referral_is_told_it_was_sent(cast, referred):
    pregnancy, _flag = referred
    (offer,) = risk_offers(cast["nurse_alta"], pregnancy)
    assert offer["referred"] and not offer["may_send"]


def test_a_referral_of_a_hidden_category_does_not_show_through_the_offer(cast, referred, monkeypatch):
    pregnancy, flag = referred
    nurse = cast["nurse_alta"]
    hidden = of_service("home_visit")
    readable = permissions.readable_categories
    # a user who reads the flag's category but not the category of the referral's service
    monkeypatch.setattr(
        permissions,
        "readable_categories",
        lambda user: readable(user) - {hidden} if user and user.pk == nurse.pk else readable(user),
    )
    assert flag.data_category in nurse.data_categories() and hidden not in nurse.data_categories()
    (offer,) = risk_offers(nurse, pregnancy)
    assert not offer["referred"]
    assert not offer["may_send"]  # nor offered a referral of a category the user cannot read
    html = _client(nurse).get(f"/pregnancies/{pregnancy.pk}/").content.decode()
    assert "already sent" not in html and "ya enviada" not in html
