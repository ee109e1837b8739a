"""Recording safely: impossible values are refused; values WHO flags as implausible, instruments outside
their age band and scores outside their scale are refused or need a reason, as the country profile says;
the same rule and the same field-named error on the check-up page, the API and imports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from crecer import conf
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.lib import profiles
from crecer.tracking import actions
from crecer.tracking.models import Encounter, Measurement, Screening
from crecer.validation import InputErrors


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def newborn(make_child, make_mother, today):
    make_mother()
    return make_child(
        birth_date=(today - dt.timedelta(days=15)).isoformat(),
        facility_code="F-ALTA",
        mother_national_id="15432876-9",
    )


@pytest.fixture
def infant(make_child, today):
    return make_child(birth_date=(today - dt.timedelta(days=250)).isoformat(), facility_code="F-ALTA")


def _with_checks(monkeypatch, code: str, **changes):
    """The running profile with instrument ``code``'s checks changed."""
    profile = conf.profile()
    checks = dict(profile.instrument_checks)
    checks[code] = dataclasses.replace(profile.checks(code), **changes)
    monkeypatch.setattr(conf, "profile", lambda: dataclasses.replace(profile, instrument_checks=checks))


def _post(client, child, data):
    return client.post(f"/children/{child.pk}/check-up/", {"date": timezone.localdate().isoformat(), **data})


# --- measurements ----------------------------------------------------------------------------------------


def test_a_39_kg_newborn_needs_a_reason_and_is_saved_with_it(cast, newborn):
    client = _client(cast["nurse_alta"])
    page = _post(client, newborn, {"m.weight_kg": "39", "m.length_cm": "50"})
    assert page.status_code == 422
    assert not Encounter.unscoped.filter(child=newborn).exists()  # nothing saved
    html = page.content.decode()
    assert "measurement.weight_kg" not in html and "m.weight_kg:" not in html
    field = page.context["measurement_fields"][0]
    assert field["name"] == "m.weight_kg" and field["value"] == "39"  # the value comes back
    assert [e["code"] for e in field["errors"]] == ["needs_confirmation"]
    assert 'id="m-weight_kg-error"' in html and 'name="m.confirm_reason"' in html
    page = _post(client, newborn, {"m.weight_kg": "39", "m.length_cm": "50", "m.confirm_reason": "Weighed twice"})
    assert page.status_code == 302
    measurement = Measurement.unscoped.get(child=newborn)
    assert measurement.weight_kg == 39 and "wfa" in measurement.implausible
    assert measurement.confirmation_reason == "Weighed twice"
    shown = [str(m) for m in client.get(page.url).context["messages"]]
    assert shown and "Peso (kg)" in shown[0]  # says what was saved


def test_an_impossible_value_is_refused_even_with_a_reason(cast, newborn):
    page = _post(_client(cast["nurse_alta"]), newborn, {"m.weight_kg": "390", "m.confirm_reason": "sure"})
    assert page.status_code == 422
    assert [e["code"] for e in page.context["measurement_fields"][0]["errors"]] == ["out_of_range"]
    assert not Measurement.unscoped.filter(child=newborn).exists()


def test_a_profile_that_refuses_implausible_values_refuses_them_with_a_reason(cast, newborn, monkeypatch):
    profile = conf.profile()
    refusing = dataclasses.replace(profile.measurement_checks, who_implausible="refuse")
    monkeypatch.setattr(conf, "profile", lambda: dataclasses.replace(profile, measurement_checks=refusing))
    with pytest.raises(InputErrors) as caught:
        actions.record_encounter(
            Actor(cast["nurse_alta"], Channel.API),
            {"date": timezone.localdate().isoformat(), "measurement": {"weight_kg": 39, "confirm_reason": "sure"}},
            child=newborn,
        )
    assert [e.code for e in caught.value.errors["measurement.weight_kg"]] == ["implausible"]


def test_the_api_gives_the_same_field_named_error_and_accepts_the_reason(cast, newborn, api_client):
    client = api_client(cast["nurse_alta"])
    url = f"/api/v1/children/{newborn.pk}/encounters"
    body = {"date": timezone.localdate().isoformat(), "measurement": {"weight_kg": 39}}
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]["measurement.weight_kg"]] == ["needs_confirmation"]
    body["measurement"]["confirm_reason"] = "Weighed twice"
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    assert Measurement.unscoped.get(child=newborn).confirmation_reason == "Weighed twice"


# --- screenings ---------------------------------------------------------------------------------------------


def test_an_eedp_coefficient_of_1_9_needs_a_reason_as_the_profile_says(cast, infant, api_client):
    assert conf.profile().checks("eedp").outside_scale == "confirm"
    page = _post(_client(cast["nurse_alta"]), infant, {"use.eedp": "on", "s.eedp.cd": "1.9"})
    assert page.status_code == 422
    eedp = next(i for i in page.context["instruments"] if i["code"] == "eedp")
    assert [e["code"] for f in eedp["fields"] for e in f["errors"]] == ["needs_confirmation"]
    assert eedp["confirm"] and "screenings[0]" not in page.content.decode()
    page = _post(
        _client(cast["nurse_alta"]),
        infant,
        {"use.eedp": "on", "s.eedp.cd": "1.9", "s.eedp.confirm_reason": "Applied twice, same result"},
    )
    assert page.status_code == 302
    screening = Screening.unscoped.get(child=infant)
    assert screening.score == 1.9 and screening.confirmation_reason == "Applied twice, same result"


def test_an_eedp_coefficient_of_1_9_is_refused_when_the_profile_refuses(cast, infant, api_client, monkeypatch):
    _with_checks(monkeypatch, "eedp", outside_scale="refuse")
    response = api_client(cast["nurse_alta"]).post(
        f"/api/v1/children/{infant.pk}/encounters",
        json.dumps(
            {
                "date": timezone.localdate().isoformat(),
                "screenings": [{"instrument": "eedp", "inputs": {"cd": 1.9}, "confirm_reason": "sure"}],
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]["screenings[0].inputs.cd"]] == ["out_of_scale"]
    assert not Screening.unscoped.filter(child=infant).exists()


@pytest.mark.parametrize("policy", ["confirm", "refuse"])
def test_pauta_breve_at_15_days(cast, newborn, monkeypatch, policy):
    _with_checks(monkeypatch, "pauta_breve", outside_age=policy)
    actor = Actor(cast["nurse_alta"], Channel.API)
    raw = {
        "date": timezone.localdate().isoformat(),
        "screenings": [{"instrument": "pauta_breve", "inputs": {"items": [True, True, True, True]}}],
    }
    with pytest.raises(InputErrors) as caught:
        actions.record_encounter(actor, raw, child=newborn)
    (error,) = caught.value.errors["screenings[0].instrument"]
    assert error.code == ("needs_confirmation" if policy == "confirm" else "outside_age")
    assert "15" in error.message and "pauta_breve" not in error.message
    raw["screenings"][0]["confirm_reason"] = "Mother asked, child born at term"
    if policy == "refuse":
        with pytest.raises(InputErrors):
            actions.record_encounter(actor, raw, child=newborn)
        assert not Screening.unscoped.filter(child=newborn).exists()
    else:
        actions.record_encounter(actor, raw, child=newborn)
        assert Screening.unscoped.get(child=newborn).confirmation_reason == "Mother asked, child born at term"


def test_the_form_offers_the_instruments_of_the_age_with_their_questions(cast, newborn, infant):
    client = _client(cast["nurse_alta"])
    codes = [i["code"] for i in client.get(f"/children/{newborn.pk}/check-up/").context["instruments"]]
    assert "pauta_breve" not in codes and "tepsi" not in codes and "eedp" in codes
    page = client.get(f"/children/{infant.pk}/check-up/")
    first = page.context["instruments"][0]
    assert first["code"] == "eedp" and first["expected"] and first["use"]  # due at 8 months
    html = page.content.decode()
    assert "Coeficiente de desarrollo" in html and 'max="3"' in html and 'step="0.01"' in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Development coefficient" in client.get(f"/children/{infant.pk}/check-up/").content.decode()


def test_epds_questions_come_from_the_profile(cast, newborn):
    fields = next(
        i
        for i in _client(cast["nurse_alta"]).get(f"/children/{newborn.pk}/check-up/").context["instruments"]
        if i["code"] == "epds"
    )["fields"]
    assert len(fields) == 10
    assert fields[9]["field"].label == conf.profile().checks("epds").fields[9].text_es


def test_the_profile_refuses_bad_checks():
    data = {"version": "1", "instruments": ["eedp"], "instrument": {"eedp": {"outside_scale": "maybe"}}}
    with pytest.raises(profiles.ProfileError, match="outside_scale"):
        profiles.parse_instrument_checks(data, "instruments.toml", ("eedp",))
    data["instrument"] = {"eedp": {"age_days": [0, 5000]}}
    with pytest.raises(profiles.ProfileError, match="age band"):
        profiles.parse_instrument_checks(data, "instruments.toml", ("eedp",))
    with pytest.raises(profiles.ProfileError, match="unknown measurement"):
        profiles.parse_measurement_checks({"bounds": {"shoe_size": [1, 2]}}, "profile.toml")


def test_a_refused_role_cannot_open_the_form(cast, infant):
    assert _client(cast["regional_norte"]).get(f"/children/{infant.pk}/check-up/").status_code == 403
    assert _client(cast["nurse_baja"]).get(f"/children/{infant.pk}/check-up/").status_code == 404


# --- imports --------------------------------------------------------------------------------------------------


def test_an_import_row_without_confirmation_is_rejected_with_the_same_message(cast, newborn, tmp_path):
    from crecer.imports.framework import run_import
    from tests.conftest import SYSTEM

    today = timezone.localdate()
    for key in ("E1", "E2", "E3"):
        encounter = actions.record_encounter(SYSTEM, {"date": today.isoformat(), "kind": "home_visit"}, child=newborn)
        Encounter.unscoped.filter(pk=encounter.pk).update(external_id=key)
    path = tmp_path / "measurements.csv"
    path.write_text(
        "encounter_external_id,weight_kg,length_cm,confirm_reason\nE1,39,50,\nE2,39,50,Weighed twice\nE3,3.4,50,\n",
        encoding="utf-8",
    )
    result = run_import("measurements", path, SYSTEM, evaluate_risks=False)
    assert result.created == 2
    (rejected,) = result.rejected
    assert rejected.line == 2 and [e["code"] for e in rejected.errors["weight_kg"]] == ["needs_confirmation"]
    with pytest.raises(InputErrors) as caught:
        actions.record_encounter(
            SYSTEM, {"date": today.isoformat(), "measurement": {"weight_kg": 39, "length_cm": 50}}, child=newborn
        )
    assert caught.value.errors["measurement.weight_kg"][0].message == rejected.errors["weight_kg"][0]["message"]
    confirmed = Measurement.unscoped.get(encounter__external_id="E2")
    assert confirmed.confirmation_reason == "Weighed twice"
    assert Measurement.unscoped.get(encounter__external_id="E3").confirmation_reason == ""


def test_an_imported_screening_outside_the_age_band_needs_its_reason(cast, newborn, tmp_path):
    from crecer.imports.framework import run_import
    from tests.conftest import SYSTEM

    encounter = actions.record_encounter(SYSTEM, {"date": timezone.localdate().isoformat()}, child=newborn)
    Encounter.unscoped.filter(pk=encounter.pk).update(external_id="E1")
    answers = '"{""items"": [true, true, true, true]}"'
    path = tmp_path / "screenings.csv"
    path.write_text(
        "external_id,encounter_external_id,instrument,inputs,confirm_reason\n"
        f"S1,E1,pauta_breve,{answers},\n"
        f"S2,E1,pauta_breve,{answers},Applied early\n",
        encoding="utf-8",
    )
    result = run_import("screenings", path, SYSTEM, evaluate_risks=False)
    assert result.created == 1
    assert [e["code"] for e in result.rejected[0].errors["instrument"]] == ["needs_confirmation"]
    assert Screening.unscoped.get(external_id="S2").confirmation_reason == "Applied early"
