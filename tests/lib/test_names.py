from __future__ import annotations

import pytest

from crecer.lib import names


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Núñez", "nunez"),
        ("NÚÑEZ", "nunez"),
        ("María José", "maria jose"),
        ("  de la   Fuente ", "de la fuente"),
        ("O'Higgins", "ohiggins"),
        ("Güemes-Sáez", "guemes saez"),
        ("", ""),
        (None, ""),
    ],
)
def test_fold(typed, folded):
    assert names.fold(typed) == folded


def test_display_keeps_accents_and_order():
    assert names.full_name(" María  José ", "Núñez", "") == "María José Núñez"
    assert names.search_key("María José", "Núñez", "de la Peña") == "maria jose nunez de la pena"
