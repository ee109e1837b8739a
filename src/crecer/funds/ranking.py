"""A call's ranking: each proposal's score from its panel's complete reviews (scores of reviewers who
declared a conflict with it are left out), ranked by :func:`crecer.lib.funds.ranking`, and which proposals
the budget left would fund in rank order (:func:`crecer.lib.funds.within_budget`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

from django.db.models import Sum

from crecer.funds.models import Award, Conflict, InnovationCall, Proposal, Score
from crecer.lib import funds as rules


@dataclass
class Row:
    proposal: Proposal
    score: Fraction | None
    reviews: int
    rank: int | None
    fits: bool
    awarded_cents: int | None


def rank_call(call: InnovationCall) -> list[Row]:
    """Every proposal of the call, ranked ones first (best first), then those not scored yet."""
    criteria = [rules.Criterion(c.pk, Fraction(c.weight), c.max_score) for c in call.criteria.all()]
    proposals = list(call.proposals.select_related("territory", "organisation").order_by("submitted_at", "pk"))
    conflicts = set(Conflict.objects.filter(proposal__call=call).values_list("proposal_id", "reviewer_id"))
    by_review: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for p, r, c, s in Score.objects.filter(proposal__call=call).values_list(
        "proposal_id", "reviewer_id", "criterion_id", "score"
    ):
        if (p, r) not in conflicts:
            by_review[(p, r)][c] = s
    reviews: dict[int, list[Fraction | None]] = defaultdict(list)
    for (p, _r), scores in by_review.items():
        reviews[p].append(rules.review_score(criteria, scores))
    candidates = [
        rules.Candidate(p.pk, rules.proposal_score(reviews[p.pk]), p.requested_cents, order)
        for order, p in enumerate(proposals)
    ]
    ranked = rules.ranking(candidates)
    awards = dict(Award.objects.filter(proposal__call=call).values_list("proposal_id", "amount_cents"))
    awarded = int(Award.objects.filter(proposal__call=call).aggregate(s=Sum("amount_cents"))["s"] or 0)
    open_ranked = [(n, c) for n, c in ranked if c.key not in awards]
    fits = set(rules.within_budget(call.budget_cents, open_ranked, awarded))
    by_pk = {p.pk: p for p in proposals}
    out = [
        Row(by_pk[c.key], c.score, sum(1 for r in reviews[c.key] if r is not None), n, c.key in fits, awards.get(c.key))
        for n, c in ranked
    ]
    ranked_keys = {c.key for _, c in ranked}
    out += [Row(p, None, 0, None, False, awards.get(p.pk)) for p in proposals if p.pk not in ranked_keys]
    return out
