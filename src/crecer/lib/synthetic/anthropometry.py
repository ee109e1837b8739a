"""Synthetic anthropometry: each child's persistent WHO z-score profile, turned into clinic measurements.

A child has a long-term length/height-for-age level, an individual drift between birth and 2 years
(growth faltering where the country has it), a weight-for-length level correlated with the length
level, and head and arm circumference levels; the first months blend from the birth weight's z-score
to those levels (catch-up). A measurement adds a little visit noise and converts the z-scores into
values with the WHO LMS tables (value = M (1 + L S z) ^ (1 / L), restricted beyond ±3 SD for the
weight-based indicators) through :func:`crecer.lib.growth.lms_value` and
:func:`crecer.lib.growth.restricted_value`, then rounds them like clinic scales. Weight comes from
weight-for-length (under 2 years) or weight-for-height (2 to 5 years) at the measured length, and from
BMI-for-age beyond their ranges or from 5 years, so WHO's own software finds the intended z-scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crecer.lib.growth import lms_value, lms_zscore, restricted_value, zscores
from crecer.lib.growth.tables import load_table
from crecer.lib.synthetic.flavours import CareFlavour

DAYS_PER_MONTH = 30.4375
LENGTH_TO_HEIGHT_DAYS = 731  # WHO: lying length before 731 days, standing height from 731
HEAD_UNTIL_DAYS = 1096  # head circumference is measured until 36 months
CATCH_UP_DAYS = 120.0  # time constant of the blend from birth length to the child's own level
WEIGHT_CATCH_UP_DAYS = 60.0  # the same for weight-for-length
FALTER_UNTIL_DAYS = 730
OTHER_POSITION = 0.04  # share measured in the other position, 9 to 60 months (~2% of all measurements)
HEAD_SHARE = 0.9
MUAC_SHARE = 0.08  # arm circumference, 6 to 59 months
TYPO_SHARE = 0.001  # a weight with a misplaced decimal point, or a length off by 30 cm
OEDEMA_SHARE = 0.0005
# haemoglobin below which a child is anaemic (g/L), as the application classifies it (WHO 2024, 2011)
ANAEMIA_THRESHOLDS = ((183, 730, 105.0), (731, 1826, 110.0), (1827, 4383, 115.0))


def _row(table_n: int, x0: int, sex: np.ndarray, x: np.ndarray) -> np.ndarray:
    return (sex.astype(np.int64) - 1) * table_n + np.clip(x, x0, x0 + table_n - 1) - x0


def lms_by_age(
    day_table: str, month_table: str | None, sex: np.ndarray, age_days: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """L, M, S at whole ages in days: the day table under 60 months, the monthly WHO 2007 table
    interpolated at the exact age in months from 60 months (WHO's software does the same)."""
    table = load_table(day_table)
    age = np.asarray(age_days, dtype=np.int64)
    row = _row(table.n, table.x0, sex, age)
    l, m, s = table.l[row], table.m[row], table.s[row]
    months = age / DAYS_PER_MONTH
    later = months >= 60
    if month_table is None or not later.any():
        return l, m, s
    monthly = load_table(month_table)
    low = np.floor(months).astype(np.int64)
    frac = months - low
    r0 = _row(monthly.n, monthly.x0, sex, low)
    r1 = _row(monthly.n, monthly.x0, sex, low + 1)
    out = []
    for day_values, arr in ((l, monthly.l), (m, monthly.m), (s, monthly.s)):
        out.append(np.where(later, arr[r0] + frac * (arr[r1] - arr[r0]), day_values))
    return out[0], out[1], out[2]


def lms_by_length(table_name: str, sex: np.ndarray, tenths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """L, M, S of a weight-for-length/height table at lengths given in whole millimetres."""
    table = load_table(table_name)
    row = _row(table.n, table.x0, sex, np.asarray(tenths, dtype=np.int64))
    return table.l[row], table.m[row], table.s[row]


@dataclass(frozen=True)
class GrowthProfiles:
    """Persistent z-score profile of every child (one value per child in each array)."""

    sex: np.ndarray  # 1 boy, 2 girl
    haz_birth: np.ndarray
    haz_level: np.ndarray
    haz_falter: np.ndarray
    whz_birth: np.ndarray
    whz_level: np.ndarray
    head: np.ndarray
    arm: np.ndarray
    hb: np.ndarray  # the child's haemoglobin offset (g/L)

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        care: CareFlavour,
        female: np.ndarray,
        birth_weight_g: np.ndarray,
        vulnerability_latent: np.ndarray,
    ) -> GrowthProfiles:
        n = female.size
        sex = np.where(female, 2, 1).astype(np.int8)
        l0, m0, s0 = lms_by_age("wfa", None, sex, np.zeros(n, dtype=np.int64))
        birth_z = np.clip(lms_zscore(birth_weight_g / 1000.0, l0, m0, s0), -3.5, 3.0)
        e = rng.standard_normal((7, n))
        poorer = np.clip(vulnerability_latent, -2.5, 2.5)
        haz_level = care.haz_mean + care.haz_sd * (0.25 * birth_z + 0.9 * e[0]) - 0.15 * poorer
        haz_falter = care.haz_falter * (1.0 + 0.3 * poorer) + 0.35 * e[1]
        whz_level = care.whz_mean + care.whz_sd * (0.15 * e[0] + 0.99 * e[2])
        return cls(
            sex=sex,
            haz_birth=0.8 * birth_z + 0.6 * e[3],
            haz_level=haz_level,
            haz_falter=haz_falter,
            whz_birth=0.6 * birth_z + 0.8 * e[4],
            whz_level=whz_level,
            head=0.35 * (haz_level - care.haz_mean) + 0.9 * e[5],
            arm=0.6 * e[6],
            hb=rng.normal(0.0, 7.0, size=n) - 2.0 * poorer,
        )

    def true_z(self, child: np.ndarray, age: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Length/height-for-age and weight-for-length z-scores of ``child`` at ``age`` days (no visit noise)."""
        blend = np.exp(-age / CATCH_UP_DAYS)
        # faltering from birth to 2 years, a third of it recovered between 2 and 6 years
        recovery = 1.0 - np.clip((age - FALTER_UNTIL_DAYS) / 1461.0, 0.0, 1.0) / 3.0
        falter = self.haz_falter[child] * np.minimum(age, FALTER_UNTIL_DAYS) / FALTER_UNTIL_DAYS * recovery
        haz = blend * self.haz_birth[child] + (1.0 - blend) * self.haz_level[child] + falter
        blend = np.exp(-age / WEIGHT_CATCH_UP_DAYS)
        whz = blend * self.whz_birth[child] + (1.0 - blend) * self.whz_level[child]
        return haz, whz


@dataclass(frozen=True)
class Measurements:
    """Measured values, scaled to integers: weight in hundredths (``weight_fine``) or tenths of a kg,
    lengths in millimetres; -1 where not measured."""

    weight: np.ndarray
    weight_fine: np.ndarray
    length: np.ndarray
    standing: np.ndarray
    head: np.ndarray
    muac: np.ndarray
    oedema: np.ndarray
    haemoglobin: np.ndarray
    #: values WHO flags as implausible (tails of the profiles, typing errors): the source system recorded
    #: them as they are, so the files confirm them (``confirm_reason``) and the import keeps them
    flagged: np.ndarray

    @classmethod
    def concatenate(cls, parts: list[Measurements]) -> Measurements:
        fields = ("weight", "weight_fine", "length", "standing", "head", "muac", "oedema", "haemoglobin", "flagged")
        return cls(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in fields})


def measure(
    rng: np.random.Generator,
    profiles: GrowthProfiles,
    care: CareFlavour,
    child: np.ndarray,
    age: np.ndarray,
    with_hb: np.ndarray,
) -> Measurements:
    """One set of measurements for each (child, age) row; ``with_hb`` marks rows with a haemoglobin."""
    n = child.size
    sex = profiles.sex[child]
    age = age.astype(np.int64)
    noise = rng.standard_normal((6, n))
    haz, whz = profiles.true_z(child, age)
    haz = haz + 0.12 * noise[0]
    whz = whz + 0.25 * noise[1]

    # length/height in the position WHO expects for the age, to 0.1 cm
    l, m, s = lms_by_age("lhfa", "hfa2007", sex, age)
    length = np.rint(lms_value(haz, l, m, s) * 10.0).astype(np.int64)

    # weight: weight-for-length/height at the measured length, else BMI-for-age
    young = age < LENGTH_TO_HEIGHT_DAYS
    under_five = age / DAYS_PER_MONTH < 60
    wfl = young & (length >= 450) & (length <= 1100)
    wfh = ~young & under_five & (length >= 650) & (length <= 1200)
    weight = np.empty(n, dtype=np.float64)
    for table, rows in (("wfl", wfl), ("wfh", wfh)):
        if rows.any():
            lt, mt, st = lms_by_length(table, sex[rows], length[rows])
            weight[rows] = restricted_value(whz[rows], lt, mt, st)
    other = ~(wfl | wfh)
    if other.any():
        lb, mb, sb = lms_by_age("bmi", "bfa2007", sex[other], age[other])
        weight[other] = restricted_value(whz[other], lb, mb, sb) * (length[other] / 1000.0) ** 2
    fine = age < 730  # 10 g scales for infants, 100 g later
    weight_scaled = np.where(fine, np.rint(weight * 100.0), np.rint(weight * 10.0)).astype(np.int64)

    # position: lying before 731 days, standing from then; a few the other way (9 to 48 months)
    swap = (age >= 274) & under_five & (rng.random(n) < OTHER_POSITION)
    standing = ~young ^ swap
    length = length + np.where(swap, np.where(young, -7, 7), 0)

    head = np.full(n, -1, dtype=np.int64)
    rows = (age < HEAD_UNTIL_DAYS) & (rng.random(n) < HEAD_SHARE)
    if rows.any():
        lh, mh, sh = lms_by_age("hcfa", None, sex[rows], age[rows])
        z_head = profiles.head[child[rows]] + 0.15 * noise[2][rows]
        head[rows] = np.rint(lms_value(z_head, lh, mh, sh) * 10.0).astype(np.int64)

    muac = np.full(n, -1, dtype=np.int64)
    rows = (age >= 183) & under_five & (rng.random(n) < MUAC_SHARE)
    if rows.any():
        la, ma, sa = lms_by_age("acfa", None, sex[rows], age[rows])
        z_arm = 0.7 * whz[rows] + profiles.arm[child[rows]] + 0.2 * noise[3][rows]
        muac[rows] = np.rint(restricted_value(z_arm, la, ma, sa) * 10.0).astype(np.int64)

    # typing errors: a misplaced decimal point in the weight, or a length 30 cm off
    typo = rng.random(n) < TYPO_SHARE
    weight_typo = typo & (rng.random(n) < 0.6)
    tenfold = weight_typo & (weight_scaled * 10 <= np.where(fine, 15_000, 1_500))
    weight_scaled = np.where(tenfold, weight_scaled * 10, weight_scaled)
    tenth = weight_typo & ~tenfold
    weight_scaled = np.where(tenth, np.maximum(np.rint(weight_scaled / 10.0), 1).astype(np.int64), weight_scaled)
    length_typo = typo & ~weight_typo
    length = np.where(length_typo, np.where(length > 750, length - 300, length + 300), length)

    threshold = np.select(
        [(age >= low) & (age <= high) for low, high, _ in ANAEMIA_THRESHOLDS],
        [t for _, _, t in ANAEMIA_THRESHOLDS],
        default=110.0,
    )
    hb_value = threshold + care.hb_margin + profiles.hb[child] + 6.0 * noise[4]
    haemoglobin = np.where(with_hb, np.clip(np.rint(hb_value), 50, 190), -1).astype(np.int64)

    oedema = rng.random(n) < OEDEMA_SHARE
    return Measurements(
        weight=weight_scaled.astype(np.int32),
        weight_fine=fine,
        length=length.astype(np.int32),
        standing=standing,
        head=head.astype(np.int16),
        muac=muac.astype(np.int16),
        oedema=oedema,
        haemoglobin=haemoglobin.astype(np.int16),
        flagged=_flagged(sex, age, weight_scaled / np.where(fine, 100.0, 10.0), length, standing, oedema, head, muac),
    )


def _flagged(
    sex: np.ndarray,
    age: np.ndarray,
    weight: np.ndarray,
    length: np.ndarray,
    standing: np.ndarray,
    oedema: np.ndarray,
    head: np.ndarray,
    muac: np.ndarray,
) -> np.ndarray:
    """Rows with an indicator WHO flags as implausible, computed on the values as the files write them."""
    if sex.size == 0:
        return np.zeros(0, dtype=bool)

    def cm(mm: np.ndarray) -> np.ndarray:
        return np.where(mm >= 0, mm / 10.0, np.nan)

    z = zscores(sex, age.astype(float), weight, cm(length), np.where(standing, "h", "l"), oedema, cm(head), cm(muac))
    return np.any([np.asarray(v) == 1 for k, v in z.items() if k.startswith("flag_")], axis=0)
