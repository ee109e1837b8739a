"""Linkage keys and comparison levels on the hard cases of Spanish-speaking registries."""

from __future__ import annotations

import datetime as dt

from crecer.lib import linkage

BASE = {
    "given_names": "María José",
    "paternal_surname": "de la Fuente",
    "maternal_surname": "Núñez",
    "birth_date": "2024-03-07",
    "sex": "F",
    "mother_document": "15432876-9",
    "territory": "CL01001",
}


def k(**changes):
    return linkage.keys({**BASE, **changes})


def test_words_drop_particles_and_accents():
    assert linkage.words("María de los Ángeles") == ("maria", "angeles")
    assert k().paternal == "fuente" and k(paternal_surname="Fuente").paternal == "fuente"


def test_spanish_sound_keys():
    assert linkage.phonetic("yesenia") == linkage.phonetic("llesenia")
    assert linkage.phonetic("viviana") == linkage.phonetic("bibiana")
    assert linkage.phonetic("gonzalez") == linkage.phonetic("gonsales")
    assert linkage.phonetic("helena") == linkage.phonetic("elena")
    assert linkage.phonetic("quintana") == linkage.phonetic("kintana")
    assert linkage.phonetic("soto") != linkage.phonetic("sosa")


def test_surname_levels():
    assert linkage.surname_level(k(), k(paternal_surname="Núñez", maternal_surname="de la Fuente")) == "swapped"
    assert linkage.surname_level(k(), k(maternal_surname="")) == "one_missing"
    assert linkage.surname_level(k(), k(paternal_surname="NUNEZ", maternal_surname="")) == "one_missing"
    assert linkage.surname_level(k(), k(paternal_surname="De La Fuente", maternal_surname="NUNEZ")) == "exact"
    assert linkage.surname_level(k(), k(maternal_surname="Nunes")) == "sounds_alike"
    assert linkage.surname_level(k(), k(paternal_surname="Soto", maternal_surname="Pérez")) == "different"


def test_given_name_levels():
    assert linkage.given_level(k(), k(given_names="MARIA JOSE")) == "exact"
    assert linkage.given_level(k(), k(given_names="María")) == "first_name"
    assert linkage.given_level(k(given_names="Yesenia"), k(given_names="Llesenia")) == "sounds_alike"
    assert linkage.given_level(k(), k(given_names="Camila")) == "different"


def test_birth_date_levels():
    assert linkage.birth_date_level(k(), k(birth_date="2024-07-03")) == "day_month_swapped"
    assert linkage.birth_date_level(k(), k(birth_date="2024-03-08")) == "one_typo"
    assert linkage.birth_date_level(k(), k(birth_date="2024-03-27")) == "one_typo"
    assert linkage.birth_date_level(k(), k(birth_date="2024-03-30")) == "near"
    assert linkage.birth_date_level(k(), k(birth_date="2021-09-01")) == "different"
    assert dt.date(2024, 7, 3) in linkage.date_variants(dt.date(2024, 3, 7))
    assert dt.date(2023, 3, 7) in linkage.date_variants(dt.date(2024, 3, 7))


def test_duplicates_score_high_and_twins_never():
    for variant in (
        k(paternal_surname="Núñez", maternal_surname="de la Fuente"),  # swapped surnames
        k(maternal_surname=""),  # missing maternal surname
        k(given_names="MARIA JOSE", paternal_surname="DE LA FUENTE", maternal_surname="NUNEZ"),  # accents
        k(birth_date="2024-07-03"),  # day/month swapped
        k(paternal_surname="Fuente", territory="CL01002", mother_document=""),  # particle, moved, no mother
    ):
        assert linkage.score(k(), variant).probability > 0.9, variant
    twin = k(given_names="Martina Paz")
    assert linkage.twins(k(), twin) and linkage.score(k(), twin).probability < 0.01
    brother = k(given_names="Mateo José", sex="M")
    assert linkage.twins(k(), brother) and linkage.score(k(), brother).probability < 0.01
    stranger = linkage.keys(
        {
            "given_names": "Camila",
            "paternal_surname": "Rojas",
            "maternal_surname": "Soto",
            "birth_date": "2024-03-07",
            "sex": "F",
        }
    )
    assert linkage.score(k(), stranger).probability < 0.01
