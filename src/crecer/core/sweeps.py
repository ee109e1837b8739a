"""Periodic sweeps that ``crecer sweep`` runs besides the referrals' deadlines.

The command lives in the referrals app, which imports no later domain app: an app whose records have
deadlines registers its sweep here when it is ready (``register(name, function)``), and the command runs
every registered one. A sweep is ``function(actor, now) -> dict[str, int]`` (what it did, counted) and must
be idempotent and safe with several copies running at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

Sweep = Callable[[Any, dt.datetime], dict[str, int]]

_SWEEPS: dict[str, Sweep] = {}


def register(name: str, function: Sweep) -> None:
    _SWEEPS[name] = function


def registered() -> list[tuple[str, Sweep]]:
    return sorted(_SWEEPS.items())
