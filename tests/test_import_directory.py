"""Importing the service catalogue and the provider directory."""

from __future__ import annotations

import io

from django.core.management import call_command

from crecer.imports.models import RejectedRow
from crecer.referrals.models import Provision, Service


def _import(tmp_path, kind, text):
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    try:
        call_command("import", kind, str(path), "--quiet", stdout=io.StringIO())
    except SystemExit as exc:
        return exc.code
    return 0


def test_services_and_providers(tmp_path, network):
    assert (
        _import(
            tmp_path,
            "services",
            "code,name_es,name_en,sector,axis,universal,eligibility_es,eligibility_en,acceptance_days,attention_days,active\n"
            "nutrition_group,Taller de alimentación,Feeding workshop,health,health_nutrition,no,,,4,20,yes\n"
            "home_visit,Visita domiciliaria,Home visit,health,protective_environments,no,,,3,10,yes\n"
            "bad,Malo,Bad,space,health_nutrition,no,,,4,20,yes\n",
        )
        == 3
    )
    assert Service.objects.get(code="nutrition_group").attention_days == 20
    assert Service.objects.get(code="home_visit").acceptance_days == 3  # edited
    assert RejectedRow.objects.get().errors["sector"][0]["code"] == "invalid_choice"
    status = _import(
        tmp_path,
        "providers",
        "organisation_code,organisation_name,sector,territory_code,service_code,territories,monthly_capacity\n"
        "CESFAM-NUT,CESFAM Nutrición,health,CL01001,nutrition_group,CL01001;CL01002,40\n"
        "CESFAM-NUT,CESFAM Nutrición,health,CL01001,spa,CL01001,40\n"
        "X,Y,health,CL01001,home_visit,CL99,\n",
    )
    assert status == 3
    provision = Provision.objects.get(organisation__code="CESFAM-NUT")
    assert provision.monthly_capacity == 40 and {t.code for t in provision.territories.all()} == {"CL01001", "CL01002"}
    assert (
        _import(
            tmp_path,
            "providers",
            "organisation_code,organisation_name,sector,territory_code,service_code,territories,monthly_capacity\n"
            "CESFAM-NUT,CESFAM Nutrición,health,CL01001,nutrition_group,CL01001;CL01002,40\n",
        )
        == 0
    )
    assert Provision.objects.filter(organisation__code="CESFAM-NUT").count() == 1
