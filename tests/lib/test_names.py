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


@pytest.mark.parametrize(
    "parts",
    [
        ("María José", "Núñez", "de la Peña"),
        ("  Ana  ", "O'Higgins", ""),
        ("Zoë", "Güemes-Sáez", "  "),
        ("", "Pérez", "López"),
        ("JOSÉ\u0301", "d’Arc", "Ñandú"),
        ("Ｆｕｌｌ", "ﬁlo", "Müller"),
    ],
)
def test_search_key_folds_the_full_name(parts):
    # search_key folds part by part (cached); it must equal folding the displayed full name
    assert names.search_key(*parts) == names.fold(names.full_name(*parts))
