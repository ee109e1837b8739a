"""A birth is recorded only when the pregnancy's dating allows it (weeks 20 to 45 from the last period or
the due date): one rule for the page, the API and the import, said in words beside the birth date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.test import Client

from crecer.imports.framework import run_import
from crecer.lib import pregnancy as pregnancy_dating
from crecer.registry import actions
from crecer.registry.models import Child, Pregnancy
from tests.conftest import SYSTEM


@pytest.fixture
def mother(make_mother):
    return make_mother(external_id="G1")


def _pregnancy(mother, today, weeks):
    return actions.create_pregnancy(
        SYSTEM, {"lmp_date": (today - dt.timedelta(weeks=weeks)).isoformat(), "facility_code": "F-ALTA"}, mother=mother
    )


NEWBORN = {
    "given_names": "Tomás",
    "paternal_surname": "Pérez",
    "sex": "M",
    "birth_weight_g": "3300",
    "gestational_weeks": "39",
}


def test_the_week_of_a_birth_is_checked_against_the_pregnancy(today):
    start = today - dt.timedelta(weeks=11)
    assert pregnancy_dating.birth_week_out_of_range(start, today) == 11
    assert pregnancy_dating.birth_week_out_of_range(start, start + dt.timedelta(weeks=20)) is None
    assert pregnancy_dating.birth_week_out_of_range(start, start + dt.timedelta(weeks=45, days=6)) is None
    assert pregnancy_dating.birth_week_out_of_range(start, start + dt.timedelta(weeks=46)) == 46
    assert pregnancy_dating.birth_week_out_of_range(start, start - dt.timedelta(days=3)) == 0


def test_the_birth_page_refuses_a_birth_at_week_11_beside_the_birth_date(cast, mother, today):
    pregnancy = _pregnancy(mother, today, 11)
    client = Client()
    client.force_login(cast["nurse_alta"])
    response = client.post(f"/pregnancies/{pregnancy.pk}/birth/", {**NEWBORN, "birth_date": today.isoformat()})
    assert response.status_code == 422
    assert [e["code"] for e in response.context["errors"]["birth_date"]] == ["not_this_pregnancy"]
    assert "semana 11" in response.content.decode()
    assert not Child.unscoped.exists()
    assert Pregnancy.unscoped.get(pk=pregnancy.pk).outcome == "ongoing"


def test_the_api_and_the_page_accept_a_birth_at_term(cast, api_client, mother, today):
    pregnancy = _pregnancy(mother, today, 39)
    response = api_client(cast["nurse_alta"]).post(
        f"/api/v1/pregnancies/{pregnancy.pk}/birth",
        {**NEWBORN, "birth_date": today.isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert Child.unscoped.get().pregnancy_id == pregnancy.pk


def test_the_import_refuses_the_same_birth_with_the_same_rule(cast, mother, today, tmp_path: Path):
    children = tmp_path / "children.csv"
    children.write_text(
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code\n"
        f"CB,Tomás,Pérez,,M,{today.isoformat()},,,CL01001\n",
        encoding="utf-8",
    )
    assert run_import("children", children, SYSTEM).created == 1
    pregnancies = tmp_path / "pregnancies.csv"
    lmp = (today - dt.timedelta(weeks=11)).isoformat()
    pregnancies.write_text(
        "external_id,mother_external_id,lmp_date,edd_date,outcome,outcome_date,child_external_id\n"
        f"P1,G1,{lmp},,live_birth,{today.isoformat()},CB\n",
        encoding="utf-8",
    )
    result = run_import("pregnancies", pregnancies, SYSTEM)
    assert result.created == 0
    (rejected,) = result.rejected
    assert "not_this_pregnancy" in str(rejected)
    assert Child.unscoped.get().pregnancy_id is None
