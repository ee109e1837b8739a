"""The arithmetic of money on results, on cases computed by hand (docs/results.md)."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from crecer.lib import results
from crecer.lib.results import Condition, ResultsError, exact

MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]


def cond(rule: str, values: dict[str, float | None], baseline=60, target=80, direction="higher", weight=1, **params):
    return Condition(
        indicator="x",
        territory="T",
        rule=rule,
        baseline=exact(baseline),
        target=exact(target),
        weight=exact(weight),
        direction=direction,
        values={k: exact(v) for k, v in values.items()},
        params=params,
    )


def comp(c: Condition) -> F:
    return results.compliance(c).compliance


# --- at_period_end ---


def test_at_period_end_reaching_the_target_is_full_compliance():
    assert comp(cond("at_period_end", {"2025": 80})) == 1
    assert comp(cond("at_period_end", {"2025": 93.5})) == 1


def test_at_period_end_partly_is_the_share_of_the_way_from_baseline_to_target():
    # (70 − 60) / (80 − 60) = 1/2
    assert comp(cond("at_period_end", {"2025": 70})) == F(1, 2)
    # (72.5 − 60) / 20 = 12.5 / 20 = 5/8, exactly (the float 72.5 enters as the decimal 72.5)
    assert comp(cond("at_period_end", {"2025": 72.5})) == F(5, 8)


def test_at_period_end_worse_than_the_baseline_is_zero_and_no_value_is_zero():
    assert comp(cond("at_period_end", {"2025": 55})) == 0
    assert comp(cond("at_period_end", {"2025": None})) == 0


def test_at_period_end_lower_is_better():
    # low birth weight: baseline 10 %, target 6 %; 8 % is half way; 5 % reaches it; 12 % is worse
    kw = {"baseline": 10, "target": 6, "direction": "lower"}
    assert comp(cond("at_period_end", {"2025": 8}, **kw)) == F(1, 2)
    assert comp(cond("at_period_end", {"2025": 5}, **kw)) == 1
    assert comp(cond("at_period_end", {"2025": 12}, **kw)) == 0


# --- months_met ---


def test_months_met_five_of_six_is_full_compliance():
    # Peru: the target (80) met in 5 of the 6 months → min(1, 5/5) = 1
    values = dict(zip(MONTHS, [82, 79, 85, 80, 90, 81], strict=True))
    result = results.compliance(cond("months_met", values, months=MONTHS, k=5))
    assert result.compliance == 1
    assert result.detail["met"] == 5
    assert result.detail["met_months"] == ["2025-01", "2025-03", "2025-04", "2025-05", "2025-06"]


def test_months_met_four_of_six_with_k_five_is_four_fifths_and_six_is_capped():
    values = dict(zip(MONTHS, [82, 79, 85, 80, 90, 70], strict=True))
    assert comp(cond("months_met", values, months=MONTHS, k=5)) == F(4, 5)
    all_met = dict.fromkeys(MONTHS, 95)
    assert comp(cond("months_met", all_met, months=MONTHS, k=5)) == 1


def test_months_met_a_missing_month_does_not_count():
    values = dict(zip(MONTHS, [82, None, 85, 80, None, 81], strict=True))
    assert comp(cond("months_met", values, months=MONTHS, k=5)) == F(4, 5)


def test_months_met_lower_is_better():
    values = dict(zip(MONTHS, [5, 6, 7, 4, 6, 9], strict=True))  # at most 6: 4 months
    assert comp(cond("months_met", values, baseline=10, target=6, direction="lower", months=MONTHS, k=5)) == F(4, 5)


# --- improvement ---


def test_improvement():
    # baseline 50, 10 points required: 56 → 6/10; 62 → 1; 45 → 0
    assert comp(cond("improvement", {"2025": 56}, baseline=50, points=10)) == F(3, 5)
    assert comp(cond("improvement", {"2025": 62}, baseline=50, points=10)) == 1
    assert comp(cond("improvement", {"2025": 45}, baseline=50, points=10)) == 0
    # lower is better: from 20 % down to 17 % with 4 points required → 3/4
    assert comp(cond("improvement", {"2025": 17}, baseline=20, direction="lower", points=4)) == F(3, 4)


def test_improvement_needs_points():
    with pytest.raises(ResultsError):
        comp(cond("improvement", {"2025": 56}, baseline=50))


def test_a_profile_may_add_a_rule():
    results.register_rule("reached_any", lambda c: results.Compliance(F(int(c.reaches(c.value))), {}))
    try:
        assert comp(cond("reached_any", {"2025": 81})) == 1
    finally:
        del results.RULES["reached_any"]
    with pytest.raises(ResultsError):
        comp(cond("reached_any", {"2025": 81}))


# --- weighted compliance and payments ---


def test_weighted_compliance():
    # weights 2, 1, 1; compliances 1, 1/2, 0 → (2 + 1/2 + 0) / 4 = 5/8
    assert results.weighted([(F(2), F(1)), (F(1), F(1, 2)), (F(1), F(0))]) == F(5, 8)
    assert results.weighted([]) == 0


def test_cents_round_half_up():
    assert results.cents(F(3, 2)) == 2
    assert results.cents(F(5, 2)) == 3  # half up, not to even
    assert results.cents(F(249, 100)) == 2
    assert results.cents(F(0)) == 0


def test_all_or_nothing():
    full = [cond("at_period_end", {"2025": 85}), cond("at_period_end", {"2025": 80})]
    assert results.evaluate(1_000_000, "all_or_nothing", full).amount == 1_000_000
    partly = [cond("at_period_end", {"2025": 85}), cond("at_period_end", {"2025": 79})]
    assert results.evaluate(1_000_000, "all_or_nothing", partly).amount == 0


def test_proportional_rounds_half_up_to_the_cent():
    # weights 2 and 1 at compliances 1 and 1/2 → 5/6; 1 000 001 × 5/6 = 833 334.1666… → 833 334
    conditions = [cond("at_period_end", {"2025": 85}, weight=2), cond("at_period_end", {"2025": 70}, weight=1)]
    result = results.evaluate(1_000_001, "proportional", conditions)
    assert result.weighted_compliance == F(5, 6)
    assert result.amount == 833_334
    # 3 cents × 1/2 = 1.5 → 2
    assert results.evaluate(3, "proportional", [cond("at_period_end", {"2025": 70})]).amount == 2


def test_threshold_pays_at_its_floor_and_nothing_below():
    # compliance (72 − 60) / 20 = 3/5 = 0.6: at the floor 0.6 it pays 500 000 × 0.6
    at_floor = [cond("at_period_end", {"2025": 72})]
    assert results.evaluate(500_000, "threshold", at_floor, floor="0.6").amount == 300_000
    # (71.99 − 60) / 20 = 0.5995 < 0.6: nothing
    below = [cond("at_period_end", {"2025": 71.99})]
    assert results.evaluate(500_000, "threshold", below, floor="0.6").amount == 0
    with pytest.raises(ResultsError):
        results.evaluate(500_000, "threshold", at_floor)


def test_unknown_rules_are_refused():
    with pytest.raises(ResultsError):
        results.evaluate(100, "double", [cond("at_period_end", {"2025": 80})])
    with pytest.raises(ResultsError):
        results.compliance(cond("by_magic", {"2025": 80}))


# --- splitting a sum, formula, awards ---


def test_split_by_largest_remainder_sums_exactly():
    # 100 cents in three equal parts: 33.33 each, the leftover cent to the first key
    assert results.split(100, {"b": F(1), "a": F(1), "c": F(1)}) == {"a": 34, "b": 33, "c": 33}
    # 1000 cents by 1/2, 1/4, 1/4 → 500, 250, 250
    assert results.split(1000, {"x": F(1, 2), "y": F(1, 4), "z": F(1, 4)}) == {"x": 500, "y": 250, "z": 250}
    # 10 cents by 0.55, 0.30, 0.15 → 5.5, 3, 1.5: floors 5, 3, 1 (9); the cent goes to the largest
    # remainder (0.5, tied between x and z: the first key, x)
    assert results.split(10, {"x": F(55, 100), "y": F(30, 100), "z": F(15, 100)}) == {"x": 6, "y": 3, "z": 1}
    shares = results.split(99_999_99, {str(i): F(i % 7 + 1, 3) for i in range(346)})
    assert sum(shares.values()) == 99_999_99
    assert results.split(500, {"a": F(0), "b": F(0)}) == {"a": 0, "b": 0}


def test_formula_amount():
    # base 5 000 000.00 + 1 500.00 per child × 1 234 children, in cents
    assert results.formula_amount(500_000_000, 150_000, 1234) == 500_000_000 + 185_100_000


def test_award_levels_and_ranks():
    levels = [results.Level("gold", F(90)), results.Level("silver", F(75)), results.Level("bronze", F(60))]
    assert results.level_for(F(90), levels) == "gold"
    assert results.level_for(F(80), levels) == "silver"
    assert results.level_for(F(59), levels) == ""
    assert results.rank({"A": F(80), "B": F(95), "C": F(80), "D": F(50), "E": None}) == {
        "B": 1,
        "A": 2,
        "C": 2,
        "D": 4,
    }
