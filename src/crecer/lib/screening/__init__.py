"""Developmental and psychosocial screening instruments in pure Python (no Django).

Each :class:`Instrument` declares its code, version, subject (``child`` or ``caregiver``), the age
band it applies to (days of the child's age), its data category (``development`` or
``mental_health``), its inputs and its parameters (cut-offs, with documented defaults that a
country profile may override); :meth:`Instrument.score` validates the inputs and returns a
:class:`Result` whose ``classification`` is one of :data:`CLASSIFICATIONS`.

>>> from crecer.lib import screening
>>> r = screening.score("epds", {"items": [1, 1, 2, 1, 0, 1, 1, 1, 1, 0]})
>>> r.score, r.classification, r.urgent
(9.0, 'negative', False)
>>> screening.score("tepsi", {"t_total": 39}).classification
'risk'

Bad inputs raise :class:`ScreeningInputError` naming the field, with a stable ``code`` whose
English message is in :data:`MESSAGES`. ``docs/screening.md`` describes every instrument, its
sources and which default parameters are ASSUMPTIONS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import (
    ALTERED,
    CAREGIVER,
    CHILD,
    CLASSIFICATIONS,
    DELAY,
    DEVELOPMENT,
    MENTAL_HEALTH,
    MESSAGES,
    NEGATIVE,
    NORMAL,
    NOT_ON_TRACK,
    ON_TRACK,
    POSITIVE,
    RISK,
    InputSpec,
    Instrument,
    Result,
    ScreeningInputError,
    completed_months,
    month_start_days,
)
from .ecdi import ECDI2030, MICS_ECDI
from .eedp import EEDP, eedp_chronological_days
from .epds import EPDS
from .epsa import EPSA
from .pauta_breve import PAUTA_BREVE
from .tepsi import TEPSI

__all__ = [
    "ALTERED",
    "CAREGIVER",
    "CHILD",
    "CLASSIFICATIONS",
    "DELAY",
    "DEVELOPMENT",
    "INSTRUMENTS",
    "MENTAL_HEALTH",
    "MESSAGES",
    "NEGATIVE",
    "NORMAL",
    "NOT_ON_TRACK",
    "ON_TRACK",
    "POSITIVE",
    "RISK",
    "InputSpec",
    "Instrument",
    "Result",
    "ScreeningInputError",
    "completed_months",
    "default_params",
    "eedp_chronological_days",
    "get",
    "month_start_days",
    "score",
]

#: every instrument by code
INSTRUMENTS: dict[str, Instrument] = {i.code: i for i in (EEDP, TEPSI, PAUTA_BREVE, EPDS, EPSA, MICS_ECDI, ECDI2030)}


def get(code: str) -> Instrument:
    """The instrument called ``code``; :class:`ScreeningInputError` (``unknown_instrument``) if none."""
    try:
        return INSTRUMENTS[code]
    except (KeyError, TypeError):
        raise ScreeningInputError("instrument", "unknown_instrument", instrument=code) from None


def score(
    code: str, inputs: Mapping[str, Any], age_days: int | None = None, params: Mapping[str, Any] | None = None
) -> Result:
    """Score one application of instrument ``code`` (see :meth:`Instrument.score`).

    ``params`` may be a country profile's whole parameter set: each instrument reads the keys
    with its own prefix (``eedp_``, ``tepsi_``, ``epds_``...) and ignores the others.
    """
    return get(code).score(inputs, age_days, params)


def default_params() -> dict[str, Any]:
    """Every instrument's default parameters in one dict (what a profile may override)."""
    return {name: value for instrument in INSTRUMENTS.values() for name, value in instrument.defaults.items()}
