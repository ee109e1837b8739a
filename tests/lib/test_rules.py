"""Risk rules: CEL conditions compiled and checked on load, example cases, safe evaluation."""

from __future__ import annotations

import pytest

from crecer.lib import profiles, rules
from crecer.lib.rules import RuleDefinitionError, RuleError

RULE = {
    "id": "r1",
    "version": 1,
    "subject": "child",
    "description_es": "d",
    "description_en": "d",
    "when": "growth.stunting != null && growth.stunting >= params.level",
    "params": {"level": 1},
    "flag": {
        "category": "biomedical",
        "axis": "health_nutrition",
        "severity": "medium",
        "data_category": "health",
        "label_es": "x",
        "label_en": "x",
    },
    "referral": {"service": "home_visit", "priority": "routine", "deadline_days": 30},
    "examples": [{"facts": {"growth": {"stunting": 2}}, "expect": True}, {"facts": {}, "expect": False}],
}


def _parse(**change):
    return rules.parse_rule({**RULE, **change}, "rules.toml: rule[0]", ["home_visit"])


def test_a_valid_rule_matches_its_facts():
    rule = _parse()
    assert rule.key == "r1@1"
    assert rule.matches(rules._merge(rules.empty_facts("child"), {"growth": {"stunting": 1}}))
    assert not rule.matches(rules.empty_facts("child"))
    assert rules.run_examples([rule]) == (2, [])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"when": "growth.stunting >= "}, "does not compile"),
        ({"when": "pregnancy.weeks > 20"}, "reads unknown facts ['pregnancy']"),
        ({"referral": {"service": "spa", "priority": "routine", "deadline_days": 3}}, "unknown service 'spa'"),
        ({"examples": []}, "ships example cases"),
        ({"examples": [{"facts": {}, "expect": True}]}, "one that does not"),
        ({"flag": {**RULE["flag"], "severity": "extreme"}}, "'severity' must be one of"),
        ({"version": 0}, "'version' must be a whole number"),
        ({"subject": "household"}, "'subject' must be one of"),
        (
            {"examples": [{"facts": {"weather": {}}, "expect": True}, {"facts": {}, "expect": False}]},
            "unknown facts ['weather']",
        ),
    ],
)
def test_invalid_rules_fail_with_id_and_reason(change, message):
    with pytest.raises(RuleDefinitionError) as exc:
        _parse(**change)
    assert "rule 'r1'" in str(exc.value) or "rule[0]" in str(exc.value)
    assert message in str(exc.value)


def test_repeated_ids():
    with pytest.raises(RuleDefinitionError, match="repeats"):
        rules.parse_rules([RULE, RULE], "rules.toml", ["home_visit"])


def test_failing_example_is_reported():
    rule = _parse(
        examples=[
            {"name": "wrong", "facts": {"growth": {"stunting": 0}}, "expect": True},
            {"facts": {}, "expect": False},
        ]
    )
    count, failures = rules.run_examples([rule])
    assert count == 2 and [(f.rule, f.example, f.expected, f.got) for f in failures] == [("r1@1", "wrong", True, False)]


def test_an_evaluation_error_is_raised_naming_the_rule():
    # The risk engine catches it: the rule does not fire and the error is reported (crecer.risks.engine).
    rule = _parse(when="growth.stunting >= 1")  # no null guard
    with pytest.raises(RuleError, match="r1") as exc:
        rule.matches(rules.empty_facts("child"))
    assert exc.value.rule_id == "r1"


def test_conditions_cannot_reach_python():
    # CEL has no access to anything but the facts: attribute tricks fail to compile or to evaluate.
    with pytest.raises(RuleDefinitionError):
        _parse(when="__import__('os').system('true') == 0")


@pytest.mark.parametrize("profile_id", ["cl", "pe", "sv"])
def test_shipped_rules_pass_their_examples(profile_id):
    profile = profiles.load(profile_id)
    count, failures = rules.run_examples(profile.rules)
    assert count >= 20 and failures == []
    assert {r.flag.category for r in profile.rules} == set(rules.CATEGORIES)


def test_cache_key_reads_exactly_what_the_condition_reads():
    from crecer.lib.rules import empty_facts, parse_rule

    raw = {
        "id": "r",
        "version": 1,
        "subject": "child",
        "description_es": "x",
        "description_en": "x",
        "when": "child.age_days != null && child.age_days > 60 && 'growth.stunting' != '' && !('childcare' in services)",
        "flag": {
            "category": "social",
            "axis": "education_care",
            "severity": "low",
            "data_category": "social",
            "label_es": "x",
            "label_en": "x",
        },
        "examples": [
            {"name": "fires", "facts": {"child": {"age_days": 90}}, "expect": True},
            {"name": "young", "facts": {"child": {"age_days": 10}}, "expect": False},
        ],
    }
    rule = parse_rule(raw, "t", ["childcare"])
    assert rule._reads == (("child", "age_days"), ("services", None))  # a string literal is not a reference
    facts = empty_facts("child")
    facts["child"]["age_days"] = 100
    other = empty_facts("child")
    other["child"]["age_days"] = 100
    other["growth"]["stunting"] = 2  # not read: same key, same answer
    assert rule.cache_key(facts) == rule.cache_key(other) and rule.matches(facts) == rule.matches(other) is True
    other["services"]["childcare"] = 1
    assert rule.cache_key(facts) != rule.cache_key(other) and rule.matches(other) is False
