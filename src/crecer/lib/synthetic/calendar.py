"""Vectorised calendar arithmetic on epoch-day numbers (days since 1970-01-01)."""

from __future__ import annotations

import numpy as np


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of epoch-day numbers."""
    dt = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = dt.astype("datetime64[M]")
    year = dt.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (dt - months).astype(np.int64) + 1
    return year, month, day


def age_in_years(birth_days: np.ndarray, at_days: np.ndarray | int) -> np.ndarray:
    """Completed years between epoch-day numbers (vectorised; birthdays on 29 Feb count from 1 Mar)."""
    by, bm, bd = ymd(birth_days)
    ay, am, ad = ymd(np.broadcast_to(np.asarray(at_days, dtype=np.int64), np.shape(birth_days)))
    return ay - by - ((am * 100 + ad) < (bm * 100 + bd))
