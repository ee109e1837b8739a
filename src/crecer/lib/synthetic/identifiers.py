"""Synthetic national document numbers, vectorised, unique, and valid for their document type.

Numbers follow the shape and check digit of :mod:`crecer.lib.documents` and sit in a range that is
plausible for the holder's birth date (ASSUMPTION: approximate issuing curves, see docs/synthetic.md):

- CL-RUN: issued roughly in order of birth registration, about 300,000 a year; a person born in
  1990 holds a RUN near 17 million, a child born in 2022 near 26.6 million.
- PE-DNI: older adults below 46 million, adults who got their DNI after 2000 in 70–78 million,
  children with a DNI issued at birth in 78–99 million.
- SV-DUI: issued at 18 since 2002 (a few hundred thousand a year), zero-padded to 8 digits.
- BIRTH-REG: birth year followed by a 6-digit serial ("2024001234").
- PASSPORT: two letters and six digits ("AB123456").

All numbers of one type are drawn together and made unique by shifting collisions to the next free
number, so a whole synthetic country never repeats a number.
"""

from __future__ import annotations

import numpy as np

_DAYS_PER_YEAR = 365.2425
_EPOCH_YEAR = 1970


def year_fraction(days: np.ndarray) -> np.ndarray:
    """Fractional calendar year of epoch-day numbers (days since 1970-01-01)."""
    return _EPOCH_YEAR + np.asarray(days, dtype=np.float64) / _DAYS_PER_YEAR


def calendar_year(days: np.ndarray) -> np.ndarray:
    """Exact calendar year of epoch-day numbers."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def make_unique(values: np.ndarray, high: np.ndarray | int) -> np.ndarray:
    """Make ``values`` unique by the smallest upward shifts that keep their order.

    Sorted, a run of equal or crowded values becomes consecutive numbers (``u[i] = max(u[i-1] + 1,
    v[i])``); ``high`` bounds each value (inclusive, a scalar or an array like ``values``) and a value
    pushed beyond it is an error. Deterministic: ties keep their original order.
    """
    values = np.asarray(values, dtype=np.int64)
    order = np.argsort(values, kind="stable")
    ramp = np.arange(values.size, dtype=np.int64)
    shifted = np.maximum.accumulate(values[order] - ramp) + ramp
    unique = np.empty_like(values)
    unique[order] = shifted
    if (unique > np.asarray(high, dtype=np.int64)).any():
        raise ValueError("too many document numbers for the number range")
    return unique


# --- check digits, vectorised (the scalar versions in crecer.lib.documents are the reference) ----

_RUN_DV = np.array(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "K"], dtype=object)


def run_check_digits(bodies: np.ndarray) -> np.ndarray:
    """Check digits of RUN bodies (object array of "0"–"9"/"K"); same result as ``run_check_digit``."""
    b = np.asarray(bodies, dtype=np.int64)
    total = np.zeros(b.shape, dtype=np.int64)
    weights = (2, 3, 4, 5, 6, 7, 2, 3, 4)
    for position, weight in enumerate(weights):
        total += (b // 10**position) % 10 * weight
    rest = (11 - total % 11) % 11  # 11 -> 0 ("0"), 10 -> "K"
    return _RUN_DV[rest]


def dui_check_digits(bodies: np.ndarray) -> np.ndarray:
    """Check digits (0–9) of 8-digit DUI bodies; same result as ``dui_check_digit``."""
    b = np.asarray(bodies, dtype=np.int64)
    total = np.zeros(b.shape, dtype=np.int64)
    for position in range(8):  # position 0 = rightmost digit, weight 2; leftmost weight 9
        total += (b // 10**position) % 10 * (position + 2)
    return (10 - total % 10) % 10


# --- number schemes ---------------------------------------------------------------------------------


def _interp_years(days: np.ndarray, years: tuple[float, ...], values: tuple[float, ...]) -> np.ndarray:
    return np.interp(year_fraction(days), years, values)


def cl_run(rng: np.random.Generator, birth_days: np.ndarray) -> list[str]:
    """Chilean RUN numbers ("12345678-5") plausible for the birth dates."""
    centre = _interp_years(
        birth_days,
        (1930, 1950, 1960, 1970, 1980, 1990, 2000, 2010, 2020, 2030),
        (2.0e6, 4.5e6, 7.0e6, 9.5e6, 13.0e6, 16.5e6, 20.0e6, 23.0e6, 26.0e6, 29.5e6),
    )
    # adults were often registered late or hold numbers from re-registration: wider spread
    spread = np.where(year_fraction(birth_days) < 2012, 150_000, 40_000)
    bodies = np.rint(centre + rng.uniform(-1, 1, size=centre.size) * spread).astype(np.int64)
    bodies = make_unique(bodies, 99_999_999)
    dv = run_check_digits(bodies)
    return [f"{b}-{d}" for b, d in zip(bodies.tolist(), dv.tolist(), strict=True)]


def pe_dni(rng: np.random.Generator, birth_days: np.ndarray) -> list[str]:
    """Peruvian DNI numbers (8 digits) plausible for the birth dates."""
    year = year_fraction(birth_days)
    older = np.interp(year, (1930, 1982.99), (1.0e6, 46.0e6))
    adults = np.interp(year, (1983, 2009.99), (70.0e6, 77.9e6))
    children = np.interp(year, (2010, 2030), (78.2e6, 99.5e6))
    centre = np.where(year < 1983, older, np.where(year < 2010, adults, children))
    bodies = np.rint(centre + rng.uniform(-1, 1, size=centre.size) * 200_000).astype(np.int64)
    bodies = make_unique(np.clip(bodies, 1_000_000, 99_999_000), 99_999_999)
    return [f"{b:08d}" for b in bodies.tolist()]


def sv_dui(rng: np.random.Generator, birth_days: np.ndarray) -> list[str]:
    """Salvadoran DUI numbers ("01234567-8"), issued at 18 from 2002 onwards."""
    year = year_fraction(birth_days)
    issued = np.maximum(2002 + rng.uniform(0, 4, size=year.size), year + 18 + rng.uniform(0, 1.5, size=year.size))
    centre = np.interp(issued, (2002, 2006, 2026, 2040), (1.0, 3.4e6, 7.3e6, 9.9e6))
    bodies = np.rint(centre + rng.uniform(-1, 1, size=centre.size) * 20_000).astype(np.int64)
    bodies = make_unique(np.clip(bodies, 1, 99_999_000), 99_999_999)
    dv = dui_check_digits(bodies)
    return [f"{b:08d}-{d}" for b, d in zip(bodies.tolist(), dv.tolist(), strict=True)]


def birth_registration(rng: np.random.Generator, birth_days: np.ndarray) -> list[str]:
    """Birth registration numbers: the birth year then a 6-digit serial unique within the year."""
    base = calendar_year(birth_days) * 1_000_000
    # serials drawn below 900,000 leave room for the shifts that resolve collisions within the year
    numbers = make_unique(base + rng.integers(1, 900_000, size=base.size), base + 999_999)
    return [str(n) for n in numbers.tolist()]


_LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), dtype=object)


def passport(rng: np.random.Generator, birth_days: np.ndarray) -> list[str]:
    """Passport numbers: two letters and six digits ("AB123456")."""
    n = np.asarray(birth_days).size
    codes = make_unique(rng.integers(0, 675_000_000, size=n), 675_999_999)
    letters = codes // 1_000_000
    first, second = _LETTERS[letters // 26].tolist(), _LETTERS[letters % 26].tolist()
    return [f"{a}{b}{d:06d}" for a, b, d in zip(first, second, (codes % 1_000_000).tolist(), strict=True)]


#: document type code -> scheme(rng, birth epoch-days) -> numbers in canonical form
SCHEMES = {
    "CL-RUN": cl_run,
    "PE-DNI": pe_dni,
    "SV-DUI": sv_dui,
    "BIRTH-REG": birth_registration,
    "PASSPORT": passport,
}
