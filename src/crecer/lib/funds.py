"""The money rules of the network fund and the innovation fund, in exact fractions and whole cents.

Network fund (``docs/funds.md``): every municipality gets the base amount; what is left of the budget is
shared in proportion to weight = children × (1 + k × vulnerability), with the largest-remainder split of
:func:`crecer.lib.results.split`, so the allocations add up to the budget to the cent.

Innovation fund: a reviewer's score of a proposal is Σ weightᵢ × scoreᵢ / maxᵢ ÷ Σ weightᵢ × 100 (0 to 100);
the proposal's score is the mean of its complete reviews (every criterion scored, no conflict declared);
proposals are ranked best first, ties broken by the smaller amount requested, then the earlier submission."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from crecer.lib.results import ResultsError, split

ZERO = Fraction(0)


class FundsError(ResultsError):
    """A budget or a formula that cannot be applied (the base amounts exceed the budget, say)."""


@dataclass(frozen=True)
class Municipality:
    key: str
    children: int
    #: from 0 to 1
    vulnerability: Fraction


@dataclass(frozen=True)
class Share:
    key: str
    weight: Fraction
    base: int
    share: int

    @property
    def amount(self) -> int:
        return self.base + self.share


def weight(children: int, vulnerability: Fraction, k: Fraction) -> Fraction:
    """children × (1 + k × vulnerability)."""
    return Fraction(children) * (1 + k * vulnerability)


def allocate(budget: int, base: int, k: Fraction, municipalities: Sequence[Municipality]) -> dict[str, Share]:
    """Each municipality's allocation in whole cents, adding up exactly to ``budget``.

    Everybody gets ``base``; the rest R = budget − n × base is split in proportion to the weights (largest
    remainder). When every weight is 0 (no children anywhere), R is split equally."""
    if budget < 0 or base < 0 or k < 0:
        raise FundsError("amounts and weights cannot be negative")
    if not municipalities:
        raise FundsError("no municipalities")
    rest = budget - base * len(municipalities)
    if rest < 0:
        raise FundsError("the base amounts exceed the budget")
    for m in municipalities:
        if not ZERO <= m.vulnerability <= 1 or m.children < 0:
            raise FundsError(f"vulnerability out of 0..1 or negative children for {m.key}")
    weights = {m.key: weight(m.children, m.vulnerability, k) for m in municipalities}
    shared = split(rest, weights if any(weights.values()) else dict.fromkeys(weights, Fraction(1)))
    return {key: Share(key, weights[key], base, shared[key]) for key in weights}


# --- innovation fund -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    key: int
    weight: Fraction
    max_score: int


def review_score(criteria: Sequence[Criterion], scores: Mapping[int, int]) -> Fraction | None:
    """One reviewer's score from 0 to 100, or ``None`` unless every criterion is scored."""
    if not criteria or any(c.key not in scores for c in criteria):
        return None
    total = sum((c.weight for c in criteria), ZERO)
    if total == 0:
        return None
    return sum((c.weight * Fraction(scores[c.key], c.max_score) for c in criteria), ZERO) / total * 100


def proposal_score(reviews: Sequence[Fraction | None]) -> Fraction | None:
    """The mean of the complete reviews (``None`` when there is none)."""
    complete = [r for r in reviews if r is not None]
    if not complete:
        return None
    return sum(complete, ZERO) / len(complete)


@dataclass(frozen=True)
class Candidate:
    key: int
    score: Fraction | None
    requested: int
    #: the order of submission (earlier first)
    submitted: int


def ranking(candidates: Sequence[Candidate]) -> list[tuple[int, Candidate]]:
    """Scored candidates best first, numbered 1, 2, 3… (no shared ranks: the tie rule decides): higher
    score, then smaller amount requested, then earlier submission. Unscored candidates are left out."""
    scored = [c for c in candidates if c.score is not None]
    scored.sort(key=lambda c: (-c.score, c.requested, c.submitted))  # type: ignore[operator]
    return [(i + 1, c) for i, c in enumerate(scored)]


def within_budget(budget: int, ranked: Sequence[tuple[int, Candidate]], already: int = 0) -> list[int]:
    """The candidates a budget funds in rank order, each at its requested amount, skipping any that no
    longer fits (a smaller one further down may still fit). ``already`` is what is awarded already."""
    left = budget - already
    chosen = []
    for _, c in ranked:
        if c.requested <= left:
            chosen.append(c.key)
            left -= c.requested
    return chosen
