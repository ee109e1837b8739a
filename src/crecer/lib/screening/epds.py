"""EPDS — Edinburgh Postnatal Depression Scale, for the mother (or other caregiver).

Source: Cox J. L., Holden J. M. & Sagovsky R., "Detection of postnatal depression: development of
the 10-item Edinburgh Postnatal Depression Scale", *British Journal of Psychiatry* 150 (1987)
782-786. Chile applies it to the mother at the 2- and 6-month well-child visits and in pregnancy
(MINSAL, Protocolo de detección de la depresión durante el embarazo y posparto, 2014).

10 items, each scored 0-3 **as entered**: the form (or the professional) has already applied the
reverse scoring of items 3 and 5-10, so the library adds the values as they come. Total 0-30.

* ``positive`` when the total reaches the cut-off, otherwise ``negative``. The cut-off depends on
  the period (input ``period``: ``"postnatal"``, the default, or ``"pregnancy"``): parameters
  ``epds_cutoff`` (10) and ``epds_cutoff_pregnancy`` (13). Both defaults are ASSUMPTIONS — values
  common in the literature and in Chilean practice, not verified in the MINSAL protocol's text.
* Item 10 ("the thought of harming myself has occurred to me") above 0 always sets ``urgent`` and
  makes the result ``positive`` whatever the total: it calls for same-day assessment of suicide risk.

``subscores["anxiety_3a"]`` is the sum of items 3, 4 and 5 (the EPDS-3A anxiety subscale), reported
for information only and not classified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import (
    CAREGIVER,
    MENTAL_HEALTH,
    NEGATIVE,
    POSITIVE,
    InputSpec,
    Instrument,
    Result,
    ScreeningInputError,
    integer,
    sequence,
)

__all__ = ["EPDS", "ITEMS", "PERIODS", "SELF_HARM_ITEM"]

ITEMS = 10
ITEM_MAX = 3
SELF_HARM_ITEM = 10  # 1-based
PERIODS = ("postnatal", "pregnancy")

DEFAULTS = {"epds_cutoff": 10, "epds_cutoff_pregnancy": 13}  # both ASSUMPTIONS


def _check(params: dict[str, Any]) -> None:
    for name in DEFAULTS:
        if not 1 <= params[name] <= ITEMS * ITEM_MAX:
            raise ScreeningInputError(name, "invalid_param", name=name)


def _score(inputs: Mapping[str, Any], age_days: int | None, params: Mapping[str, Any]) -> Result:
    items = [
        integer(v, f"items.{i}", 0, ITEM_MAX)
        for i, v in enumerate(sequence(inputs.get("items"), "items", ITEMS), start=1)
    ]
    period = inputs.get("period") or "postnatal"
    if period not in PERIODS:
        raise ScreeningInputError("period", "invalid_choice", choices=", ".join(PERIODS))
    cutoff = params["epds_cutoff"] if period == "postnatal" else params["epds_cutoff_pregnancy"]
    total = sum(items)
    self_harm = items[SELF_HARM_ITEM - 1]
    urgent = self_harm > 0
    by_total = total >= cutoff
    return Result(
        instrument=EPDS.code,
        version=EPDS.version,
        score=float(total),
        classification=POSITIVE if by_total or urgent else NEGATIVE,
        subscores={"anxiety_3a": float(items[2] + items[3] + items[4])},
        urgent=urgent,
        details={
            "cutoff": cutoff,
            "period": period,
            "self_harm_item": self_harm,
            "positive_by": ["total"] * by_total + ["self_harm"] * urgent,
        },
    )


EPDS = Instrument(
    code="epds",
    version="1987",
    name="Edinburgh Postnatal Depression Scale",
    subject=CAREGIVER,
    category=MENTAL_HEALTH,
    min_age_days=None,  # the subject is the caregiver: no child age band
    max_age_days=None,
    age_required=False,
    inputs=(
        InputSpec("items", "integer list", True, "the 10 item scores, 0-3 each, reverse scoring already applied"),
        InputSpec("period", "choice", False, "'postnatal' (default) or 'pregnancy': picks the cut-off"),
    ),
    defaults=DEFAULTS,
    assumptions=frozenset(DEFAULTS),
    source="Cox, Holden & Sagovsky, Br J Psychiatry 1987;150:782-6",
    scorer=_score,
    param_check=_check,
)
