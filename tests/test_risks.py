"""Risk rules run in the action that writes the facts; flags record rule id and version and
resolve when the facts change; recomputation; the profile's examples."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.registry import actions as registry_actions
from crecer.risks import engine
from crecer.risks.models import RiskFlag
from crecer.tracking import actions
from tests.conftest import SYSTEM


@pytest.fixture
def baby(make_child, today):
    return make_child(
        birth_date=(today - dt.timedelta(days=250)).isoformat(), national_id="24.965.885-5", facility_code="F-ALTA"
    )


def _open(child):
    return {f.rule_id: f for f in RiskFlag.unscoped.filter(child=child, status="open")}


def test_screening_in_delay_raises_a_flag_with_rule_version(cast, baby, today):
    actions.record_encounter(
        Actor(cast["nurse_alta"], Channel.WEB),
        {"date": today.isoformat(), "screenings": [{"instrument": "eedp", "inputs": {"cd": 0.6}}]},
        child=baby,
    )
    flag = _open(baby)["development_delay"]
    assert (flag.rule_version, flag.category, flag.severity, flag.data_category) == (
        1,
        "biomedical",
        "high",
        "development",
    )
    assert flag.recommendation == {"service": "stimulation_session", "priority": "priority", "deadline_days": 30}


def test_flag_resolves_when_the_facts_change(cast, baby, today):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    actions.record_encounter(
        nurse, {"date": today.isoformat(), "screenings": [{"instrument": "eedp", "inputs": {"cd": 0.6}}]}, child=baby
    )
    from crecer.tracking.models import Screening

    actions.correct_screening(nurse, Screening.unscoped.get(child=baby), {"cd": 0.9}, "mis-scored")
    assert "development_delay" not in _open(baby)
    resolved = RiskFlag.unscoped.get(child=baby, rule_id="development_delay")
    assert (resolved.status, resolved.resolution) == ("resolved", "facts_changed")


def test_document_rule_opens_and_closes_with_the_registry(make_child, today):
    child = make_child(birth_date=(today - dt.timedelta(days=90)).isoformat())
    assert "no_identity_document" in _open(child)
    registry_actions.update_child(SYSTEM, child, {"national_id": "10.000.013-K"}, reason=None)
    assert "no_identity_document" not in _open(child)


def test_growth_rule(cast, baby, today):
    actions.record_encounter(
        Actor(cast["nurse_alta"], Channel.WEB),
        {"date": today.isoformat(), "measurement": {"weight_kg": 6.3, "length_cm": 71}},
        child=baby,
    )
    assert "acute_malnutrition" in _open(baby)


def test_pregnancy_rules(cast, make_mother, today):
    make_mother(birth_date=(today - dt.timedelta(days=16 * 365)).isoformat())
    pregnancy = registry_actions.create_pregnancy(
        SYSTEM,
        {
            "mother_national_id": "15432876-9",
            "lmp_date": (today - dt.timedelta(days=70)).isoformat(),
            "first_visit_date": today.isoformat(),
        },
    )
    flags = {f.rule_id for f in RiskFlag.unscoped.filter(pregnancy=pregnancy, status="open")}
    assert "adolescent_pregnancy" in flags and "late_prenatal_entry" not in flags


def test_no_duplicate_open_flags(cast, baby, today):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    for _ in range(2):
        engine.evaluate(nurse, children=[baby])
    assert RiskFlag.unscoped.filter(child=baby, rule_id="missed_check_ups", status="open").count() == 1


def test_recompute_with_a_new_rule_version(cast, baby, monkeypatch):
    import dataclasses

    from crecer import conf
    from crecer.lib import profiles

    assert "missed_check_ups" in _open(baby)
    base = conf.profile()
    rules = []
    for rule in base.rules:
        if rule.id == "missed_check_ups":  # version 2 asks for many more missed check-ups
            rule = dataclasses.replace(rule, version=2, params={"missed": 50})
        rules.append(rule)
    changed = dataclasses.replace(base, rules=tuple(r for r in rules if r.id != "anaemia"))
    monkeypatch.setattr(profiles, "load", lambda _id: changed)
    outcome = engine.recompute(SYSTEM)
    assert outcome.resolved >= 1 and outcome.errors == []
    flag = RiskFlag.unscoped.get(child=baby, rule_id="missed_check_ups")
    assert (flag.status, flag.resolution) == ("resolved", "facts_changed")


def test_risks_recompute_command_is_idempotent(baby):
    before = set(RiskFlag.unscoped.filter(status="open").values_list("child_id", "rule_id"))
    call_command("risks", "recompute", "--quiet", stdout=io.StringIO())
    call_command("risks", "recompute", "--quiet", stdout=io.StringIO())
    assert set(RiskFlag.unscoped.filter(status="open").values_list("child_id", "rule_id")) == before
    assert RiskFlag.unscoped.count() == len(before)


def test_profile_test_command(monkeypatch):
    import dataclasses

    from django.core.management import CommandError

    from crecer.lib import profiles
    from crecer.lib.rules import Example

    out = io.StringIO()
    call_command("profile", "test", "--profile", "all", stdout=out)  # raises if any example fails
    assert all(pid in out.getvalue() for pid in ("cl", "pe", "sv"))
    cl = profiles.load("cl")
    rule = cl.rules[0]
    wrong = dataclasses.replace(
        rule, examples=(*rule.examples, Example("deliberately wrong", rule.examples[0].facts, False))
    )
    broken = dataclasses.replace(cl, rules=(wrong, *cl.rules[1:]))
    monkeypatch.setattr(profiles, "load", lambda _id: broken)
    with pytest.raises(CommandError):
        call_command("profile", "test", "--profile", "cl", stdout=io.StringIO())


def test_risks_api_hides_sensitive_categories(cast, baby, api_client, today):
    actions.record_encounter(
        Actor(cast["nurse_alta"], Channel.WEB),
        {"date": today.isoformat(), "screenings": [{"instrument": "epds", "inputs": {"items": [3] * 9 + [1]}}]},
        child=baby,
    )
    nurse_sees = {f["rule"] for f in api_client(cast["nurse_alta"]).get(f"/api/v1/children/{baby.pk}/risks").json()}
    manager_sees = {f["rule"] for f in api_client(cast["national"]).get(f"/api/v1/children/{baby.pk}/risks").json()}
    assert "maternal_self_harm" in nurse_sees and "maternal_self_harm" not in manager_sees
