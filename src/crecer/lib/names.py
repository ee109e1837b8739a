"""Spanish personal names: display and search forms.

Names are stored as typed (accents kept: "María José Núñez Pérez"). For search they are folded:
lower case, accents and diacritics removed (ñ -> n, ü -> u), punctuation dropped and spaces
collapsed, so that "nunez", "NÚÑEZ" and "Núñez" all find the same person on SQLite and PostgreSQL
alike without database-specific collations.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[^a-z0-9 ]+")

#: Characters a name never has and that only hide or disguise text: control characters (NUL included;
#: tab and line breaks too, a name is one line), bidirectional embeddings, overrides and isolates
#: (they turn "Ana" into "anA" on screen), zero-width characters and lone surrogates (they cannot even
#: be written as UTF-8).
_HIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f"
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks, embeddings, overrides, isolates
    "\u200b-\u200d\u2060\ufeff\u180e"  # zero-width space, non-joiner, joiner, word joiner, BOM
    "\ud800-\udfff]"
)


def has_hidden_characters(text: str | None) -> bool:
    """Whether ``text`` holds a control, bidirectional, zero-width or surrogate character (see ``_HIDDEN``)."""
    return bool(text and _HIDDEN.search(text))


@lru_cache(maxsize=1 << 17)
def fold(text: str | None) -> str:
    """Search form of a name or query: accent- and case-insensitive, single-spaced."""
    if not text:
        return ""
    if text.isascii():
        stripped = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    stripped = _NON_WORD.sub(" ", stripped.replace("'", "").replace("’", ""))
    return " ".join(stripped.split())


def tidy(text: str | None) -> str:
    """Display form: as typed, trimmed and single-spaced (accents kept)."""
    if not text:
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


#: :func:`tidy` with a cache, for names (they repeat); cells that seldom repeat (codes, document
#: numbers) are better tidied without it.
clean = lru_cache(maxsize=1 << 17)(tidy)


def full_name(given_names: str, paternal_surname: str, maternal_surname: str = "") -> str:
    """'Given Paternal Maternal', skipping an empty maternal surname."""
    return " ".join(p for p in (clean(given_names), clean(paternal_surname), clean(maternal_surname)) if p)


def search_key(given_names: str, paternal_surname: str, maternal_surname: str = "") -> str:
    """The folded full name stored beside a person for search.

    Folding works word by word, so each part is folded on its own (names repeat, and the cache
    answers most of them) and the parts joined: the same as folding the full name."""
    return " ".join(f for f in (fold(given_names), fold(paternal_surname), fold(maternal_surname)) if f)
