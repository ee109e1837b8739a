"""Lazy loading of WHO's LMS tables shipped in ``crecer.lib.growth.data``.

Each table becomes dense arrays indexed by ``[sex - 1, x - x0]`` where ``x`` is the table's integer
grid (age in days, age in months, or length/height in millimetres for the 0.1 cm tables), so that a
lookup for a million children is one numpy gather instead of a join.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

__all__ = ["TABLE_FILES", "LmsTable", "load_table"]

# name -> (file, scale applied to the x column to get an integer grid)
TABLE_FILES: dict[str, tuple[str, int]] = {
    "wfa": ("weianthro.txt", 1),  # weight-for-age, days 0-1826
    "lhfa": ("lenanthro.txt", 1),  # length/height-for-age, days 0-1826
    "bmi": ("bmianthro.txt", 1),  # BMI-for-age, days 0-1826
    "hcfa": ("hcanthro.txt", 1),  # head circumference-for-age, days 0-1826
    "acfa": ("acanthro.txt", 1),  # arm circumference-for-age, days 91-1826
    "wfl": ("wflanthro.txt", 10),  # weight-for-length, 45.0-110.0 cm by 0.1
    "wfh": ("wfhanthro.txt", 10),  # weight-for-height, 65.0-120.0 cm by 0.1
    "wfa2007": ("wfawho2007.txt", 1),  # weight-for-age, months 60-121
    "hfa2007": ("hfawho2007.txt", 1),  # height-for-age, months 60-229
    "bfa2007": ("bfawho2007.txt", 1),  # BMI-for-age, months 60-229
}


@dataclass(frozen=True, eq=False)
class LmsTable:
    """LMS parameters on a regular integer grid ``x0 .. x0 + n - 1`` for sex 1 and 2.

    ``l``, ``m`` and ``s`` are flat arrays of length ``2 * n``; the row for (sex, x) is
    ``(sex - 1) * n + (x - x0)``.
    """

    name: str
    x0: int
    n: int
    scale: int
    l: np.ndarray
    m: np.ndarray
    s: np.ndarray

    @property
    def x_min(self) -> float:
        """Smallest x covered, in the table's own unit (days, months or cm)."""
        return self.x0 / self.scale

    @property
    def x_max(self) -> float:
        """Largest x covered, in the table's own unit (days, months or cm)."""
        return (self.x0 + self.n - 1) / self.scale


def _read_rows(filename: str) -> np.ndarray:
    text = resources.files("crecer.lib.growth.data").joinpath(filename).read_text(encoding="ascii")
    lines = text.splitlines()
    header = lines[0].split("\t")
    if [h.lower() for h in header[:5]][::2] != ["sex", "l", "s"]:
        raise ValueError(f"{filename}: unexpected header {header!r}")
    # Only the first five columns are numeric (the optional sixth is L/H, the position the row is for).
    rows = [line.split("\t")[:5] for line in lines[1:] if line.strip()]
    return np.array(rows, dtype=np.float64)


@cache
def load_table(name: str) -> LmsTable:
    """Parse (once, then cached) the WHO table called ``name`` (a key of :data:`TABLE_FILES`)."""
    filename, scale = TABLE_FILES[name]
    rows = _read_rows(filename)
    sex = rows[:, 0].astype(np.int64)
    grid = np.rint(rows[:, 1] * scale).astype(np.int64)
    x0 = int(grid.min())
    n = int(grid.max()) - x0 + 1
    l_arr = np.full(2 * n, np.nan)
    m_arr = np.full(2 * n, np.nan)
    s_arr = np.full(2 * n, np.nan)
    if not np.isin(sex, (1, 2)).all():
        raise ValueError(f"{filename}: sex must be 1 or 2")
    idx = (sex - 1) * n + (grid - x0)
    # Each row of the dense grid exactly once (bincount, not np.unique: that one imports numpy.ma).
    if len(idx) != 2 * n or not np.array_equal(np.bincount(idx, minlength=2 * n), np.ones(2 * n, dtype=np.int64)):
        # A gap or a duplicate would silently shift lookups: refuse the table instead.
        raise ValueError(f"{filename}: expected one row per sex and grid point {x0}..{x0 + n - 1}")
    l_arr[idx] = rows[:, 2]
    m_arr[idx] = rows[:, 3]
    s_arr[idx] = rows[:, 4]
    for arr in (l_arr, m_arr, s_arr):
        arr.setflags(write=False)
    return LmsTable(name=name, x0=x0, n=n, scale=scale, l=l_arr, m=m_arr, s=s_arr)
