"""The urgent e-mail links to the record with an absolute address (a relative one is useless in a mail
client): ``CRECER_SITE_URL``, else the first usable of ``CSRF_TRUSTED_ORIGINS`` and ``ALLOWED_HOSTS``; when
none is usable it says to search the registry number (never the name nor the result) and warns once."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.core import mail

from crecer.access.models import User
from crecer.referrals import actions as referral_actions
from crecer.tracking import actions as tracking_actions
from tests.conftest import SYSTEM

SEVERE = {"weight_kg": 4.0, "length_cm": 58, "oedema": True}


@pytest.fixture
def nurse(cast):
    user = cast["nurse_alta"]
    User.objects.filter(pk=user.pk).update(email="nurse@crecer.test")
    return user


@pytest.fixture
def urgent_mail(nurse, make_child, today, django_capture_on_commit_callbacks):
    """Record a severe acute malnutrition (urgent) for a new child; answer the child and the nurse's mail."""

    def record(name: str = "Amanda"):
        child = make_child(
            given_names=name, birth_date=(today - dt.timedelta(days=60)).isoformat(), facility_code="F-ALTA"
        )
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            tracking_actions.record_encounter(SYSTEM, {"date": today.isoformat(), "measurement": SEVERE}, child=child)
        bodies = [m.body for m in mail.outbox if m.to == ["nurse@crecer.test"]]
        assert len(bodies) == 1
        return child, bodies[0]

    return record


@pytest.fixture(autouse=True)
def _warn_again(monkeypatch):
    monkeypatch.setattr(referral_actions, "_warned_no_origin", False)


def test_the_configured_site_address_makes_the_link(settings, urgent_mail):
    settings.CRECER_SITE_URL = "https://crecer.example.cl/"
    child, body = urgent_mail()
    assert f"https://crecer.example.cl/children/{child.pk}/" in body
    assert "Amanda" not in body and "desnutrición" not in body.lower()


def test_without_it_the_first_trusted_origin(settings, urgent_mail):
    settings.CRECER_SITE_URL = ""
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.salud.cl", "https://crecer.salud.cl"]
    settings.ALLOWED_HOSTS = ["other.example.cl"]
    child, body = urgent_mail()
    assert f"https://crecer.salud.cl/children/{child.pk}/" in body


def test_else_the_first_usable_allowed_host(settings, urgent_mail):
    settings.CRECER_SITE_URL = ""
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.ALLOWED_HOSTS = ["*", "localhost", ".example.cl", "crecer.muni.cl"]
    settings.TLS = True
    child, body = urgent_mail()
    assert f"https://crecer.muni.cl/children/{child.pk}/" in body


def test_without_a_usable_address_the_mail_says_what_to_search_and_a_warning_is_logged_once(
    settings, urgent_mail, caplog
):
    settings.CRECER_SITE_URL = ""
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "*"]
    with caplog.at_level(logging.WARNING, logger="crecer.referrals.actions"):
        first, body = urgent_mail("Amanda")
        second, second_body = urgent_mail("Berta")
    assert "/children/" not in body and "http" not in body
    assert first.registry_number in body and second.registry_number in second_body
    assert "Amanda" not in body and "Berta" not in second_body and "desnutrición" not in body.lower()
    warnings = [r for r in caplog.records if "CRECER_SITE_URL" in r.getMessage()]
    assert len(warnings) == 1
