"""A country profile's own condition rules (results.toml, CEL): cases computed by hand (docs/results.md)."""

from __future__ import annotations

import copy
from fractions import Fraction as F
from typing import Any

import pytest

from crecer.lib import profiles, results
from crecer.lib.profiles import ProfileError
from crecer.lib.results import Condition, ResultsError, exact, from_double

WHERE = "profiles/xx/results.toml"

#: Peru's rule as shipped: ½ for the target met in the last month + ½ × min(1, gain / required points)
LAST_MONTH = (
    "(reached ? 0.5 : 0.0) + 0.5 * (gain <= 0.0 ? 0.0 : (gain >= required_points ? 1.0 : gain / required_points))"
)


def rule_table(**changes: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "code": "last_month_and_improves",
        "name_es": "Meta en el último mes y mejora",
        "name_en": "Target in the last month and improvement",
        "reads": "months",
        "compliance": LAST_MONTH,
        "examples": [{"baseline": 60, "target": 80, "points": 10, "values": [70, 82], "expect": "1"}],
    }
    table.update(changes)
    return table


def load(*tables: dict[str, Any]) -> dict[str, results.ProfileRule]:
    return {r.code: r for r in results.parse_profile_rules({"condition_rule": list(tables)}, WHERE)}


def cond(rule: str, values: list[float | None], baseline=60, target=80, direction="higher", **params: Any) -> Condition:
    months = [f"2025-0{i}" for i in range(1, len(values) + 1)]
    return Condition(
        indicator="x",
        territory="T",
        rule=rule,
        baseline=exact(baseline),
        target=exact(target),
        weight=F(1),
        direction=direction,
        values={m: exact(v) for m, v in zip(months, values, strict=True)},
        params={"months": months, **params},
    )


def comp(c: Condition, rules: dict[str, results.ProfileRule]) -> F:
    return results.compliance(c, rules).compliance


# --- compliance by hand ---


def test_target_met_in_the_last_month_and_enough_points_is_full():
    rules = load(rule_table())
    # last month 82 ≥ 80 → ½; gain 82 − 60 = 22 ≥ 10 points → ½ × 1
    assert comp(cond("last_month_and_improves", [70, 82], points="10"), rules) == 1


def test_only_the_last_month_counts_for_the_target():
    rules = load(rule_table())
    # 90 in January does not count; June 66 < 80 → 0; gain 6 of 9 points → ½ × 6/9 = 1/3 exactly (not 0.333…)
    assert comp(cond("last_month_and_improves", [90, 66], points="9"), rules) == F(1, 3)
    # 75 < 80 → 0; gain 15 ≥ 10 → ½
    assert comp(cond("last_month_and_improves", [82, 75], points="10"), rules) == F(1, 2)


def test_lower_is_better_turns_the_gain_and_the_target_around():
    rules = load(rule_table())
    # low birth weight 10 % → 6 %: 5.5 reaches 6 (½); gain 10 − 5.5 = 4.5 of 2 points → ½
    assert comp(cond("last_month_and_improves", [7, 5.5], 10, 6, "lower", points="2"), rules) == 1
    # 8 does not reach 6; gain 10 − 8 = 2 of 5 points → ½ × 2/5 = 1/5
    assert comp(cond("last_month_and_improves", [5, 8], 10, 6, "lower", points="5"), rules) == F(1, 5)
    # worse than the baseline: 12 > 10 → gain −2 → 0
    assert comp(cond("last_month_and_improves", [5, 12], 10, 6, "lower", points="5"), rules) == 0


def test_no_figure_in_the_last_month_complies_zero_without_evaluating():
    rules = load(rule_table())
    result = results.compliance(cond("last_month_and_improves", [90, None], points="10"), rules)
    assert result.compliance == 0 and result.detail == {"missing": True}


def test_the_result_is_clipped_to_zero_and_one():
    rules = load(
        rule_table(code="double_gain", reads="period", compliance="gain / span * 2.0", examples=_ex("1")),
    )
    # gain 15 of span 20 → 1.5 → clipped to 1; gain −10 → −1 → 0
    assert comp(cond("double_gain", [75]), rules) == 1
    assert comp(cond("double_gain", [50]), rules) == 0
    # gain 2 of 20 → 0.2 (0.2 as a double is 0.2000000000000000111…; it enters as 1/5)
    assert comp(cond("double_gain", [62]), rules) == F(1, 5)


def test_counts_and_monthly_lists():
    rules = load(
        rule_table(
            code="share_of_k",
            compliance="double(months_met) / double(k)",
            examples=[{"baseline": 60, "target": 80, "k": 3, "values": [82, 79, 85], "expect": "2/3"}],
        ),
        rule_table(
            code="reached_all_listed",
            compliance="monthly_reached.all(r, r) && size(monthly_values) == months ? 1 : 0",
            examples=[{"baseline": 60, "target": 80, "values": [82, 81], "expect": 1}],
        ),
    )
    # 82 and 85 reach 80 of three months, k = 4 → 2/4
    assert comp(cond("share_of_k", [82, 79, 85], k=4), rules) == F(1, 2)
    # an int result is exact as it is
    assert comp(cond("reached_all_listed", [82, 81]), rules) == 1
    assert comp(cond("reached_all_listed", [82, 79, 81]), rules) == 0


def test_a_tranche_evaluates_with_the_profile_rule_beside_the_built_in_ones():
    rules = load(rule_table())
    at_end = Condition("y", "T", "at_period_end", F(60), F(80), F(1), "higher", {"2025": F(725, 10)})
    mine = cond("last_month_and_improves", [90, 66], points="9")
    mine = Condition(**{**mine.__dict__, "weight": F(2)})
    # at_period_end 12.5/20 = 5/8 (weight 1), profile rule 1/3 (weight 2) → (5/8 + 2/3) / 3 = 31/72
    tranche = results.evaluate(100_000, "proportional", [at_end, mine], rules=rules)
    assert tranche.weighted_compliance == F(31, 72)
    # 100 000 × 31/72 = 43 055.55… → 43 056 cents
    assert tranche.amount == 43_056
    with pytest.raises(ResultsError, match="unknown condition rule 'last_month_and_improves'"):
        results.evaluate(100_000, "proportional", [mine])


# --- from a double to an exact fraction ---


@pytest.mark.parametrize(
    ("double", "fraction"),
    [
        (0.625, F(5, 8)),
        (5 / 6, F(5, 6)),
        ((72.3 - 60) / 20, F(123, 200)),  # 0.6149999999999999 → 0.615
        (1 / 3, F(1, 3)),
        (0.1 + 0.2, F(3, 10)),
        (0.123456789012345, F(123456789012, 10**12)),  # no simple fraction near it: 12 decimals
        (1.0, F(1)),
    ],
)
def test_a_double_becomes_a_fraction_deterministically(double, fraction):
    assert from_double(double) == fraction


# --- errors ---


def _ex(expect: str) -> list[dict[str, Any]]:
    return [{"baseline": 60, "target": 80, "values": [75], "expect": expect}]


def test_a_result_that_is_not_a_number_is_an_error_naming_the_rule():
    rules = load(rule_table(code="odd", reads="period", compliance="value > 100.0 ? 'x' : 0.5", examples=_ex("1/2")))
    assert comp(cond("odd", [75]), rules) == F(1, 2)
    with pytest.raises(ResultsError, match="rule 'odd' gave str, not a number") as exc:
        comp(cond("odd", [120]), rules)
    assert exc.value.rule == "odd"


@pytest.mark.parametrize(
    ("expression", "message"),
    [("reached", "rule 'says_yes' gave bool, not a number"), ("'all'", "rule 'says_yes' gave str, not a number")],
)
def test_a_result_that_is_not_a_number_is_refused_at_load_naming_the_rule(expression, message):
    with pytest.raises(ResultsError, match=message):
        load(rule_table(code="says_yes", reads="period", compliance=expression, examples=_ex("0")))


def test_a_failure_at_evaluation_names_the_rule():
    rules = load(rule_table(code="fragile", reads="period", compliance="gain / span", examples=_ex("3/4")))
    # target = baseline: span 0 → 15 / 0 is infinite
    with pytest.raises(ResultsError, match="rule 'fragile' gave inf, not a finite number") as exc:
        results.compliance(cond("fragile", [75], 60, 60), rules)
    assert exc.value.rule == "fragile"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"compliance": "gain / baseline_points"}, r"reads unknown variables \['baseline_points'\]"),
        ({"compliance": "gain / "}, "the compliance expression does not compile"),
        ({"compliance": "system(gain)"}, r"calls unknown functions \['system'\]"),
        ({"code": "at_period_end"}, "repeats a rule already defined"),
        ({"code": "with space"}, "'code' is required"),
        ({"name_en": ""}, "'name_en' is required text"),
        ({"reads": "year"}, "'reads' must be period or months"),
        ({"examples": []}, "every rule ships example cases"),
        ({"examples": [{"values": [82], "expect": "0.9", "points": 10}]}, "example 1: expected compliance 0.9"),
        ({"examples": [{"values": [82]}]}, "example 1: needs 'values'"),
    ],
)
def test_bad_rules_are_refused_naming_the_file_and_the_rule(changes, message):
    with pytest.raises(ResultsError, match=message) as exc:
        load(rule_table(**changes))
    assert str(exc.value).startswith(WHERE)
    if "code" not in changes:
        assert "condition rule 'last_month_and_improves'" in str(exc.value)


def test_a_repeated_code_is_refused():
    with pytest.raises(ResultsError, match="repeats a rule already defined"):
        load(rule_table(), rule_table())


def test_the_profile_loader_turns_them_into_profile_errors():
    data = {"version": "1", "condition_rule": [rule_table(compliance="gain / points")]}
    with pytest.raises(ProfileError, match=r"profiles/xx/results.toml \(condition rule 'last_month_and_improves'\)"):
        profiles.parse_results(copy.deepcopy(data), WHERE)
    with pytest.raises(ProfileError, match="missing field 'version'"):
        profiles.parse_results({"condition_rule": [rule_table()]}, WHERE)


@pytest.mark.parametrize("profile_id", ["cl", "pe"])
def test_the_shipped_profiles_declare_the_rule_and_its_examples_hold(profile_id):
    rule = {r.code: r for r in profiles.load(profile_id).condition_rules}["last_month_and_improves"]
    assert rule.reads == "months" and rule.needs_points
    assert rule.name("es").startswith("Meta en el último mes")
    # the same figures as by hand above
    assert comp(cond(rule.code, [90, 66], points="9"), {rule.code: rule}) == F(1, 3)
