"""Deterministic synthetic country: territories, facilities, households, caregivers, children, pregnancies.

Everything is drawn with one seeded numpy generator per stage (``SeedSequence.spawn``), vectorised,
and written as CSV; the same (children, seed, profile, as_of) always gives byte-identical files.
The trajectories (encounters, measurements, screenings, deliveries, groups; ``trajectories.py``) use
streams spawned after the registry's, so the registry files are the same with or without them.
The model, its distributions and its assumptions are described in docs/synthetic.md.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from crecer.lib.pregnancy import GESTATION_DAYS
from crecer.lib.profiles import Profile
from crecer.lib.synthetic import csvio, identifiers, network, vocab
from crecer.lib.synthetic import territories as territory_tree
from crecer.lib.synthetic.calendar import age_in_years
from crecer.lib.synthetic.flavours import Flavour, flavour_for
from crecer.lib.synthetic.trajectories import Registry, Trajectories

GENERATOR_VERSION = "1.0.0"
NOTE = "SYNTHETIC DATA — generated, not real people"

_EPOCH = date(1970, 1, 1)
_YEAR = 365.25

# --- assumptions (see docs/synthetic.md) --------------------------------------------------------------
TWIN_DELIVERY_RATE = 0.015  # share of deliveries that are twin births
BIRTHS_PER_WOMAN = (0.40, 0.37, 0.16, 0.07)  # 1, 2, 3, 4 deliveries in a woman's whole history
MIN_BIRTH_INTERVAL_DAYS = 450  # between two deliveries of the same mother (15 months)
INTERVAL_EXTRA_MEAN_DAYS = 900  # mean time added to the minimum interval (gamma, shape 2)
INTERVAL_EXTRA_MAX_DAYS = 4000
MAX_MOTHER_AGE = 45.9  # no delivery at 46 or older
MALE_SHARE = 0.512
FATHER_RECOGNISED = (0.66, 0.42)  # (adult mother, adolescent mother)
GUARDIAN_PRESENT = (0.018, 0.12)  # grandmother as guardian: (adult mother, adolescent mother)
NEWBORN_DAYS = 60
NEWBORN_WITHOUT_ID = 0.40
CHILDREN_WITHOUT_ID = 0.03  # overall
STILLBIRTH_RATE = 0.005  # per delivery
MISCARRIAGE_RATE = 0.02  # per delivery (losses after the first prenatal visit)

# a woman's age (completed years) at her first delivery ever: relative weights (teen ages × flavour.teen_factor)
_FIRST_AGE = np.arange(14, 44)
_FIRST_AGE_WEIGHT = np.array(
    [0.4, 1.0, 2.0, 2.8, 3.5, 4.0]  # 14–19
    + [4.2] * 5  # 20–24
    + [5.0] * 5  # 25–29
    + [4.2] * 5  # 30–34
    + [2.4] * 5  # 35–39
    + [0.8] * 4  # 40–43
)
# gestational age at birth of singletons (completed weeks 24–42), percent: 5.4% preterm (< 37);
# twins are born 1–5 weeks earlier, which brings all children to ~7% preterm
_GA_WEEKS = np.arange(24, 43)
_GA_PERCENT = np.array(
    [0.08, 0.08, 0.1, 0.12, 0.15, 0.2, 0.23, 0.3, 0.4, 0.45, 0.7, 0.95, 1.64, 8.0, 22.0, 32.0, 22.0, 8.0, 1.05]
)
# median birth weight (g) by gestational week 24–42
_WEIGHT_MEDIAN = np.array(
    [650, 750, 850, 1000, 1100, 1250, 1400, 1600, 1750, 1950, 2200, 2450, 2750, 3030, 3260, 3430, 3550, 3650, 3700],
    dtype=np.float64,
)
# week of the first prenatal visit 4–36, percent: ~78% before 14 weeks, ~8% after 20
_VISIT_WEEKS = np.arange(4, 37)
_VISIT_PERCENT = np.concatenate(
    [
        [2.0, 5.0, 10.0, 13.0, 14.0, 11.0, 9.0, 6.0, 5.0, 3.5],  # 4–13
        [2.5, 2.3, 2.2, 2.0, 1.8, 1.6, 1.5],  # 14–20
        [1.2, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05, 0.05],  # 21–36
    ]
)

FILES = (
    "territories.csv",
    "facilities.csv",
    "households.csv",
    "caregivers.csv",
    "children.csv",
    "relationships.csv",
    "pregnancies.csv",
)
FACILITY_KINDS = (
    "health_centre",
    "hospital",
    "school",
    "childcare_centre",
    "municipal_office",
    "social_service",
    "child_protection_office",
    "civil_registry",
    "housing_office",
    "employment_office",
)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Manifest:
    """Summary of one generated synthetic country (also written as ``manifest.json``)."""

    profile: str
    profile_version: str
    seed: int
    as_of: date
    children: int
    counts: dict[str, int]
    generator_version: str = GENERATOR_VERSION
    synthetic: bool = True

    def as_dict(self) -> dict[str, object]:
        return {
            "synthetic": self.synthetic,
            "note": NOTE,
            "generator_version": self.generator_version,
            "profile": self.profile,
            "profile_version": self.profile_version,
            "seed": self.seed,
            "as_of": self.as_of.isoformat(),
            "children": self.children,
            "counts": dict(self.counts),
        }


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def _days(d: date) -> int:
    return (d - _EPOCH).days


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def _choice(rng: np.random.Generator, values: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    return rng.choice(values, size=size, p=weights / weights.sum())


def _weighted_sample(rng: np.random.Generator, items: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` distinct items drawn with probability proportional to ``weights`` (Efraimidis–Spirakis keys)."""
    keys = rng.exponential(size=items.size) / weights
    return items[np.argsort(keys, kind="stable")[:n]]


# --- names ---------------------------------------------------------------------------------------------


class _Names:
    """Vectorised draws of given names and surnames for one country."""

    def __init__(self, country: str, flavour: Flavour) -> None:
        key = country if country in vocab.SURNAMES else vocab.DEFAULT
        self.surnames = np.array(vocab.SURNAMES[key], dtype=object)
        self.surname_p = vocab.zipf_weights(len(self.surnames), 1.0, 6.0)
        self.given = {k: np.array(v, dtype=object) for k, v in vocab.GIVEN[key].items()}
        self.given_p = {k: vocab.zipf_weights(len(v), 1.0, 10.0) for k, v in self.given.items()}
        self.compound = {k: np.array([" " in n for n in v]) for k, v in self.given.items()}
        self.second = {k: np.array(v, dtype=object) for k, v in vocab.SECOND_GIVEN.items()}
        self.second_p = {k: vocab.zipf_weights(len(v), 1.0, 10.0) for k, v in self.second.items()}
        self.flavour = flavour

    def surname(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.surnames[rng.choice(self.surnames.size, size=n, p=self.surname_p)]

    def _given_one_sex(
        self, rng: np.random.Generator, generation: str, sex: str, n: int, p_second: float
    ) -> tuple[np.ndarray, np.ndarray]:
        key = f"{generation}_{sex}"
        names, second = self.given[key], self.second[sex]
        first = rng.choice(names.size, size=n, p=self.given_p[key])
        other = rng.choice(second.size, size=n, p=self.second_p[sex])
        has_second = ~self.compound[key][first] & (rng.random(n) < p_second)
        clash = has_second & (names[first] == second[other])  # no "Sofía Sofía"
        other[clash] = (other[clash] + 1) % second.size
        text = names[first]
        text[has_second] = text[has_second] + " " + second[other[has_second]]
        code = first * 1000 + np.where(has_second, other + 1, 0) + (0 if sex == "F" else 1_000_000)
        return text, code

    def given_names(
        self,
        rng: np.random.Generator,
        generation: str,
        female: np.ndarray,
        p_second: float,
        family: np.ndarray | None = None,
    ) -> np.ndarray:
        """Given names by sex; with ``family``, re-draws until no two members of a family share them."""
        n = female.size
        text = np.empty(n, dtype=object)
        code = np.zeros(n, dtype=np.int64)
        todo = np.arange(n)
        for _ in range(50):
            for sex, mask in (("F", female[todo]), ("M", ~female[todo])):
                idx = todo[mask]
                if idx.size:
                    text[idx], code[idx] = self._given_one_sex(rng, generation, sex, idx.size, p_second)
            if family is None:
                break
            _, first = np.unique(family * 10_000_000 + code, return_index=True)
            repeated = np.ones(n, dtype=bool)
            repeated[first] = False
            todo = np.flatnonzero(repeated)
            if todo.size == 0:
                break
        return text


# --- the simulation ------------------------------------------------------------------------------------


def generate(
    out_dir: Path,
    children: int,
    seed: int,
    profile: Profile,
    as_of: date,
    progress: Progress | None = None,
    trajectories: bool = True,
) -> Manifest:
    """Generate a synthetic country of ``children`` children for ``profile`` as of ``as_of`` into ``out_dir``.

    Writes territories, facilities, households, caregivers, children, relationships and pregnancies
    as CSV plus ``manifest.json``, and returns the :class:`Manifest`. With ``trajectories`` (the
    default) it also writes encounters, measurements, screenings, deliveries, parenting groups and
    their members; the registry files are the same with or without them. ``progress(stage, done,
    total)`` is called as the work advances. Deterministic: the same arguments give byte-identical files.
    """
    if children < 1:
        raise ValueError("children must be at least 1")
    report = progress or _no_progress
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    flavour = flavour_for(profile.country)
    for doc in {profile.default_document, profile.child_document, "PASSPORT"}:
        if doc not in identifiers.SCHEMES:
            raise ValueError(f"no synthetic number scheme for document type {doc!r}")
    root = np.random.SeedSequence([seed, zlib.crc32(profile.id.encode("utf-8"))])
    rng = [np.random.Generator(np.random.PCG64(s)) for s in root.spawn(9)]

    sim = _Simulation(children, profile, flavour, as_of, rng, report)
    tables = sim.run()
    counts: dict[str, int] = {}
    for name in FILES:
        header, build_columns = tables[name]
        counts[name] = csvio.write_csv(out / name, header, build_columns(), report, name)
    if trajectories:
        # streams spawned after the registry's nine: the registry does not change with or without them
        extra = [np.random.Generator(np.random.PCG64(s)) for s in root.spawn(Trajectories.STEPS + 1)]
        traj = Trajectories(sim.registry(), extra, report)
        for name, (header, rows, build, verbatim) in traj.run().items():
            counts[name] = csvio.write_csv_chunks(out / name, header, rows, build, report, name, verbatim)
        del traj
        # The provider directory goes with the trajectories: a living network to refer children to.
        counts[network.PROVIDERS_FILE] = network.write_providers(out, profile, seed)
    manifest = Manifest(
        profile=profile.id,
        profile_version=profile.version,
        seed=seed,
        as_of=as_of,
        children=children,
        counts=counts,
    )
    text = json.dumps(manifest.as_dict(), ensure_ascii=False, indent=2) + "\n"
    (out / "manifest.json").write_text(text, encoding="utf-8")
    return manifest


#: a file's header and a function that builds its columns (lists of strings) when the file is written
Table = tuple[tuple[str, ...], Callable[[], list[list[str]]]]


class _Simulation:
    """One run of the generator; each step draws from its own random stream, so steps stay independent."""

    STEPS = 8

    def __init__(
        self,
        children: int,
        profile: Profile,
        flavour: Flavour,
        as_of: date,
        rng: list[np.random.Generator],
        report: Progress,
    ) -> None:
        self.n_children = children
        self.profile = profile
        self.flavour = flavour
        self.rng = rng
        self.report = report
        self.names = _Names(profile.country, flavour)
        self.as_of = _days(as_of)
        self.start = _days(_years_before(as_of, 8)) + 1  # oldest birth date: 8 years minus a day
        self.window = self.as_of - self.start + 1
        self.tables: dict[str, Table] = {}
        self.done = 0

    def _tick(self) -> None:
        self.done += 1
        self.report("simulation", self.done, self.STEPS)

    def run(self) -> dict[str, Table]:
        self.report("simulation", 0, self.STEPS)
        self.territories = territory_tree.build(self.rng[0], self.profile, self.flavour, self.n_children)
        self._tick()
        self._deliveries(self.rng[1])
        self._tick()
        self._losses(self.rng[2])
        self._tick()
        self._households(self.rng[3])
        self._tick()
        self._facilities(self.rng[4])
        self._tick()
        self._caregivers(self.rng[5])
        self._tick()
        self._children(self.rng[6])
        self._tick()
        self._pregnancies(self.rng[7])
        self._identifiers(self.rng[8])
        self._tick()
        return self._tables()

    # --- births -----------------------------------------------------------------------------------

    def _deliveries(self, rng: np.random.Generator) -> None:
        """Women's reproductive histories, sampled so that births are uniform over the 8-year window.

        Each candidate woman has a first birth at a uniformly random day (over a span long enough
        to cover every history that can reach the window, up to 280 days after ``as_of``), 1–4
        births in all and intervals of at least 15 months. Her births inside the window are her
        children in the data; a birth due within 280 days after ``as_of`` is an ongoing pregnancy,
        registered if its first prenatal visit already happened. Because the first-birth day does
        not depend on anything else, births in the window are uniform by date (no edge effects).
        Candidates are drawn until the window holds the wanted number of deliveries.
        """
        n = self.n_children
        twins = round(n * TWIN_DELIVERY_RATE / (1 + TWIN_DELIVERY_RATE))
        deliveries = n - twins
        max_interval = MIN_BIRTH_INTERVAL_DAYS + INTERVAL_EXTRA_MAX_DAYS
        low = self.start - (len(BIRTHS_PER_WOMAN) - 1) * max_interval - 1
        high = self.as_of + GESTATION_DAYS
        # about one candidate in four reaches the window; batches bound the memory used
        batch = min(int(deliveries * (high - low) / (self.window + 1500)) + 64, 500_000)
        parts: list[dict[str, np.ndarray]] = []
        total = 0
        while total < deliveries:
            part = self._histories(rng, batch, low, high)
            parts.append(part)
            total += int(part["count"].sum())
        women = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
        # keep women in drawing order until the window holds exactly ``deliveries`` births
        cumulative = np.cumsum(women["count"])
        cut = int(np.searchsorted(cumulative, deliveries)) + 1
        women = {key: value[:cut] for key, value in women.items()}
        excess = int(cumulative[cut - 1] - deliveries)
        if excess:
            last = cut - 1
            keep = women["count"][last] - excess
            window_slots = np.flatnonzero(women["in_window"][last])
            women["in_window"][last, window_slots[keep:]] = False
            women["count"][last] = keep
            women["ongoing"][last] = False
        # mothers (with a birth in the window) first, then women with only an ongoing pregnancy
        order = np.argsort(women["count"] == 0, kind="stable")
        women = {key: value[order] for key, value in women.items()}
        k = women["count"]
        mothers = int((k > 0).sum())
        first = np.cumsum(k) - k

        day = women["times"][women["in_window"]]  # row-major: each mother's births in order
        delivery_mother = np.repeat(np.arange(k.size), k)
        eligible = np.flatnonzero((k >= 1) & (k <= 3))  # twins never make more than 4 children
        if twins > eligible.size:
            raise ValueError("too few mothers for the twin births")
        twin_mothers = _weighted_sample(rng, eligible, k[eligible].astype(np.float64), twins)
        is_twin = np.zeros(deliveries, dtype=bool)
        is_twin[first[twin_mothers] + rng.integers(0, k[twin_mothers])] = True
        ga = _choice(rng, _GA_WEEKS, _GA_PERCENT, deliveries)
        ga[is_twin] = np.maximum(24, ga[is_twin] - rng.integers(1, 6, size=int(is_twin.sum())))

        self.n_deliveries = deliveries
        self.mothers = mothers
        self.k = k
        self.mother_first = first
        self.delivery_mother = delivery_mother
        self.delivery_day = day
        self.delivery_ga = ga
        self.is_twin = is_twin
        self.n_women = k.size
        self.woman_k = k
        self.woman_birth = women["birth"]
        self.previous_birth = women["previous"]
        first_in_data = np.where(k > 0, women["times"][np.arange(k.size), women["in_window"].argmax(axis=1)], 0)
        reference = np.where(k > 0, first_in_data, women["due"])
        self.woman_teen = (reference - self.woman_birth) / _YEAR < 20
        pregnant = np.flatnonzero(women["ongoing"])
        lmp = women["due"][pregnant] - GESTATION_DAYS
        self.ongoing = {
            "mother": pregnant,
            "lmp": lmp,
            "week": women["visit_week"][pregnant],
            "visit": lmp + women["visit_week"][pregnant] * 7 + women["visit_offset"][pregnant],
        }

    def _histories(self, rng: np.random.Generator, size: int, low: int, high: int) -> dict[str, np.ndarray]:
        """``size`` candidate women; returns those with a birth in the window or a registered pregnancy."""
        slots = len(BIRTHS_PER_WOMAN)
        first_birth = rng.integers(low, high, size=size)
        births = rng.choice(np.arange(1, slots + 1), size=size, p=np.array(BIRTHS_PER_WOMAN))
        extra = np.minimum(
            rng.gamma(2.0, INTERVAL_EXTRA_MEAN_DAYS / 2.0, size=(size, slots - 1)), INTERVAL_EXTRA_MAX_DAYS
        )
        intervals = MIN_BIRTH_INTERVAL_DAYS + extra.astype(np.int64)
        since_first = np.concatenate([np.zeros((size, 1), dtype=np.int64), np.cumsum(intervals, axis=1)], axis=1)
        times = first_birth[:, None] + since_first
        first_age = _choice(rng, _FIRST_AGE, self._first_age_weights(), size) + rng.random(size)
        valid = (np.arange(slots) < births[:, None]) & (first_age[:, None] + since_first / _YEAR < MAX_MOTHER_AGE)
        in_window = valid & (times >= self.start) & (times <= self.as_of)
        count = in_window.sum(axis=1)
        future = valid & (times > self.as_of)
        due = np.where(future.any(axis=1), times[np.arange(size), future.argmax(axis=1)], self.as_of + 10_000)
        ga_now = self.as_of - (due - GESTATION_DAYS)  # days of gestation today, if due within 280 days
        week = _choice(rng, _VISIT_WEEKS, _VISIT_PERCENT, size)
        offset = rng.integers(0, 7, size=size)
        ongoing = (ga_now > 0) & (week * 7 + offset <= ga_now)
        before = valid & (times < self.start)
        previous = np.where(before.any(axis=1), np.where(before, times, np.iinfo(np.int64).min).max(axis=1), low)
        keep = (count > 0) | ongoing
        birth = first_birth - np.rint(first_age * _YEAR).astype(np.int64)
        return {
            "count": count[keep],
            "times": times[keep],
            "in_window": in_window[keep],
            "ongoing": ongoing[keep],
            "due": due[keep],
            "visit_week": week[keep],
            "visit_offset": offset[keep],
            "previous": previous[keep],
            "birth": birth[keep],
        }

    def _losses(self, rng: np.random.Generator) -> None:
        """Stillbirths and miscarriages, placed before the mother's first delivery in the window."""
        k, first = self.k[: self.mothers], self.mother_first[: self.mothers]
        first_day = self.delivery_day[first]
        first_lmp = first_day - self.delivery_ga[first] * 7
        latest = first_lmp - 90
        earliest = np.maximum.reduce(
            [
                np.full(k.size, self.start, dtype=np.int64),
                self.previous_birth[: self.mothers] + 90,
                self.woman_birth[: self.mothers] + int(np.ceil(14 * _YEAR)),
            ]
        )
        room = np.flatnonzero(latest - earliest >= 300)
        n_still = round(self.n_deliveries * STILLBIRTH_RATE)
        n_loss = min(n_still + round(self.n_deliveries * MISCARRIAGE_RATE), room.size)
        n_still = min(n_still, n_loss)
        lost = np.sort(rng.choice(room, size=n_loss, replace=False))
        miscarriage_weeks = np.arange(8, 22)
        weeks = np.concatenate(
            [
                rng.integers(22, 42, size=n_still),
                _choice(rng, miscarriage_weeks, 1.0 / (miscarriage_weeks - 6.0), n_loss - n_still),
            ]
        )
        outcome = np.array(["stillbirth"] * n_still + ["miscarriage"] * (n_loss - n_still), dtype=object)
        shuffle = rng.permutation(n_loss)
        weeks, outcome = weeks[shuffle], outcome[shuffle]
        duration = weeks * 7 + rng.integers(0, 7, size=n_loss)
        lo, hi = earliest[lost], latest[lost] - duration
        loss_lmp = lo + np.floor(rng.random(n_loss) * (hi - lo + 1)).astype(np.int64)
        visit_week, visit_offset = self._visit_weeks(rng, n_loss, self.woman_teen[lost], weeks - 1)
        self.losses = {
            "mother": lost,
            "lmp": loss_lmp,
            "week": visit_week,
            "visit": loss_lmp + visit_week * 7 + visit_offset,
            "outcome_date": loss_lmp + duration,
            "outcome": outcome,
        }

    def _first_age_weights(self) -> np.ndarray:
        weights = _FIRST_AGE_WEIGHT.copy()
        weights[_FIRST_AGE < 20] *= self.flavour.teen_factor
        return weights

    def _visit_weeks(
        self, rng: np.random.Generator, n: int, late_risk: np.ndarray, max_week: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Week of the first prenatal visit (later for adolescents and migrants), at most ``max_week``."""
        week = _choice(rng, _VISIT_WEEKS, _VISIT_PERCENT, n)
        late = late_risk & (rng.random(n) < 0.2)
        week[late] += rng.integers(4, 10, size=int(late.sum()))
        week = np.minimum(week, max_week)
        return week, rng.integers(0, 7, size=n)

    # --- households -------------------------------------------------------------------------------

    def _households(self, rng: np.random.Generator) -> None:
        """One household per woman: territory, rurality, who lives there, vulnerability, address."""
        t = self.territories
        n = self.n_women
        self.household_rank = rng.permutation(n)
        territory = rng.choice(t.n_lowest, size=n, p=t.population)
        for _ in range(20):  # every lowest-level territory gets at least one household
            empty = np.flatnonzero(np.bincount(territory, minlength=t.n_lowest) == 0)
            if empty.size == 0 or n < t.n_lowest:
                break
            territory[rng.choice(n, size=empty.size, replace=False)] = empty
        self.territory = territory
        self.rural = rng.random(n) < t.rural_share[territory]
        self.migrant = rng.random(n) < self.flavour.migrant_share
        mother = self.woman_k > 0
        teen = self.woman_teen
        self.has_father = mother & (rng.random(n) < np.where(teen, FATHER_RECOGNISED[1], FATHER_RECOGNISED[0]))
        self.has_guardian = mother & (rng.random(n) < np.where(teen, GUARDIAN_PRESENT[1], GUARDIAN_PRESENT[0]))

        # vulnerability: a latent score (higher = poorer), territory effect + household risk factors
        latent = (
            t.poverty[territory]
            + 0.35 * self.rural
            + 0.5 * teen
            + 0.35 * (mother & ~self.has_father)
            + 0.3 * self.migrant
            + rng.normal(0.0, 1.0, size=n)
        )
        self.latent = (latent - 0.45) / 1.25
        # families with young children are poorer than the population the registry ranks: skew low
        rank = 1.0 / (1.0 + np.exp(1.702 * self.latent))
        self.vulnerability = np.clip(np.ceil(100 * rank**1.3), 1, 100).astype(np.int64)
        self.address = self._addresses(rng, self.rural)

    def _addresses(self, rng: np.random.Generator, rural: np.ndarray) -> np.ndarray:
        f = self.flavour
        streets = np.array(
            list(vocab.NATURE) + [f"San {s}" for s in vocab.SAINTS_M] + [f"Santa {s}" for s in vocab.SAINTS_F],
            dtype=object,
        )
        places = np.array(territory_tree.place_name_pool(f.country), dtype=object)
        n = rural.size
        address = np.empty(n, dtype=object)
        street = streets[rng.integers(0, streets.size, size=n)].tolist()
        number = rng.integers(1, 10_000, size=n)
        pattern_p = np.array([w for _, w, _ in f.street_patterns])
        pattern = rng.choice(len(f.street_patterns), size=n, p=pattern_p / pattern_p.sum())
        suffix = rng.integers(0, len(f.urban_suffixes), size=n)
        with_suffix = rng.random(n) < 0.12
        flat = (rng.integers(1, 20, size=n) * 100 + rng.integers(1, 13, size=n)).tolist()
        block = rng.integers(1, 40, size=n).tolist()
        rural_pattern = rng.integers(0, len(f.rural_patterns), size=n)
        place = places[rng.integers(0, places.size, size=n)].tolist()
        km = rng.integers(1, 46, size=n).tolist()
        lot = rng.integers(1, 300, size=n).tolist()
        for p, (template, _, max_number) in enumerate(f.street_patterns):
            idx = np.flatnonzero(~rural & (pattern == p))
            numbers = (number[idx] % max_number + 1).tolist()
            address[idx] = [template.format(s=street[i], n=m) for i, m in zip(idx.tolist(), numbers, strict=True)]
        for s, template in enumerate(f.urban_suffixes):
            rows = np.flatnonzero(~rural & with_suffix & (suffix == s)).tolist()
            address[rows] = address[rows] + np.array(
                [template.format(n=flat[i], b=block[i]) for i in rows], dtype=object
            )
        for p, template in enumerate(f.rural_patterns):
            rows = np.flatnonzero(rural & (rural_pattern == p)).tolist()
            address[rows] = [template.format(s=street[i], p=place[i], k=km[i], n=lot[i]) for i in rows]
        return address

    # --- facilities -------------------------------------------------------------------------------

    def _facilities(self, rng: np.random.Generator) -> None:
        """Health centres (1–3 by population), schools and childcare by children, offices by territory."""
        t = self.territories
        kids = self.woman_k + np.bincount(self.delivery_mother[self.is_twin], minlength=self.n_women)
        households = np.bincount(self.territory, minlength=t.n_lowest)
        kids_in = np.bincount(self.territory, weights=kids, minlength=t.n_lowest).astype(np.int64)
        p50, p75, p85 = np.quantile(households, [0.5, 0.75, 0.85])
        health = 1 + (households >= p50).astype(np.int64) + (households > p85)
        schools = np.maximum(1, np.rint(kids_in / 500)).astype(np.int64)
        childcare = np.maximum(1, np.rint(kids_in / 300)).astype(np.int64)
        n_regions = len(t.region_codes)
        capital = np.full(n_regions, -1, dtype=np.int64)
        for r in range(n_regions):
            members = np.flatnonzero(t.lowest_region == r)
            capital[r] = members[np.argmax(households[members])]
        capital_of = {int(c): r for r, c in enumerate(capital.tolist())}
        names = self.flavour.facility_names
        streets = list(vocab.NATURE) + [f"San {s}" for s in vocab.SAINTS_M]

        kinds: list[str] = []
        fac_names: list[str] = []
        fac_territory: list[int] = []
        health_first = np.zeros(t.n_lowest, dtype=np.int64)
        for low in range(t.n_lowest):
            tname = t.lowest_names[low]
            region = capital_of.get(low)
            plan: list[tuple[str, int]] = [
                ("health_centre", int(health[low])),
                ("school", int(schools[low])),
                ("childcare_centre", int(childcare[low])),
                ("municipal_office", 1),
                ("social_service", 1),
                ("civil_registry", 1),
            ]
            if region is not None:
                plan += [
                    ("hospital", 1),
                    ("child_protection_office", 1),
                    ("housing_office", 1),
                    ("employment_office", 1),
                ]
            else:
                top_half, top_quarter = households[low] >= p50, households[low] >= p75
                plan += [("child_protection_office", int(top_half)), ("employment_office", int(top_half))]
                plan += [("housing_office", int(top_quarter))]
            plan.sort(key=lambda item: FACILITY_KINDS.index(item[0]))
            seen: set[str] = set()
            for kind, count in plan:
                if kind == "health_centre":
                    health_first[low] = len(kinds)
                templates = names[kind]
                for j in range(count):
                    if j == 0:
                        regional = region is not None and kind in ("hospital", "housing_office", "employment_office")
                        template = templates[1] if regional else templates[0]
                    else:
                        template = (
                            templates[2 + int(rng.integers(0, len(templates) - 2))]
                            if len(templates) > 2
                            else templates[0]
                        )
                    name = template.format(
                        t=tname,
                        r=t.region_names[region] if region is not None else tname,
                        s=streets[int(rng.integers(0, len(streets)))],
                    )
                    base, number = name, 2
                    while name in seen:
                        name, number = f"{base} N° {number}", number + 1
                    seen.add(name)
                    kinds.append(kind)
                    fac_names.append(name)
                    fac_territory.append(low)
        n_fac = len(kinds)
        self.facility_codes = csvio.sequential_codes("F", n_fac, 6)
        self.facility_kinds = np.array(kinds, dtype=object)
        self.facility_names = np.array(fac_names, dtype=object)
        self.facility_territory = np.array(fac_territory, dtype=np.int64)
        facility_columns = [self.facility_codes, fac_names, kinds, [t.lowest_codes[i] for i in fac_territory]]
        self.tables["facilities.csv"] = (("code", "name", "kind", "territory_code"), lambda: facility_columns)
        # each household is enrolled at one of its territory's health centres
        pick = np.floor(rng.random(self.n_women) * health[self.territory]).astype(np.int64)
        self.household_facility = health_first[self.territory] + pick

    # --- people -----------------------------------------------------------------------------------

    def _caregivers(self, rng: np.random.Generator) -> None:
        """Mothers, recognised fathers and guardian grandmothers: names, birth dates, schooling, row order."""
        f, names = self.flavour, self.names
        n = self.n_women
        women = np.arange(n)
        fathers = np.flatnonzero(self.has_father)
        guardians = np.flatnonzero(self.has_guardian)

        # mothers
        mother_paternal, mother_maternal = names.surname(rng, n), names.surname(rng, n)
        mother_given = names.given_names(rng, "adult", np.ones(n, dtype=bool), f.second_name_adult)
        age_now = age_in_years(self.woman_birth, self.as_of)
        school = f.schooling_mean - 1.7 * self.latent + rng.normal(0.0, 2.0, size=n)
        mother_school = np.clip(np.rint(np.minimum(school, age_now - 6)), 0, 18).astype(np.int64)

        # fathers: about 3 years older than the mother, at least 15.5 at the first child
        gap = np.rint(rng.normal(3.0, 4.0, size=fathers.size) * _YEAR).astype(np.int64)
        father_birth = self.woman_birth[fathers] - gap
        ref = self.delivery_day[self.mother_first[fathers]]  # fathers only exist for mothers (index < mothers)
        father_birth = np.clip(father_birth, ref - int(62 * _YEAR), ref - int(15.5 * _YEAR))
        father_given = names.given_names(rng, "adult", np.zeros(fathers.size, dtype=bool), f.second_name_adult)
        father_paternal, father_maternal = names.surname(rng, fathers.size), names.surname(rng, fathers.size)
        father_age = age_in_years(father_birth, self.as_of)
        father_school = mother_school[fathers] + rng.normal(-0.3, 2.0, size=fathers.size)
        father_school = np.clip(np.rint(np.minimum(father_school, father_age - 6)), 0, 18).astype(np.int64)
        father_migrant = np.where(
            self.migrant[fathers], rng.random(fathers.size) < 0.75, rng.random(fathers.size) < 0.01
        )

        # guardians: the maternal grandmother (her paternal surname is the mother's maternal one)
        generation = np.clip(rng.normal(24.0, 5.0, size=guardians.size), 15.0, 40.0)
        guardian_birth = self.woman_birth[guardians] - np.rint(generation * _YEAR).astype(np.int64)
        guardian_given = names.given_names(rng, "elder", np.ones(guardians.size, dtype=bool), f.second_name_adult)
        guardian_school = f.schooling_mean - 3.0 - 1.7 * self.latent[guardians] + rng.normal(0, 2.5, guardians.size)
        guardian_school = np.clip(np.rint(guardian_school), 0, 18).astype(np.int64)

        cg = {
            "household": np.concatenate([women, fathers, guardians]),
            "role": np.concatenate([np.zeros(n), np.ones(fathers.size), np.full(guardians.size, 2)]).astype(np.int8),
            "birth": np.concatenate([self.woman_birth, father_birth, guardian_birth]),
            "given": np.concatenate([mother_given, father_given, guardian_given]),
            "paternal": np.concatenate([mother_paternal, father_paternal, mother_maternal[guardians]]),
            "maternal": np.concatenate([mother_maternal, father_maternal, names.surname(rng, guardians.size)]),
            "school": np.concatenate([mother_school, father_school, guardian_school]),
            "migrant": np.concatenate([self.migrant, father_migrant, self.migrant[guardians]]),
        }
        order = np.lexsort((cg["role"], self.household_rank[cg["household"]]))
        self.cg = {key: value[order] for key, value in cg.items()}
        total = order.size
        self.cg_ids = np.array(csvio.sequential_codes("G", total), dtype=object)
        # external id of each woman's mother / father / guardian row
        position = np.empty(total, dtype=np.int64)
        position[order] = np.arange(total)
        self.mother_row = position[:n]
        self.father_row = np.full(n, -1, dtype=np.int64)
        self.father_row[fathers] = position[n : n + fathers.size]
        self.guardian_row = np.full(n, -1, dtype=np.int64)
        self.guardian_row[guardians] = position[n + fathers.size :]
        self.mother_paternal, self.mother_maternal = mother_paternal, mother_maternal
        self.father_paternal = np.empty(n, dtype=object)
        self.father_paternal[fathers] = father_paternal

    def _children(self, rng: np.random.Generator) -> None:
        """Children of the deliveries: sex, names (Spanish surname convention), birth weight, enrolment."""
        f = self.flavour
        per_delivery = 1 + self.is_twin.astype(np.int64)
        delivery = np.repeat(np.arange(self.n_deliveries), per_delivery)
        n = delivery.size
        twin_order = np.arange(n) - (np.cumsum(per_delivery) - per_delivery)[delivery]
        mother = self.delivery_mother[delivery]
        birth = self.delivery_day[delivery]
        female = rng.random(n) >= MALE_SHARE
        given = self.names.given_names(rng, "child", female, f.second_name_child, family=mother)
        father = self.has_father[mother]
        paternal = np.where(father, self.father_paternal[mother], self.mother_paternal[mother])
        maternal = np.where(father, self.mother_paternal[mother], self.mother_maternal[mother])

        ga = self.delivery_ga[delivery]
        median = _WEIGHT_MEDIAN[ga - 24] * np.where(female, 0.975, 1.025) * np.where(self.is_twin[delivery], 0.9, 1.0)
        weight = np.clip(np.rint(median * np.exp(rng.normal(0.0, 0.115, size=n))), 350, 5800).astype(np.int64)

        age_days = self.as_of - birth
        newborn_share = NEWBORN_DAYS / self.window
        older_missing = (CHILDREN_WITHOUT_ID - NEWBORN_WITHOUT_ID * newborn_share) / (1 - newborn_share)
        missing = rng.random(n) < np.where(age_days < NEWBORN_DAYS, NEWBORN_WITHOUT_ID, older_missing)

        order = np.lexsort((twin_order, birth, self.household_rank[mother]))
        self.ch = {
            "delivery": delivery[order],
            "twin_order": twin_order[order],
            "mother": mother[order],
            "birth": birth[order],
            "female": female[order],
            "given": given[order],
            "paternal": paternal[order],
            "maternal": maternal[order],
            "weight": weight[order],
            "ga": ga[order],
            "missing_id": missing[order],
        }
        self.ch_ids = np.array(csvio.sequential_codes("C", n), dtype=object)
        position = np.empty(n, dtype=np.int64)
        position[order] = np.arange(n)
        self.first_child_of_delivery = position[(np.cumsum(per_delivery) - per_delivery)]

    def _pregnancies(self, rng: np.random.Generator) -> None:
        """One pregnancy per delivery (twins: one row, linked to the first twin), losses, ongoing."""
        day, ga = self.delivery_day, self.delivery_ga
        mothers = self.delivery_mother
        lmp = day - ga * 7
        late = self.woman_teen | self.migrant
        week, offset = self._visit_weeks(rng, self.n_deliveries, late[mothers], ga - 1)
        births = {
            "mother": mothers,
            "lmp": lmp,
            "week": week,
            "visit": lmp + week * 7 + offset,
            "outcome": np.full(self.n_deliveries, "live_birth", dtype=object),
            "outcome_date": day,
            "child": self.first_child_of_delivery,
        }
        losses = dict(self.losses, child=np.full(self.losses["lmp"].size, -1, dtype=np.int64))
        ongoing_n = self.ongoing["lmp"].size
        ongoing = dict(
            self.ongoing,
            outcome=np.full(ongoing_n, "ongoing", dtype=object),
            outcome_date=np.zeros(ongoing_n, dtype=np.int64),
            child=np.full(ongoing_n, -1, dtype=np.int64),
        )
        parts = (births, losses, ongoing)
        preg = {key: np.concatenate([p[key] for p in parts]) for key in births}
        order = np.lexsort((preg["lmp"], self.household_rank[preg["mother"]]))
        self.preg = {key: value[order] for key, value in preg.items()}

    def _identifiers(self, rng: np.random.Generator) -> None:
        """National document numbers for caregivers and children, unique across the whole country."""
        profile = self.profile
        cg_age = age_in_years(self.cg["birth"], self.as_of)
        minor_doc = profile.child_document if profile.child_document != profile.default_document else None
        cg_type = np.full(self.cg["birth"].size, profile.default_document, dtype=object)
        if minor_doc is not None:
            cg_type[cg_age < 18] = minor_doc
        cg_type[self.cg["migrant"]] = "PASSPORT"
        ch_type = np.full(self.ch["birth"].size, profile.child_document, dtype=object)
        ch_type[self.ch["missing_id"]] = ""

        types = np.concatenate([cg_type, ch_type])
        births = np.concatenate([self.cg["birth"], self.ch["birth"]])
        numbers = np.full(types.size, "", dtype=object)
        for doc in sorted(set(types.tolist()) - {""}):
            idx = np.flatnonzero(types == doc)
            numbers[idx] = identifiers.SCHEMES[doc](rng, births[idx])
        n_cg = cg_type.size
        self.cg_type, self.cg_number = cg_type, numbers[:n_cg]
        self.ch_type, self.ch_number = ch_type, numbers[n_cg:]

    # --- what the trajectories need ----------------------------------------------------------------

    def registry(self) -> Registry:
        """The arrays of the registry (in file order) that the trajectories build on."""
        ch, preg = self.ch, self.preg
        n_ch = ch["birth"].size
        pregnancy_of_first = np.full(n_ch, -1, dtype=np.int64)
        born = np.flatnonzero(preg["child"] >= 0)
        pregnancy_of_first[preg["child"][born]] = born
        first_child = self.first_child_of_delivery[ch["delivery"]]
        ongoing = preg["outcome"] == "ongoing"
        return Registry(
            profile=self.profile,
            as_of=self.as_of,
            child_ids=self.ch_ids,
            child_birth=ch["birth"],
            child_female=ch["female"],
            child_woman=ch["mother"],
            child_ga=ch["ga"],
            child_weight=ch["weight"],
            child_pregnancy=pregnancy_of_first[first_child],
            woman_birth=self.woman_birth,
            woman_schooling=self.cg["school"][self.mother_row],
            woman_vulnerability=self.vulnerability,
            woman_latent=self.latent,
            woman_facility=self.household_facility,
            woman_territory=self.territory,
            woman_caregiver=self.mother_row,
            caregiver_ids=self.cg_ids,
            preg_woman=preg["mother"],
            preg_lmp=preg["lmp"],
            preg_week=preg["week"],
            preg_visit=preg["visit"],
            preg_end=np.where(ongoing, self.as_of + 1, preg["outcome_date"]),
            facility_codes=np.array(self.facility_codes, dtype=object),
            facility_names=self.facility_names,
            facility_kinds=self.facility_kinds,
            facility_territory=self.facility_territory,
        )

    # --- tables -------------------------------------------------------------------------------------

    def _tables(self) -> dict[str, Table]:
        """Header and column builder of every file; columns are built only when the file is written."""
        t = self.territories
        lowest = np.array(t.lowest_codes, dtype=object)
        fac = np.array(self.facility_codes, dtype=object)
        hh_ids = np.array(csvio.sequential_codes("H", self.n_women), dtype=object)
        hh_code = hh_ids[self.household_rank]  # code of each woman's household
        tables = dict(self.tables)
        tables["territories.csv"] = (
            ("code", "name", "level", "parent_code"),
            lambda: [t.codes, t.names, t.levels, t.parent_codes],
        )
        by_rank = np.argsort(self.household_rank)
        tables["households.csv"] = (
            ("code", "territory_code", "address", "vulnerability_percentile"),
            lambda: [
                hh_ids.tolist(),
                lowest[self.territory[by_rank]].tolist(),
                self.address[by_rank].tolist(),
                csvio.int_strings(self.vulnerability[by_rank]),
            ],
        )
        cg = self.cg
        tables["caregivers.csv"] = (
            (
                "external_id",
                "given_names",
                "paternal_surname",
                "maternal_surname",
                "sex",
                "birth_date",
                "national_id_type",
                "national_id",
                "household_code",
                "territory_code",
                "schooling_years",
            ),
            lambda: [
                self.cg_ids.tolist(),
                cg["given"].tolist(),
                cg["paternal"].tolist(),
                cg["maternal"].tolist(),
                np.where(cg["role"] == 1, "M", "F").tolist(),
                csvio.iso_dates(cg["birth"]),
                self.cg_type.tolist(),
                self.cg_number.tolist(),
                hh_code[cg["household"]].tolist(),
                lowest[self.territory[cg["household"]]].tolist(),
                csvio.int_strings(cg["school"]),
            ],
        )
        ch = self.ch
        mother_number = self.cg_number[self.mother_row[ch["mother"]]]
        tables["children.csv"] = (
            (
                "external_id",
                "given_names",
                "paternal_surname",
                "maternal_surname",
                "sex",
                "birth_date",
                "national_id",
                "mother_national_id",
                "territory_code",
                "national_id_type",
                "household_code",
                "facility_code",
                "birth_weight_g",
                "gestational_weeks",
            ),
            lambda: [
                self.ch_ids.tolist(),
                ch["given"].tolist(),
                ch["paternal"].tolist(),
                ch["maternal"].tolist(),
                np.where(ch["female"], "F", "M").tolist(),
                csvio.iso_dates(ch["birth"]),
                self.ch_number.tolist(),
                mother_number.tolist(),
                lowest[self.territory[ch["mother"]]].tolist(),
                self.ch_type.tolist(),
                hh_code[ch["mother"]].tolist(),
                fac[self.household_facility[ch["mother"]]].tolist(),
                csvio.int_strings(ch["weight"]),
                csvio.int_strings(ch["ga"]),
            ],
        )
        # relationships: each child's mother, then father, then guardian
        n_ch = ch["mother"].size
        child_index = np.arange(n_ch)
        rows = [(child_index, self.mother_row[ch["mother"]], 0)]
        for role, caregiver_row in ((1, self.father_row), (2, self.guardian_row)):
            linked = caregiver_row[ch["mother"]]
            has = linked >= 0
            rows.append((child_index[has], linked[has], role))
        rel_child = np.concatenate([r[0] for r in rows])
        rel_cg = np.concatenate([r[1] for r in rows])
        rel_role = np.concatenate([np.full(r[0].size, r[2], dtype=np.int8) for r in rows])
        order = np.lexsort((rel_role, rel_child))
        role_names = np.array(["mother", "father", "guardian"], dtype=object)
        tables["relationships.csv"] = (
            ("child_external_id", "caregiver_external_id", "relationship"),
            lambda: [
                self.ch_ids[rel_child[order]].tolist(),
                self.cg_ids[rel_cg[order]].tolist(),
                role_names[rel_role[order]].tolist(),
            ],
        )
        preg = self.preg
        n_preg = preg["lmp"].size
        no_outcome = preg["outcome"] == "ongoing"
        no_child = preg["child"] < 0
        child_ids = np.where(no_child, "", self.ch_ids[np.maximum(preg["child"], 0)])
        tables["pregnancies.csv"] = (
            (
                "external_id",
                "mother_external_id",
                "lmp_date",
                "edd_date",
                "first_visit_date",
                "first_visit_week",
                "facility_code",
                "outcome",
                "outcome_date",
                "child_external_id",
            ),
            lambda: [
                csvio.sequential_codes("P", n_preg),
                self.cg_ids[self.mother_row[preg["mother"]]].tolist(),
                csvio.iso_dates(preg["lmp"]),
                csvio.iso_dates(preg["lmp"] + GESTATION_DAYS),
                csvio.iso_dates(preg["visit"]),
                csvio.int_strings(preg["week"]),
                fac[self.household_facility[preg["mother"]]].tolist(),
                preg["outcome"].tolist(),
                csvio.iso_dates(preg["outcome_date"], missing=no_outcome),
                child_ids.tolist(),
            ],
        )
        return tables
