"""The `crecer` command line: users, generate + load, demo preparation, z-scores."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from crecer.access.models import Role, User
from crecer.registry.models import CaregiverLink, Child, Pregnancy
from crecer.territories.models import Territory
from tests.conftest import shared_data


def test_user_add(country):
    out = io.StringIO()
    call_command(
        "user",
        "add",
        "matrona",
        "--role",
        "health_worker",
        "--territory",
        "CL01001",
        "--facility",
        "F-ALTA",
        stdin=io.StringIO("una-clave-larga-2026\n"),
        stdout=out,
    )
    user = User.objects.get(username="matrona")
    assert (user.role, user.territory.code, user.facility.code) == (Role.HEALTH_WORKER, "CL01001", "F-ALTA")
    assert user.check_password("una-clave-larga-2026")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "health_worker", "--territory", "CL01001"], "facility"),
        (["--role", "provider_staff", "--territory", "CL01001"], "organisation"),
        (["--role", "municipal_coordinator", "--territory", "NOPE"], "NOPE"),
        (["--role", "health_worker", "--territory", "CL01001", "--facility", "F-AUSTRAL"], "facility"),
    ],
)
def test_user_add_errors(country, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("user", "add", "x_user", *args, stdin=io.StringIO("una-clave-larga-2026\n"))
    assert not User.objects.filter(username="x_user").exists()


def test_weak_password_is_refused(country):
    with pytest.raises(CommandError, match="password"):
        call_command("user", "add", "y_user", "--role", "auditor", "--territory", "CL", stdin=io.StringIO("123\n"))


def test_generate_then_load(tmp_path, db):
    out = tmp_path / "country"
    call_command("generate", "--children", "150", "--seed", "3", "--out", str(out), "--quiet", stdout=io.StringIO())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["synthetic"] is True and manifest["children"] == 150
    call_command("load", str(out), "--quiet", stdout=io.StringIO())
    assert Child.unscoped.count() == 150
    assert Territory.objects.filter(depth=0).count() == 1
    # Every child has its mother linked, and born children point to their pregnancy.
    assert CaregiverLink.unscoped.filter(relationship="mother").values("child").distinct().count() == 150
    assert Pregnancy.unscoped.filter(outcome="ongoing").exists()
    assert Child.unscoped.filter(pregnancy__isnull=False).count() == 150
    # Loading the same folder again changes nothing.
    call_command("load", str(out), "--quiet", stdout=io.StringIO())
    assert Child.unscoped.count() == 150


def test_generate_is_deterministic(tmp_path, db):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        call_command(
            "generate",
            "--children",
            "300",
            "--seed",
            "9",
            "--as-of",
            "2026-01-31",
            "--out",
            str(folder),
            "--quiet",
            stdout=io.StringIO(),
        )
    assert (a / "children.csv").read_bytes() == (b / "children.csv").read_bytes()


@shared_data
def demo_country(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo country as `crecer demo` prepares it (the size and seed it uses), with its users; built
    once for the demo tests (each test's writes rolled back: tests/conftest.py)."""
    from crecer.web.demo import ensure_country, ensure_users

    with override_settings(DATA_DIR=tmp_path_factory.mktemp("demo")):
        loaded = ensure_country(1200, 2026)
        return {"loaded": loaded, "users": ensure_users()}


def test_demo_prepares_country_and_users(demo_country, tmp_path, settings):
    from crecer.web.demo import DEMO_PASSWORD, ensure_country, ensure_users

    settings.DATA_DIR = tmp_path
    assert demo_country["loaded"] is True  # into an empty registry
    assert Child.unscoped.count() == 1200
    assert ensure_country(600, 1) is False  # not twice
    assert not (tmp_path / "demo-country").exists()
    users = demo_country["users"]
    assert {u.role for u in users} == set(Role.values)
    for spec in users:
        assert User.objects.get(username=spec.username).check_password(DEMO_PASSWORD)
    assert ensure_users() == users  # idempotent
    assert User.objects.count() == len(users)


def test_zscores_command(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,sex,age_days,weight_kg,length_cm\n1,1,365,9.6,75.7\n2,F,400,abc,76\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    call_command("zscores", str(source), str(target), "--quiet", stdout=io.StringIO())
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert abs(float(rows[0]["z_wfa"])) < 0.2 and rows[0]["error"] == ""
    assert "weight_kg" in rows[1]["error"] and rows[1]["z_wfa"] == ""


def test_zscores_command_writes_the_plain_paths_bytes_with_translated_messages(tmp_path):
    from django.utils.translation import gettext

    from crecer.lib.growth.csvio import process_csv_reference
    from crecer.zscores_command import row_messages

    source = tmp_path / "in.csv"
    rows = [f"{i},{'12'[i % 2]},{i * 37 % 6000},{8 + i % 30}.5,{60 + i % 90}.0,,n" for i in range(3000)]
    rows[10] = "10,1,300,abc,70,l,n"
    rows[20] = "20,x,300,8,70,s,maybe"
    source.write_text("id,sex,age_days,weight_kg,length_cm,measure,oedema\n" + "\n".join(rows) + "\n", encoding="utf-8")
    target, reference = tmp_path / "out.csv", tmp_path / "ref.csv"
    call_command("zscores", str(source), str(target), "--quiet", stdout=io.StringIO())
    process_csv_reference(source, reference, messages=row_messages(gettext))
    assert target.read_bytes() == reference.read_bytes()
    assert "weight_kg: no es un número ('abc')" in target.read_text(encoding="utf-8")
    # The console script runs the same command without setting Django up (a settings module that does
    # not exist would stop Django): the same bytes, the same translated messages.
    console = tmp_path / "console.csv"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "no.such.settings"}
    done = subprocess.run(  # noqa: S603 (the test's own files)
        [sys.executable, "-m", "crecer.cli", "zscores", str(source), str(console), "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert console.read_bytes() == reference.read_bytes()
    assert done.stdout.startswith("3000 ") and str(console) in done.stdout
    missing = subprocess.run(  # noqa: S603 (the test's own files)
        [sys.executable, "-m", "crecer.cli", "zscores", str(tmp_path / "nope.csv"), str(console)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert missing.returncode == 1 and "nope.csv" in missing.stderr


def test_console_script_runs_with_settings_preset():
    done = subprocess.run([sys.executable, "-m", "crecer.cli", "help"], capture_output=True, text=True, check=True)
    for command in ("demo", "generate", "load", "import", "token", "user", "zscores", "serve"):
        assert command in done.stdout


def test_demo_showcase_child(demo_country):
    from crecer.lib import schedule as schedule_lib
    from crecer.registry.models import Child
    from crecer.tracking import actions as tracking_actions
    from crecer.tracking.models import Measurement, Screening
    from crecer.web.demo import showcase_child

    child = showcase_child(User.objects.get(username="salud"))
    assert isinstance(child, Child)
    # What the demo promises: a growth chart, an overdue check-up and a screening in risk.
    assert Measurement.unscoped.filter(child=child, is_current=True).count() >= 2
    from django.utils import timezone

    from crecer import conf

    states = schedule_lib.states(
        conf.profile().child_schedule,
        child.birth_date,
        timezone.localdate(),
        tracking_actions.done_contacts(child=child),
    )
    assert any(s.state == schedule_lib.State.OVERDUE for s in states)
    assert Screening.unscoped.filter(
        child=child, is_current=True, classification__in=("risk", "delay", "altered")
    ).exists()


def test_demo_shows_a_mother_at_risk_her_newborn_and_an_urgent_result(demo_country, client):
    from crecer.referrals.models import Notification
    from crecer.registry.models import Pregnancy
    from crecer.risks.models import RiskFlag
    from crecer.web.demo import showcase_family

    family = showcase_family(User.objects.get(username="salud"))
    assert family is not None and family.newborn is not None
    # The pregnancy at risk (EPsA positive), the newborn linked to it and to the mother.
    assert RiskFlag.unscoped.filter(
        pregnancy=family.pregnancy, rule_id="epsa_positive", resolved_at__isnull=True
    ).exists()
    assert family.newborn.pregnancy_id == family.pregnancy.pk
    assert family.newborn.caregiver_links.filter(caregiver=family.mother, relationship="mother").exists()
    # The urgent Edinburgh result reached the municipal coordinator.
    urgent = RiskFlag.unscoped.get(child=family.newborn, rule_id="maternal_self_harm")
    assert urgent.urgent and urgent.acted_at is None
    assert Notification.objects.filter(user__username="coordinador", flag=urgent).exists()
    # A second mother, still pregnant, at risk.
    ongoing = Pregnancy.unscoped.get(mother=family.expecting)
    assert ongoing.outcome == "ongoing"
    assert RiskFlag.unscoped.filter(pregnancy=ongoing, resolved_at__isnull=True).exists()
    # Idempotent.
    assert showcase_family(User.objects.get(username="salud")).mother.pk == family.mother.pk
    client.force_login(User.objects.get(username="coordinador"))
    page = client.get("/notifications/").content.decode()
    assert family.newborn.given_names in page and 'class="tag urgent"' in page


def test_demo_network_has_referrals_in_every_state(demo_country):
    from crecer.referrals.demo import ensure_network
    from crecer.referrals.models import Provision, Referral
    from crecer.referrals.scope import box

    made = ensure_network(User.objects.get(username="coordinador"))
    assert Provision.objects.filter(organisation__code__startswith="ORG-").exists()  # from providers.csv
    assert made >= 11
    states = set(Referral.unscoped.values_list("state", flat=True))
    assert {
        "draft",
        "sent",
        "accepted",
        "in_progress",
        "completed",
        "closed",
        "rejected",
        "not_completed",
        "cancelled",
        "expired",
    } <= states
    assert Referral.unscoped.filter(overdue_at__isnull=False).exists()
    assert box(User.objects.get(username="proveedor"), "inbox").count() == 1
    assert box(User.objects.get(username="coordinador"), "network").count() >= made
    assert ensure_network(User.objects.get(username="coordinador")) == 0  # idempotent
    assert Provision.objects.exists()
