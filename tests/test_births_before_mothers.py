"""A hospital's birth file loaded before the mothers: the children are stored, each mother's document is
kept as a pending link, made (and audited) as soon as a caregiver with that document is registered by
any path, and the data-quality panel counts the children still waiting, per territory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.imports.framework import run_import
from crecer.lib import periods
from crecer.monitoring import engine, quality
from crecer.registry import actions
from crecer.registry.models import CaregiverLink, Child, PendingMother
from crecer.territories.models import Territory
from tests.conftest import SYSTEM

BIRTHS = [
    # external id, document of the mother, territory
    ("N1", "15.432.876-9", "CL01001"),
    ("N2", "9.876.543-3", "CL01001"),
    ("N3", "10000013-K", "CL01002"),
]
HEADER = (
    "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
    "territory_code"
)


def _file(tmp_path: Path, name: str, header: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def births(country: Any, tmp_path: Path) -> dict[str, Child]:
    rows = [f"{key},Bebé,Soto,,F,2025-10-01,,{doc},{territory}" for key, doc, territory in BIRTHS]
    result = run_import("children", _file(tmp_path, "births.csv", HEADER, rows), SYSTEM)
    assert (result.created, result.rejected) == (3, [])
    return {c.external_id: c for c in Child.unscoped.all()}  # type: ignore[misc]


def _mother(doc: str, **extra: Any) -> dict[str, Any]:
    return {
        "given_names": "Camila",
        "paternal_surname": "Soto",
        "sex": "F",
        "birth_date": "1995-06-01",
        "national_id": doc,
        "territory_code": "CL01001",
        **extra,
    }


def _mother_of(child: Child) -> int | None:
    return (
        CaregiverLink.unscoped.filter(child=child, relationship="mother").values_list("caregiver_id", flat=True).first()
    )


def test_children_of_unregistered_mothers_are_stored_with_a_pending_link(births):
    assert all(_mother_of(c) is None for c in births.values())
    pending = set(PendingMother.unscoped.filter(linked_at__isnull=True).values_list("child__external_id", "document"))
    assert {(key, doc) for key, doc, _t in BIRTHS} <= pending


def test_the_link_is_made_when_the_mother_is_registered_on_a_page(births, cast):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    mother = actions.create_caregiver(nurse, _mother("15432876-9"))  # typed without dots
    assert _mother_of(births["N1"]) == mother.pk
    link = CaregiverLink.unscoped.get(child=births["N1"])
    event = AuditEvent.objects.get(entity="registry.caregiverlink", entity_id=link.pk, action=Action.CREATE)
    assert (event.actor_username, event.child_id) == ("enfermera_alta", births["N1"].pk)
    assert not PendingMother.unscoped.filter(child=births["N1"], linked_at__isnull=True).exists()
    assert _mother_of(births["N2"]) is None  # the other children keep waiting for theirs


def test_the_link_is_made_when_the_mothers_are_imported(births, tmp_path):
    header = "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,territory_code"
    rows = [
        "M1,Camila,Soto,,F,1995-06-01,15.432.876-9,CL01001",
        "M2,Rosa,Vera,,F,1990-01-01,9.876.543-3,CL01001",
    ]
    result = run_import("caregivers", _file(tmp_path, "mothers.csv", header, rows), SYSTEM)
    assert result.created == 2
    assert _mother_of(births["N1"]) is not None and _mother_of(births["N2"]) is not None
    assert _mother_of(births["N3"]) is None


def test_a_caregiver_who_cannot_be_the_mother_leaves_the_child_waiting(births):
    actions.create_caregiver(SYSTEM, _mother("9.876.543-3", sex="M", given_names="Jorge"))
    assert _mother_of(births["N2"]) is None
    assert PendingMother.unscoped.filter(child=births["N2"], linked_at__isnull=True).exists()


def test_a_child_who_got_a_mother_otherwise_stops_waiting(births):
    other = actions.create_caregiver(SYSTEM, _mother("", given_names="Rosa"))
    actions.link_caregiver(SYSTEM, births["N2"], other, "mother", reason=None)
    actions.create_caregiver(SYSTEM, _mother("9.876.543-3"))
    assert _mother_of(births["N2"]) == other.pk
    assert not PendingMother.unscoped.filter(child=births["N2"], linked_at__isnull=True).exists()


def test_the_data_quality_panel_counts_the_children_waiting_per_territory(births, cast):
    actions.create_caregiver(SYSTEM, _mother("15.432.876-9"))
    check = quality.get("dq_mother_pending")
    figures = {
        Territory.objects.get(pk=f.territory_id).code: (f.numerator, f.denominator)
        for f in engine.compute(check, periods.parse("2025"))
        if not f.group
    }
    assert figures["CL01001"] == (1, 2)
    assert figures["CL01002"] == (1, 1)
    assert figures["CL"] == (2, 3)
    client = Client()
    client.force_login(cast["coordinator_alta"])
    page = client.get("/monitoring/dq_mother_pending/subjects/?territory=CL01001&period=2025&side=numerator")
    assert page.status_code == 200 and births["N2"].registry_number in page.content.decode()


def test_a_child_given_another_document_waits_for_that_one_only(births):
    actions.update_child(SYSTEM, births["N2"], {"mother_national_id": "16.543.212-6"}, reason=None)
    waiting = set(
        PendingMother.unscoped.filter(child=births["N2"], linked_at__isnull=True).values_list("document", flat=True)
    )
    assert waiting == {"16.543.212-6"}
    actions.create_caregiver(SYSTEM, _mother("9.876.543-3"))  # the old document: no longer awaited
    assert _mother_of(births["N2"]) is None
    mother = actions.create_caregiver(SYSTEM, _mother("16.543.212-6", given_names="Rosa"))
    assert _mother_of(births["N2"]) == mother.pk


def test_a_mother_linked_otherwise_ends_the_wait_for_the_panel(births):
    other = actions.create_caregiver(SYSTEM, _mother("", given_names="Rosa"))
    actions.link_caregiver(SYSTEM, births["N3"], other, "mother", reason=None)
    assert not PendingMother.unscoped.filter(child=births["N3"], linked_at__isnull=True).exists()
