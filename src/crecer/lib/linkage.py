"""Record linkage for Spanish-speaking registries: name keys, comparisons and a pair score.

Duplicates in a child registry are the same child typed twice: a surname missing, the two surnames
swapped, a particle ("de la") dropped, an accent or a letter changed by ear ("Yesenia"/"Llesenia",
"Bibiana"/"Viviana"), a birth date with the day and month swapped or a digit wrong. Twins are the hard
opposite: same mother, same birth date, different names.

This module is pure Python (rapidfuzz for string similarity): it turns a record into comparable keys
(:func:`keys`) and scores a pair (:func:`score`) with the same comparison levels the batch model uses,
so the ranked list shown at registration and the batch deduplication agree on what "similar" means.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from crecer.lib.names import fold

#: particles dropped from surnames and given names before comparing ("María de los Ángeles",
#: "de la Fuente", "del Río", "San Martín" keeps San: it is part of the name)
PARTICLES = frozenset({"de", "del", "la", "las", "los", "y", "e", "da", "do", "dos", "das", "van", "von", "mc"})

# Spanish spelling-by-ear equivalences, applied in order to a folded word.
_PHONETIC = (
    (re.compile(r"h(?!$)"), ""),  # silent h (ch was already turned into x below)
    (re.compile(r"ll"), "y"),
    (re.compile(r"qu"), "k"),
    (re.compile(r"c(?=[ei])"), "s"),
    (re.compile(r"c"), "k"),
    (re.compile(r"z"), "s"),
    (re.compile(r"v"), "b"),
    (re.compile(r"w"), "u"),
    (re.compile(r"g(?=[ei])"), "j"),
    (re.compile(r"gu(?=[ei])"), "g"),
    (re.compile(r"y(?=$|[^aeiou])"), "i"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"(.)\1+"), r"\1"),  # double letters
)


@lru_cache(maxsize=1 << 16)
def words(text: str | None) -> tuple[str, ...]:
    """The folded words of a name without particles: "María de los Ángeles" -> ("maria", "angeles")."""
    return tuple(w for w in fold(text).split() if w not in PARTICLES)


@lru_cache(maxsize=1 << 16)
def phonetic(word: str) -> str:
    """A Spanish sound key of one folded word: "yesenia" and "llesenia" -> "iesenia"."""
    key = word.replace("ch", "x")
    for pattern, replacement in _PHONETIC:
        key = pattern.sub(replacement, key)
    return key


@dataclass(frozen=True)
class Keys:
    """What a record is compared on."""

    given: tuple[str, ...]
    paternal: str
    maternal: str
    birth_date: dt.date | None
    sex: str
    mother_document: str
    territory: str

    @property
    def first_given(self) -> str:
        return self.given[0] if self.given else ""

    @property
    def surnames(self) -> tuple[str, ...]:
        return tuple(s for s in (self.paternal, self.maternal) if s)


def keys(record: Mapping[str, Any]) -> Keys:
    """Keys of a record with given_names, paternal_surname, maternal_surname, birth_date (date or ISO
    text), sex, mother_document (canonical) and territory (code)."""
    birth = record.get("birth_date")
    if isinstance(birth, str):
        try:
            birth = dt.date.fromisoformat(birth)
        except ValueError:
            birth = None
    return Keys(
        given=words(record.get("given_names")),
        paternal=" ".join(words(record.get("paternal_surname"))),
        maternal=" ".join(words(record.get("maternal_surname"))),
        birth_date=birth if isinstance(birth, dt.date) else None,
        sex=(record.get("sex") or "").upper(),
        mother_document=record.get("mother_document") or "",
        territory=record.get("territory") or "",
    )


def _similar(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if phonetic(a) == phonetic(b):
        return 0.95
    return float(JaroWinkler.similarity(a, b))


# --- comparison levels (the batch model uses the same ones, written in SQL) ---------------------------


def given_level(a: Keys, b: Keys) -> str:
    """exact | sounds_alike | first_name | similar | different | missing"""
    if not a.given or not b.given:
        return "missing"
    if a.given == b.given:
        return "exact"
    if [phonetic(w) for w in a.given] == [phonetic(w) for w in b.given]:
        return "sounds_alike"
    if a.first_given == b.first_given or phonetic(a.first_given) == phonetic(b.first_given):
        return "first_name"  # "María José" and "María"
    if _similar(" ".join(a.given), " ".join(b.given)) >= 0.88:
        return "similar"
    return "different"


def surname_level(a: Keys, b: Keys) -> str:
    """exact | swapped | one_missing | sounds_alike | paternal_only | similar | different"""
    if (a.paternal, a.maternal) == (b.paternal, b.maternal):
        return "exact"
    if a.paternal and a.maternal and (a.paternal, a.maternal) == (b.maternal, b.paternal):
        return "swapped"
    if a.paternal == b.paternal and (not a.maternal or not b.maternal):
        return "one_missing"
    sa, sb = set(a.surnames), set(b.surnames)
    if sa and sb and (sa <= sb or sb <= sa) and len(sa ^ sb) <= 1 and (not a.maternal or not b.maternal):
        return "one_missing"  # only one surname typed, which is the other record's second
    pa = tuple(phonetic(s) for s in a.surnames)
    pb = tuple(phonetic(s) for s in b.surnames)
    if pa == pb or (len(pa) == len(pb) == 2 and pa == pb[::-1]):
        return "sounds_alike"
    if a.paternal and a.paternal == b.paternal:
        return "paternal_only"
    if _similar(a.paternal, b.paternal) >= 0.9 and _similar(a.maternal, b.maternal) >= 0.85:
        return "similar"
    return "different"


def birth_date_level(a: Keys, b: Keys) -> str:
    """exact | day_month_swapped | one_typo | near | different | missing"""
    if a.birth_date is None or b.birth_date is None:
        return "missing"
    if a.birth_date == b.birth_date:
        return "exact"
    x, y = a.birth_date, b.birth_date
    if x.year == y.year and x.month == y.day and x.day == y.month:
        return "day_month_swapped"
    if DamerauLevenshtein.distance(x.strftime("%Y%m%d"), y.strftime("%Y%m%d")) == 1:
        return "one_typo"
    if abs((x - y).days) <= 31:
        return "near"
    return "different"


def twins(a: Keys, b: Keys) -> bool:
    """Same mother and birth date but different sex or different first names: never the same child."""
    if not a.mother_document or a.mother_document != b.mother_document or a.birth_date != b.birth_date:
        return False
    if a.sex and b.sex and a.sex != b.sex:
        return True
    return phonetic(a.first_given) != phonetic(b.first_given)


# Match weights (log2 of m/u) per level; estimated on a synthetic registry with known duplicates
# (bench/bench_dedup.py) and rounded. The batch model estimates its own with expectation maximisation.
WEIGHTS: dict[str, dict[str, float]] = {
    "given": {"exact": 6.0, "sounds_alike": 5.0, "first_name": 3.0, "similar": 2.0, "different": -5.0, "missing": 0.0},
    "surnames": {
        "exact": 9.0,
        "swapped": 7.5,
        "one_missing": 6.0,
        "sounds_alike": 7.0,
        "paternal_only": 1.0,
        "similar": 4.0,
        "different": -7.0,
    },
    "birth_date": {
        "exact": 8.0,
        "day_month_swapped": 6.0,
        "one_typo": 5.0,
        "near": 1.0,
        "different": -8.0,
        "missing": 0.0,
    },
    "sex": {"same": 1.0, "different": -6.0, "missing": 0.0},
    "mother": {"same": 5.0, "different": -2.0, "missing": 0.0},
    "territory": {"same": 1.5, "different": -0.5, "missing": 0.0},
}
#: prior log2 odds that two records taken at random are the same child
PRIOR = -16.0


@dataclass(frozen=True)
class Score:
    weight: float
    probability: float
    levels: dict[str, str]


def score(a: Keys, b: Keys) -> Score:
    """Fellegi-Sunter style score of a pair: the sum of the levels' match weights and the prior."""
    levels = {
        "given": given_level(a, b),
        "surnames": surname_level(a, b),
        "birth_date": birth_date_level(a, b),
        "sex": "missing" if not a.sex or not b.sex else ("same" if a.sex == b.sex else "different"),
        "mother": "missing"
        if not a.mother_document or not b.mother_document
        else ("same" if a.mother_document == b.mother_document else "different"),
        "territory": "missing"
        if not a.territory or not b.territory
        else ("same" if a.territory == b.territory else "different"),
    }
    weight = PRIOR + sum(WEIGHTS[name][level] for name, level in levels.items())
    if twins(a, b):
        weight = min(weight, PRIOR)
    probability = 1.0 / (1.0 + math.pow(2.0, -weight))
    return Score(round(weight, 2), probability, levels)


def date_variants(day: dt.date) -> list[dt.date]:
    """Birth dates a typist may have produced instead of ``day``: itself, a day either side, day and
    month swapped, and one digit changed in the year's last digit, the month or the day. Used to find
    the candidates shown at registration."""
    out = {day, day - dt.timedelta(days=1), day + dt.timedelta(days=1)}
    if day.day <= 12:
        with contextlib.suppress(ValueError):
            out.add(day.replace(month=day.day, day=day.month))
    digits = day.strftime("%Y%m%d")
    for i in (3, 4, 5, 6, 7):
        for d in "0123456789":
            if d == digits[i]:
                continue
            text = digits[:i] + d + digits[i + 1 :]
            with contextlib.suppress(ValueError):
                out.add(dt.date(int(text[:4]), int(text[4:6]), int(text[6:])))
    return sorted(out)
