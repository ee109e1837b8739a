"""LMS formulas of the WHO Child Growth Standards (technical report 2006, chapter 7).

All functions are vectorised over numpy arrays; NaN propagates as "missing".
"""

from __future__ import annotations

import numpy as np

__all__ = ["lms_value", "lms_zscore", "restricted_value", "restricted_zscore"]


def lms_zscore(y: np.ndarray, l: np.ndarray, m: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Plain LMS z-score ``((y / M) ** L - 1) / (S * L)`` (``ln(y / M) / S`` where ``L == 0``)."""
    y, l, m, s = (np.asarray(a, dtype=np.float64) for a in (y, l, m, s))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.power(y / m, l) - 1.0) / (s * l)
        zero = l == 0
        if zero.any():
            z = np.where(zero, np.log(y / m) / s, z)
    return z


def lms_value(k: float | np.ndarray, l: np.ndarray, m: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Measurement at z-score ``k``: ``M * (1 + L * S * k) ** (1 / L)`` (``M * exp(S * k)`` where ``L == 0``)."""
    l, m, s = (np.asarray(a, dtype=np.float64) for a in (l, m, s))
    k = np.asarray(k, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = m * np.power(1.0 + l * s * k, 1.0 / l)
        zero = l == 0
        if zero.any():
            v = np.where(zero, m * np.exp(s * k), v)
    return v


def restricted_zscore(y: np.ndarray, l: np.ndarray, m: np.ndarray, s: np.ndarray) -> np.ndarray:
    """LMS z-score with WHO's restricted application beyond +/-3 SD (weight-based indicators).

    Beyond +/-3 SD the skewed LMS distribution is replaced by a straight line through the 2 and 3 SD
    curves, so extreme weights are not compressed: ``z > 3 -> 3 + (y - SD3) / (SD3 - SD2)`` and
    ``z < -3 -> -3 + (y - SD-3) / (SD-2 - SD-3)``, exactly as WHO's ``anthro`` package does.
    """
    y, l, m, s = (np.asarray(a, dtype=np.float64) for a in (y, l, m, s))
    z = lms_zscore(y, l, m, s)
    shape = z.shape
    flat = np.array(z, dtype=np.float64).reshape(-1)  # a private copy we may edit in place
    # Only the (few) extreme values need the SD curves: compute them on that subset.
    for sign in (1.0, -1.0):
        with np.errstate(invalid="ignore"):
            sel = np.flatnonzero(flat * sign > 3.0)
        if sel.size == 0:
            continue
        yb, lb, mb, sb = (np.broadcast_to(a, shape).reshape(-1)[sel] for a in (y, l, m, s))
        sd3 = lms_value(3.0 * sign, lb, mb, sb)
        sd2 = lms_value(2.0 * sign, lb, mb, sb)
        flat[sel] = 3.0 * sign + (yb - sd3) / (sd3 - sd2) * sign
    return flat.reshape(shape)


def restricted_value(k: float | np.ndarray, l: np.ndarray, m: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Inverse of :func:`restricted_zscore`: the measurement at z-score ``k`` (linear beyond +/-3 SD)."""
    k = np.asarray(k, dtype=np.float64)
    v = np.array(lms_value(k, l, m, s), dtype=np.float64, copy=True)
    for sign in (1.0, -1.0):
        beyond = k * sign > 3.0
        if np.any(beyond):
            sd3 = lms_value(3.0 * sign, l, m, s)
            sd2 = lms_value(2.0 * sign, l, m, s)
            v = np.where(beyond, sd3 + (k - 3.0 * sign) * (sd3 - sd2) * sign, v)
    return v
