"""National identity documents: normalisation and validation per document type.

Each document type has a validator that turns what a person typed ("12.345.678-5", " 12345678 ")
into the canonical stored form ("12345678-5") or raises :class:`InvalidDocument` with a reason code.
Validators are pluggable: :func:`register` adds a type (a country profile names the types it uses
and which one is the default), and :func:`validate` dispatches on the type code.

The reason codes are stable identifiers; user-facing messages are translated by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache


class InvalidDocument(ValueError):
    """A document number that does not pass its type's rules."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


#: reason codes
EMPTY = "empty"
FORMAT = "format"
CHECK_DIGIT = "check_digit"
UNKNOWN_TYPE = "unknown_type"


@dataclass(frozen=True)
class DocumentType:
    code: str
    label: str
    normalise: Callable[[str], str]
    example: str


_REGISTRY: dict[str, DocumentType] = {}


def register(doc_type: DocumentType) -> DocumentType:
    """Register (or replace) a document type so that :func:`validate` knows it."""
    _REGISTRY[doc_type.code] = doc_type
    _canonical.cache_clear()
    return doc_type


def get(code: str) -> DocumentType:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise InvalidDocument(UNKNOWN_TYPE, f"unknown document type {code!r}") from None


def known_types() -> list[str]:
    return sorted(_REGISTRY)


def validate(doc_type: str, number: str) -> str:
    """Return the canonical form of ``number`` for ``doc_type`` or raise InvalidDocument."""
    return _canonical(doc_type, number)


@lru_cache(maxsize=65536)
def _canonical(doc_type: str, number: str) -> str:
    """Cached: an import reads each document twice (to look up its owner, then to validate the row)."""
    return get(doc_type).normalise(number)


_SEPARATORS = re.compile(r"[\s.\-]")
_RUN = re.compile(r"\d{1,8}[\dK]")
_DNI = re.compile(r"\d{8}")
_DUI = re.compile(r"\d{9}")
_PASSPORT = re.compile(r"[A-Z0-9]{5,20}")
_BIRTH_REGISTRATION = re.compile(r"[A-Z0-9]{6,20}")


def _strip(number: str) -> str:
    cleaned = _SEPARATORS.sub("", number or "").upper()
    if not cleaned:
        raise InvalidDocument(EMPTY)
    return cleaned


# --- Chile: RUN/RUT, modulus 11 with weights 2..7 from the right; 10 -> K, 11 -> 0 -------------


def run_check_digit(body: int | str) -> str:
    """Check digit of a Chilean RUN/RUT body (the digits before the hyphen)."""
    total, weight = 0, 2
    for ch in reversed(str(body)):
        total += (ord(ch) - 48) * weight
        weight = 2 if weight == 7 else weight + 1
    rest = 11 - total % 11
    return {11: "0", 10: "K"}.get(rest, str(rest))


def normalise_run(number: str) -> str:
    cleaned = _strip(number)
    if not _RUN.fullmatch(cleaned):
        raise InvalidDocument(FORMAT, "a RUN is up to 8 digits, a hyphen and a check digit (0-9 or K)")
    body, dv = cleaned[:-1].lstrip("0"), cleaned[-1]
    if not body or run_check_digit(body) != dv:
        raise InvalidDocument(CHECK_DIGIT)
    return f"{body}-{dv}"


# --- Peru: DNI, 8 digits --------------------------------------------------------------------


def normalise_dni(number: str) -> str:
    cleaned = _strip(number)
    if not _DNI.fullmatch(cleaned):
        raise InvalidDocument(FORMAT, "a DNI has exactly 8 digits")
    return cleaned


# --- El Salvador: DUI, 8 digits + 1 check digit, weights 9..2, check = (10 - sum mod 10) mod 10 -


def dui_check_digit(body: int | str) -> str:
    """Check digit of a Salvadoran DUI body (8 digits)."""
    digits = f"{int(body):08d}"
    total = sum(int(d) * w for d, w in zip(digits, range(9, 1, -1), strict=True))
    return str((10 - total % 10) % 10)


def normalise_dui(number: str) -> str:
    cleaned = _strip(number)
    if not _DUI.fullmatch(cleaned):
        raise InvalidDocument(FORMAT, "a DUI has 8 digits, a hyphen and a check digit")
    if dui_check_digit(cleaned[:8]) != cleaned[8]:
        raise InvalidDocument(CHECK_DIGIT)
    return f"{cleaned[:8]}-{cleaned[8]}"


# --- Passport, birth registration and other documents: kept as typed, only shape-checked -------


def normalise_passport(number: str) -> str:
    cleaned = _strip(number)
    if not _PASSPORT.fullmatch(cleaned):
        raise InvalidDocument(FORMAT, "a passport number has 5 to 20 letters or digits")
    return cleaned


def normalise_birth_registration(number: str) -> str:
    cleaned = _strip(number)
    if not _BIRTH_REGISTRATION.fullmatch(cleaned):
        raise InvalidDocument(FORMAT, "a birth registration number has 6 to 20 letters or digits")
    return cleaned


CL_RUN = register(DocumentType("CL-RUN", "RUN", normalise_run, "12345678-5"))
PE_DNI = register(DocumentType("PE-DNI", "DNI", normalise_dni, "45678912"))
SV_DUI = register(DocumentType("SV-DUI", "DUI", normalise_dui, "12345678-4"))
# ASSUMPTION: where children carry no national identity number until adulthood (El Salvador's
# DUI is issued at 18), the civil registry's birth registration number identifies them.
BIRTH_REGISTRATION = register(
    DocumentType("BIRTH-REG", "Partida de nacimiento", normalise_birth_registration, "2024001234")
)
PASSPORT = register(DocumentType("PASSPORT", "Pasaporte", normalise_passport, "AB123456"))
