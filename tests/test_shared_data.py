"""The shared test data of tests/conftest.py: written once for the consecutive tests that use it, each
test's writes rolled back, and rolled back before any other test.

Run in this order in one process (as without xdist, and as xdist usually hands them out: consecutive
tests in one chunk), they check the sharing and its end; run alone or split, each still passes."""

from __future__ import annotations

import pytest

from crecer.places.actions import create_territory
from crecer.territories.models import Territory
from tests import conftest
from tests.conftest import SYSTEM, shared_data

BUILDS: list[str] = []


@shared_data
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    BUILDS.append("probe")
    create_territory(SYSTEM, "ZZ", "Sonda", "nation")
    return {"pk": Territory.objects.get(code="ZZ").pk}


def test_a_test_may_write_on_the_shared_rows(probe):
    Territory.objects.filter(pk=probe["pk"]).update(name="Cambiada")
    create_territory(SYSTEM, "ZZ01", "Región de la sonda", "region", "ZZ")
    assert dict(Territory.objects.values_list("code", "name")) == {"ZZ": "Cambiada", "ZZ01": "Región de la sonda"}


def test_the_next_one_sees_the_rows_as_built_once(probe):
    assert dict(Territory.objects.values_list("code", "name")) == {"ZZ": "Sonda"}
    assert BUILDS == ["probe"]


def test_a_test_that_did_not_ask_for_them_does_not_see_them(db):
    assert conftest._open is None
    assert not Territory.objects.exists()
