"""The funds' money rules on hand-built figures: allocations add up to the budget to the cent, the panel's
scores, the ranking's tie rule and awards within the budget."""

from __future__ import annotations

from fractions import Fraction

import pytest

from crecer.lib import funds


def test_allocation_by_hand_adds_up_to_the_budget():
    # budget 100001 cents, base 10000 each: R = 70001 shared by weights 1, 2 × (1 + 1/2) = 3, 1 (total 5):
    # 14000.2, 42000.6, 14000.2 → floors 14000, 42000, 14000; the cent left goes to the largest remainder.
    shares = funds.allocate(
        100001,
        10000,
        Fraction(1),
        [
            funds.Municipality("alta", 1, Fraction(0)),
            funds.Municipality("baja", 2, Fraction(1, 2)),
            funds.Municipality("austral", 1, Fraction(0)),
        ],
    )
    assert {k: s.amount for k, s in shares.items()} == {"alta": 24000, "baja": 52001, "austral": 24000}
    assert shares["baja"].weight == 3
    assert sum(s.amount for s in shares.values()) == 100001


def test_equal_remainders_go_by_key_and_no_children_share_equally():
    shares = funds.allocate(10, 0, Fraction(0), [funds.Municipality(k, 1, Fraction(0)) for k in ("c", "a", "b")])
    assert {k: s.amount for k, s in shares.items()} == {"a": 4, "b": 3, "c": 3}
    empty = funds.allocate(7, 1, Fraction(2), [funds.Municipality(k, 0, Fraction(0)) for k in ("a", "b")])
    assert sum(s.amount for s in empty.values()) == 7 and empty["a"].amount == 4


@pytest.mark.parametrize("budget", [0, 1, 999_999_999, 123_456_789_012])
def test_allocations_always_add_up(budget):
    ms = [funds.Municipality(str(i), i * 7 % 13, Fraction(i % 5, 7)) for i in range(40)]
    shares = funds.allocate(budget, 0, Fraction(3, 2), ms)
    assert sum(s.amount for s in shares.values()) == budget


def test_base_beyond_the_budget_is_refused():
    with pytest.raises(funds.FundsError):
        funds.allocate(
            100, 60, Fraction(0), [funds.Municipality("a", 1, Fraction(0)), funds.Municipality("b", 1, Fraction(0))]
        )


def test_scores_ranking_ties_and_budget():
    criteria = [funds.Criterion(1, Fraction(2), 5), funds.Criterion(2, Fraction(1), 10)]
    # (2 × 4/5 + 1 × 5/10) / 3 × 100 = 70
    assert funds.review_score(criteria, {1: 4, 2: 5}) == 70
    assert funds.review_score(criteria, {1: 4}) is None  # incomplete review
    assert funds.proposal_score([Fraction(70), Fraction(80), None]) == 75
    ranked = funds.ranking(
        [
            funds.Candidate(1, Fraction(75), 500, 0),
            funds.Candidate(2, Fraction(90), 800, 1),
            funds.Candidate(3, Fraction(75), 300, 2),  # same score as 1, asks less: ranked before it
            funds.Candidate(4, None, 100, 3),  # not scored: not ranked
            funds.Candidate(5, Fraction(75), 300, 4),  # same score and amount as 3, submitted later
        ]
    )
    assert [(n, c.key) for n, c in ranked] == [(1, 2), (2, 3), (3, 5), (4, 1)]
    # 1000: 800 fits; 300 does not (200 left); 300 does not; 500 does not
    assert funds.within_budget(1000, ranked) == [2]
    assert funds.within_budget(1500, ranked) == [2, 3, 5]  # 800 + 300 + 300; 500 no longer fits
    assert funds.within_budget(1500, ranked, already=1100) == [3]
