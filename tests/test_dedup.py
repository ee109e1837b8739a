"""Deduplication in the application: likely existing records shown before registering (page and API),
``crecer dedup`` filling the review queue and writing pairs.csv, the queue and merges in the web and API,
always within the user's scope."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from crecer.access.actions import create_user
from crecer.access.models import Role
from crecer.audit.models import Action, AuditEvent
from crecer.dedup import candidates
from crecer.dedup.models import DuplicatePair, MergeRecord, PairStatus
from crecer.registry import actions as registry_actions
from crecer.registry.models import Child
from crecer.territories.models import Facility
from tests.conftest import PASSWORD, SYSTEM, generated_country, shared_data


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def sofia(make_mother, today):
    mother = make_mother()
    return registry_actions.create_child(
        SYSTEM,
        {
            "given_names": "Sofía Antonia",
            "paternal_surname": "Muñoz",
            "maternal_surname": "Pérez",
            "sex": "F",
            "birth_date": "2024-03-10",
            "territory_code": "CL01001",
            "facility_code": "F-ALTA",
            "mother_national_id": mother.national_id,
        },
    )


NEW = {
    "given_names": "SOFIA",
    "paternal_surname": "Perez",
    "maternal_surname": "Muñoz",
    "sex": "F",
    "birth_date": "2024-10-03",
    "territory_code": "CL01001",
}


def test_registration_candidates_rank_the_existing_record(cast, sofia):
    found = candidates.find(cast["nurse_alta"], NEW)  # swapped surnames, no accents, day and month swapped
    assert found and found[0].child == sofia and found[0].probability > 0.5
    assert candidates.find(cast["nurse_baja"], NEW) == []  # out of scope: never shown
    assert (
        candidates.find(cast["nurse_alta"], {**NEW, "given_names": "Camila Andrea", "birth_date": "2023-01-20"}) == []
    )


def test_registration_page_shows_candidates_before_saving(cast, sofia):
    client = _client(cast["nurse_alta"])
    assert client.get("/children/new/").status_code == 200
    page = client.post("/children/new/", NEW)
    assert page.status_code == 200 and page.context["candidates"][0].child == sofia
    assert Child.unscoped.count() == 1  # nothing saved yet
    saved = client.post("/children/new/", {**NEW, "confirm_new": "1"})
    assert saved.status_code == 302 and Child.unscoped.count() == 2
    bad = client.post("/children/new/", {**NEW, "given_names": "Ana", "birth_date": "2099-01-01", "confirm_new": "1"})
    assert bad.status_code == 400 and "birth_date" in bad.context["errors"] and Child.unscoped.count() == 2
    assert _client(cast["inspector"]).get("/children/new/").status_code == 404


def test_matches_api(cast, sofia, api_client):
    api = api_client(cast["nurse_alta"])
    body = api.post("/api/v1/matches", NEW, content_type="application/json").json()
    assert body["results"][0]["id"] == sofia.pk and body["results"][0]["levels"]["surnames"] == "swapped"
    assert Child.unscoped.count() == 1


@shared_data
def country_with_duplicates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A synthetic country of 600 children, plus two hard duplicates and a twin, loaded as a health
    system would hold them; and a coordinator and a nurse of one municipality (loaded once for the tests
    that use them, each test's writes rolled back: tests/conftest.py)."""
    out = generated_country(
        tmp_path_factory, "--children", "600", "--seed", "8", "--as-of", "2026-06-30", "--no-trajectories"
    )
    call_command("load", str(out), "--quiet", stdout=io.StringIO())
    rows = list(csv.DictReader((out / "children.csv").open(encoding="utf-8")))
    original = next(
        r
        for r in rows
        if r["maternal_surname"] and r["mother_national_id"] and r["birth_date"] and int(r["birth_date"][8:]) <= 12
    )
    twin_of = next(
        r
        for r in rows
        if r["mother_national_id"]
        and r["birth_date"]
        and r is not original
        and r["territory_code"] == original["territory_code"]
    )
    extra = [
        dict(
            original,
            external_id="DUP-SWAP",
            national_id="",
            paternal_surname=original["maternal_surname"],
            maternal_surname=original["paternal_surname"],
        ),
        dict(
            original,
            external_id="DUP-DATE",
            national_id="",
            maternal_surname="",
            birth_date=f"{original['birth_date'][:4]}-{original['birth_date'][8:]}-{original['birth_date'][5:7]}",
        ),
        dict(
            twin_of,
            external_id="TWIN",
            national_id="",
            given_names="Renata Josefina" if twin_of["sex"] == "F" else "Renato José",
        ),
    ]
    path = tmp_path_factory.mktemp("duplicates") / "more.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(extra)
    call_command("import", "children", str(path), "--quiet", stdout=io.StringIO())
    territory = original["territory_code"]
    return {
        "original": original["external_id"],
        "twin_of": twin_of["external_id"],
        "territory": territory,
        "coordinator": create_user(SYSTEM, "coord", Role.MUNICIPAL_COORDINATOR, territory, PASSWORD),
        "nurse": create_user(
            SYSTEM,
            "enf",
            Role.HEALTH_WORKER,
            territory,
            PASSWORD,
            facility_code=Facility.objects.filter(territory__code=territory).first().code,
        ),
        "national": create_user(SYSTEM, "nac", Role.NATIONAL_MANAGER, "CL", PASSWORD),
    }


def _pair_of(a: str, b: str) -> DuplicatePair | None:
    ids = sorted(Child.unscoped.filter(external_id__in=(a, b)).values_list("pk", flat=True))
    return DuplicatePair.objects.filter(child_a_id=ids[0], child_b_id=ids[1]).first()


def test_dedup_command_queue_merge_and_undo(country_with_duplicates, tmp_path):
    world = country_with_duplicates
    out = tmp_path / "pairs.csv"
    text = io.StringIO()
    call_command("dedup", "--out", str(out), "--threads", "2", "--as-user", "nac", stdout=text)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["external_id_a", "external_id_b", "score", "decision"]
    assert {r["decision"] for r in rows} <= {"match", "review"}
    pairs = {frozenset((r["external_id_a"], r["external_id_b"])): r["decision"] for r in rows}
    assert pairs[frozenset((world["original"], "DUP-SWAP"))] == "match"
    assert pairs[frozenset((world["original"], "DUP-DATE"))] == "match"
    assert frozenset((world["twin_of"], "TWIN")) not in pairs
    # One event for the run, by the user it ran as, counting the pairs it proposed.
    (event,) = AuditEvent.objects.filter(entity="dedup.deduprun", action=Action.CREATE)
    assert event.actor_username == "nac"
    assert (event.after["matches"], event.after["reviews"]) == (
        sum(d == "match" for d in pairs.values()),
        sum(d == "review" for d in pairs.values()),
    )

    # The queue: a coordinator sees the pairs of her municipality, a nurse nothing.
    coordinator = _client(world["coordinator"])
    queue = coordinator.get("/duplicates/")
    assert queue.status_code == 200
    listed = {p.pk for p in queue.context["page"].object_list}
    pair = _pair_of(world["original"], "DUP-SWAP")
    assert pair is not None and pair.pk in listed
    assert _client(world["nurse"]).get("/duplicates/").status_code == 404
    assert _client(world["nurse"]).get(f"/duplicates/{pair.pk}/").status_code == 404

    # Merge from the pair page, then undo from the merge page.
    keep = "keep_a" if Child.unscoped.get(pk=pair.child_a_id).external_id == world["original"] else "keep_b"
    assert coordinator.post(f"/duplicates/{pair.pk}/", {"action": keep, "reason": ""}).status_code == 400
    merged = coordinator.post(f"/duplicates/{pair.pk}/", {"action": keep, "reason": "misma niña, apellidos invertidos"})
    assert merged.status_code == 302
    merge = MergeRecord.objects.get()
    assert DuplicatePair.objects.get(pk=pair.pk).status == PairStatus.MERGED
    assert Child.unscoped.get(external_id="DUP-SWAP").voided_at is not None
    assert coordinator.get(f"/merges/{merge.pk}/").status_code == 200
    assert coordinator.post(f"/merges/{merge.pk}/", {"reason": "me equivoqué"}).status_code == 302
    assert Child.unscoped.get(external_id="DUP-SWAP").voided_at is None
    assert DuplicatePair.objects.get(pk=pair.pk).status == PairStatus.OPEN

    # Not the same child: not proposed again by the next run.
    other = _pair_of(world["original"], "DUP-DATE")
    assert coordinator.post(f"/duplicates/{other.pk}/", {"action": "distinct", "reason": "hermanos"}).status_code == 302
    call_command("dedup", "--threads", "2", "--quiet", stdout=io.StringIO())
    assert DuplicatePair.objects.get(pk=other.pk).status == PairStatus.DISTINCT
    assert DuplicatePair.objects.filter(child_a=other.child_a, child_b=other.child_b).count() == 1


def test_dedup_api(country_with_duplicates, api_client):
    world = country_with_duplicates
    call_command("dedup", "--threads", "2", "--quiet", stdout=io.StringIO())
    api = api_client(world["coordinator"])
    listed = api.get("/api/v1/duplicates").json()
    pair = _pair_of(world["original"], "DUP-SWAP")
    assert pair.pk in {p["id"] for p in listed["results"]}
    assert (
        api.post(
            f"/api/v1/duplicates/{pair.pk}/merge", {"keep": "c", "reason": "x"}, content_type="application/json"
        ).status_code
        == 422
    )
    merged = api.post(
        f"/api/v1/duplicates/{pair.pk}/merge", {"keep": "a", "reason": "misma"}, content_type="application/json"
    )
    assert merged.status_code == 200 and merged.json()["moved"] is not None
    undone = api.post(
        f"/api/v1/merges/{merged.json()['id']}/undo", {"reason": "error"}, content_type="application/json"
    )
    assert undone.status_code == 200 and undone.json()["undone_at"]
    assert api_client(world["nurse"]).get("/api/v1/duplicates").status_code == 404
