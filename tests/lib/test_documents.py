"""Identity document validators: Chile RUN (mod 11, K), Peru DNI (8 digits), El Salvador DUI (8 + check)."""

from __future__ import annotations

import pytest

from crecer.lib import documents
from crecer.lib.documents import InvalidDocument


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("12.345.678-5", "12345678-5"),
        ("12345678-5", "12345678-5"),
        ("123456785", "12345678-5"),
        (" 6.666.666-2 ", "6666666-2"),
        ("10.000.013-K", "10000013-K"),
        ("10000013-k", "10000013-K"),
        ("11.111.111-1", "11111111-1"),
        ("24.965.885-5", "24965885-5"),
    ],
)
def test_run_valid(typed, canonical):
    assert documents.validate("CL-RUN", typed) == canonical


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("12.345.678-9", documents.CHECK_DIGIT),
        ("10.000.013-1", documents.CHECK_DIGIT),
        ("12.345.678-X", documents.FORMAT),
        ("123", documents.CHECK_DIGIT),
        ("", documents.EMPTY),
        ("abc", documents.FORMAT),
        ("123456789012", documents.FORMAT),
    ],
)
def test_run_invalid(typed, code):
    with pytest.raises(InvalidDocument) as exc:
        documents.validate("CL-RUN", typed)
    assert exc.value.code == code


@pytest.mark.parametrize(
    ("body", "dv"), [(12345678, "5"), (10000013, "K"), (24965885, "5"), (6666666, "2"), (11111111, "1")]
)
def test_run_check_digit(body, dv):
    assert documents.run_check_digit(body) == dv


@pytest.mark.parametrize(
    ("typed", "ok"),
    [("45678912", True), ("04567891", True), ("4567891", False), ("456789123", False), ("4567891A", False)],
)
def test_dni(typed, ok):
    if ok:
        assert documents.validate("PE-DNI", typed) == typed
    else:
        with pytest.raises(InvalidDocument):
            documents.validate("PE-DNI", typed)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [("12345678-4", "12345678-4"), ("123456784", "12345678-4"), ("00016297-5", "00016297-5")],
)
def test_dui_valid(typed, canonical):
    assert documents.validate("SV-DUI", typed) == canonical


@pytest.mark.parametrize(("typed", "code"), [("12345678-3", documents.CHECK_DIGIT), ("1234567-4", documents.FORMAT)])
def test_dui_invalid(typed, code):
    with pytest.raises(InvalidDocument) as exc:
        documents.validate("SV-DUI", typed)
    assert exc.value.code == code


def test_dui_check_digit_weights():
    # 0*9+0*8+0*7+1*6+6*5+2*4+9*3+7*2 = 85 -> (10 - 5) % 10 = 5
    assert documents.dui_check_digit("00016297") == "5"


def test_unknown_type():
    with pytest.raises(InvalidDocument) as exc:
        documents.validate("XX-NONE", "1")
    assert exc.value.code == documents.UNKNOWN_TYPE


def _even_only(number: str) -> str:
    if not number.isdigit() or int(number) % 2:
        raise InvalidDocument(documents.FORMAT)
    return number


def test_validators_are_pluggable():
    documents.register(documents.DocumentType("TEST-EVEN", "Even", _even_only, "2"))
    try:
        with pytest.raises(InvalidDocument):
            documents.validate("TEST-EVEN", "3")
        assert documents.validate("TEST-EVEN", "4") == "4"
        assert "TEST-EVEN" in documents.known_types()
    finally:
        documents._REGISTRY.pop("TEST-EVEN")
