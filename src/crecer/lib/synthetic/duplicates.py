"""Corrupted duplicates of a synthetic registry, with the truth: to measure deduplication.

Each duplicate is a child of the registry typed again by someone else, as happens between a maternity
ward, a health centre and a social registry: without the identity document (a duplicate with the same
document would be refused at registration), often without the mother's document or household, maybe
in another municipality, and with one to three of the mistakes seen in real registries — surnames
swapped, the maternal surname missing, accents dropped, a letter changed by ear (b/v, s/z, ll/y, h),
a typing slip, the second given name left out, a particle dropped ("de la Fuente" → "Fuente"), day and
month swapped, a digit of the date wrong, a day off.

Deterministic for a seed. SYNTHETIC: the people are invented (see generator.py).
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_BY_EAR = (
    ("b", "v"),
    ("v", "b"),
    ("s", "z"),
    ("z", "s"),
    ("ll", "y"),
    ("y", "ll"),
    ("ce", "se"),
    ("ci", "si"),
    ("qu", "k"),
)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _by_ear(rng: random.Random, text: str) -> str | None:
    lower = text.lower()
    options = [(a, b) for a, b in _BY_EAR if a in lower]
    if text[:1].lower() in "aeiou" and rng.random() < 0.3:
        return "H" + text[0].lower() + text[1:]
    if lower.startswith("h") and len(text) > 2:
        return text[1].upper() + text[2:]
    if not options:
        return None
    a, b = rng.choice(options)
    i = lower.index(a)
    changed = text[:i] + b + text[i + len(a) :]
    return changed[:1].upper() + changed[1:]


def _slip(rng: random.Random, text: str) -> str | None:
    """A typing slip inside a word: two letters swapped, one dropped or doubled."""
    if len(text) < 4:
        return None
    i = rng.randrange(1, len(text) - 2)
    kind = rng.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def _valid(day: int, month: int, year: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


@dataclass(frozen=True)
class Corrupted:
    rows: list[dict[str, str]]
    truth: list[tuple[str, str]]  # (original external id, duplicate external id)
    kinds: dict[str, list[str]]  # duplicate external id -> the mistakes made


NAME_MISTAKES = ("swap_surnames", "drop_maternal", "accents", "by_ear", "slip", "drop_second_given", "drop_particle")
DATE_MISTAKES = ("day_month", "date_digit", "day_off")


def corrupt(
    rows: Sequence[dict[str, str]],
    share: float,
    seed: int,
    territories: Sequence[str],
    as_of: dt.date,
) -> Corrupted:
    """Duplicates of ``share`` of ``rows`` (children.csv rows of the generator)."""
    rng = random.Random(seed)
    born = [r for r in rows if r.get("birth_date")]
    chosen = rng.sample(born, round(len(born) * share))
    out, truth, kinds = [], [], {}
    for n, original in enumerate(chosen, 1):
        row = dict(original)
        row["external_id"] = f"{original['external_id']}-DUP{n}"
        row["national_id"] = ""
        if rng.random() < 0.4:
            row["mother_national_id"] = ""
        if rng.random() < 0.5:
            row["household_code"] = ""
        if rng.random() < 0.15:
            row["territory_code"] = rng.choice(territories)
            row["facility_code"] = ""
        made: list[str] = []
        wanted = rng.choice((1, 1, 2, 2, 3))
        mistakes = list(NAME_MISTAKES) + ["date"] * 3
        rng.shuffle(mistakes)
        for mistake in mistakes:
            if len(made) >= wanted:
                break
            if mistake == "date":
                mistake = rng.choice(DATE_MISTAKES)
                if any(m in DATE_MISTAKES for m in made):
                    continue
            if _apply(rng, row, mistake, as_of):
                made.append(mistake)
        if not made:
            continue
        out.append(row)
        truth.append((original["external_id"], row["external_id"]))
        kinds[row["external_id"]] = made
    return Corrupted(out, truth, kinds)


def _apply(rng: random.Random, row: dict[str, str], mistake: str, as_of: dt.date) -> bool:
    if mistake == "swap_surnames":
        if not row["maternal_surname"]:
            return False
        row["paternal_surname"], row["maternal_surname"] = row["maternal_surname"], row["paternal_surname"]
        return True
    if mistake == "drop_maternal":
        if not row["maternal_surname"]:
            return False
        row["maternal_surname"] = ""
        return True
    if mistake == "accents":
        for field in ("given_names", "paternal_surname", "maternal_surname"):
            row[field] = _strip_accents(row[field]).upper() if rng.random() < 0.3 else _strip_accents(row[field])
        return True
    if mistake in ("by_ear", "slip"):
        field = rng.choice(("given_names", "paternal_surname", "maternal_surname"))
        words = row[field].split()
        if not words:
            return False
        i = rng.randrange(len(words))
        changed = (_by_ear if mistake == "by_ear" else _slip)(rng, words[i])
        if not changed or changed == words[i]:
            return False
        words[i] = changed
        row[field] = " ".join(words)
        return True
    if mistake == "drop_second_given":
        words = row["given_names"].split()
        if len(words) < 2:
            return False
        row["given_names"] = words[0]
        return True
    if mistake == "drop_particle":
        for field in ("paternal_surname", "maternal_surname"):
            words = row[field].split()
            if len(words) > 1 and words[0].lower() in ("de", "del"):
                row[field] = " ".join(w for w in words if w.lower() not in ("de", "del", "la", "los", "las"))
                return True
        return False
    day = dt.date.fromisoformat(row["birth_date"])
    new: dt.date | None = None
    if mistake == "day_month":
        if day.day > 12 or day.day == day.month:
            return False
        new = _valid(day.month, day.day, day.year)
    elif mistake == "date_digit":
        text = day.strftime("%Y%m%d")
        i = rng.choice((3, 5, 6, 7))  # the year's last digit, the month's second, the day's
        for _ in range(10):
            digit = str(rng.randrange(10))
            if digit == text[i]:
                continue
            t = text[:i] + digit + text[i + 1 :]
            new = _valid(int(t[6:]), int(t[4:6]), int(t[:4]))
            if new:
                break
    else:
        new = day + dt.timedelta(days=rng.choice((-1, 1)))
    if new is None or new > as_of or new == day:
        return False
    row["birth_date"] = new.isoformat()
    return True
