"""`crecer dedup` on a registry without duplicates (or with too few records to learn from) succeeds:
no pair is proposed, the run is recorded, the file has its header only."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from crecer.audit.models import Action, AuditEvent
from crecer.dedup.models import DedupRun, DuplicatePair


@pytest.mark.parametrize("how_many", [0, 1, 4])
def test_dedup_on_a_registry_without_duplicates(country, make_child, tmp_path, how_many):
    people = [
        ("Agustín", "González", "M", "2023-05-01", "CL01001"),
        ("Isidora", "Rojas", "F", "2022-11-30", "CL01002"),
        ("Tomás", "Fuentes", "M", "2021-02-14", "CL02001"),
        ("Martina", "Araya", "F", "2024-07-09", "CL01001"),
    ][:how_many]
    for given, surname, sex, born, territory in people:
        make_child(given_names=given, paternal_surname=surname, sex=sex, birth_date=born, territory_code=territory)
    out = tmp_path / "pairs.csv"
    call_command("dedup", "--out", str(out), "--threads", "2", "--quiet", stdout=io.StringIO())
    assert list(csv.reader(out.open(encoding="utf-8"))) == [["external_id_a", "external_id_b", "score", "decision"]]
    assert not DuplicatePair.objects.exists()
    run = DedupRun.objects.get()
    assert run.matches == run.reviews == 0
    assert AuditEvent.objects.filter(entity="dedup.deduprun", action=Action.CREATE).count() == 1
