"""The pseudonymised analytics export: readable Parquet, no direct identifiers anywhere, keyed and
stable pseudonyms that join across tables, the key kept out of the export, audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import stat

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from crecer.access.models import DataCategory
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.interop import analytics
from crecer.lib.documents import run_check_digit
from crecer.referrals import actions as referral_actions
from crecer.registry import actions as registry_actions
from crecer.territories.models import Facility
from crecer.tracking import actions as tracking_actions
from tests.conftest import SYSTEM

KEY_A = "clave-de-prueba-a-" + "x" * 30
KEY_B = "clave-de-prueba-b-" + "y" * 30
MOTHER_RUN = f"15432876-{run_check_digit(15432876)}"
CHILD_RUN = f"24123456-{run_check_digit(24123456)}"


IDENTIFYING_COLUMNS = {
    "given_names",
    "paternal_surname",
    "maternal_surname",
    "search_name",
    "national_id",
    "registry_number",
    "external_id",
    "address",
    "phone",
    "code",
    "reason",
    "rejection_reason",
    "detail",
    "text",
    "note",
    "professional_name",
    "facilitator_name",
    "birth_date",
}


@pytest.fixture
def world(cast, network, children, today):
    """A family with a record of every kind the export covers, full of identifying details."""
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    household = registry_actions.create_household(
        SYSTEM,
        {
            "code": "HOGAR-SECRETO-77",
            "territory_code": "CL01001",
            "address": "Pasaje Los Aromos 1234",
            "vulnerability_percentile": 20,
        },
    )
    mother = registry_actions.create_caregiver(
        SYSTEM,
        {
            "given_names": "Ximena Dolores",
            "paternal_surname": "Quiroga",
            "maternal_surname": "Belmar",
            "sex": "F",
            "birth_date": "1994-04-17",
            "national_id": MOTHER_RUN,
            "territory_code": "CL01001",
            "household_code": "HOGAR-SECRETO-77",
            "phone": "+56 9 8765 4321",
            "external_id": "EXT-MADRE-991",
        },
    )
    born = today - dt.timedelta(days=200)
    pregnancy = registry_actions.create_pregnancy(
        SYSTEM,
        {
            "mother_national_id": MOTHER_RUN,
            "lmp_date": (born - dt.timedelta(days=275)).isoformat(),
            "first_visit_date": (born - dt.timedelta(days=220)).isoformat(),
        },
    )
    child = registry_actions.create_child(
        SYSTEM,
        {
            "given_names": "Florencia Isabel",
            "paternal_surname": "Quiroga",
            "maternal_surname": "Belmar",
            "sex": "F",
            "birth_date": born.isoformat(),
            "national_id": CHILD_RUN,
            "mother_national_id": MOTHER_RUN,
            "territory_code": "CL01001",
            "facility_code": "F-ALTA",
            "household_code": "HOGAR-SECRETO-77",
            "external_id": "EXT-NINA-552",
            "birth_weight_g": 3100,
        },
    )
    registry_actions.record_birth(SYSTEM, pregnancy, child)
    encounter = tracking_actions.record_encounter(
        nurse,
        {
            "date": (born + dt.timedelta(days=60)).isoformat(),
            "measurement": {"weight_kg": 5.1, "length_cm": 57.0},
            "screenings": [{"instrument": "epds", "inputs": {"items": [1, 1, 2, 1, 0, 1, 1, 1, 1, 0]}}],
        },
        child=child,
    )
    tracking_actions.record_delivery(
        nurse, "welcome_kit", born.isoformat(), child=child, detail="Entregado a la abuela Rosalinda Etcheverry"
    )
    registry_actions.add_case_note(nurse, child, DataCategory.SOCIAL, "Vive con el tío Anselmo Pizarro")
    referral = referral_actions.create_referral(
        nurse, child=child, service_code="stimulation_session", reason="Motivo reservado Zapallar", consent=[]
    )
    group = tracking_actions.create_group(
        nurse,
        code="GRUPO-1",
        name="Nadie es Perfecto",
        facility=Facility.objects.get(code="F-ALTA"),
        start_date=born,
        planned_sessions=6,
        facilitator_name="Facilitadora Eduviges Arancibia",
    )
    member = tracking_actions.record_attendance(nurse, group, mother, [], child)
    return {
        "child": child,
        "mother": mother,
        "household": household,
        "pregnancy": pregnancy,
        "encounter": encounter,
        "referral": referral,
        "member": member,
        "others": children,
    }


def _export(tmp_path, name, key, monkeypatch, *args):
    """The export up to today (the fixture's referral and flags are made today; the default cut-off,
    the end of the previous month, would leave them out: see test_analytics_dates.py)."""
    monkeypatch.setenv(analytics.KEY_ENV, key)
    out = tmp_path / name
    until = timezone.localdate().strftime("%Y-%m")
    call_command("export", "analytics", "--out", str(out), "--quiet", "--until", until, *args)
    return out


def _tables(out):
    return {t.name: pq.read_table(out / f"{t.name}.parquet") for t in analytics.TABLES}


def test_every_table_is_written_and_readable(world, tmp_path, monkeypatch):
    out = _export(tmp_path, "a", KEY_A, monkeypatch)
    tables = _tables(out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pseudonymised"] is True and manifest["key_included"] is False
    for table in analytics.TABLES:
        read = tables[table.name]
        assert read.schema == table.schema, table.name
        assert manifest["tables"][table.name]["rows"] == read.num_rows
        assert manifest["tables"][table.name]["columns"] == read.column_names
    assert tables["children"].num_rows == 5  # the family's child and the four of the fixture
    for name in ("caregivers", "households", "pregnancies", "encounters", "measurements", "screenings"):
        assert tables[name].num_rows >= 1, name
    for name in ("deliveries", "referrals", "group_members", "caregiver_links"):
        assert tables[name].num_rows == 1, name
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "PSEUDONYMISED" in readme and "NOT included" in readme and "measurements.parquet" in readme
    # The key is nowhere in the export.
    for path in out.iterdir():
        assert KEY_A.encode() not in path.read_bytes(), path.name
    event = AuditEvent.objects.get(action=Action.EXPORT, entity="interop.analytics")
    assert event.after["pseudonymised"] is True and event.after["tables"]["children"] == 5
    assert event.after["key_fingerprint"] == manifest["key_fingerprint"] and event.channel == Channel.CLI


def test_no_names_documents_or_free_text_anywhere(world, tmp_path, monkeypatch):
    out = _export(tmp_path, "a", KEY_A, monkeypatch)
    child, mother = world["child"], world["mother"]
    forbidden = {
        *child.given_names.split(),
        *mother.given_names.split(),
        child.paternal_surname,
        child.maternal_surname,
        child.national_id,
        child.national_id.replace("-", ""),
        mother.national_id,
        child.registry_number,
        mother.registry_number,
        "EXT-NINA-552",
        "EXT-MADRE-991",
        "8765 4321",
        "Aromos",
        "HOGAR-SECRETO-77",
        "Zapallar",
        "Rosalinda",
        "Anselmo",
        "Eduviges",
        child.birth_date.isoformat(),
        mother.birth_date.isoformat(),
    }
    for other in world["others"].values():
        forbidden |= {other.given_names, other.registry_number}
    scanned = 0
    for name, table in _tables(out).items():
        for column in table.column_names:
            assert column not in IDENTIFYING_COLUMNS, (name, column)
            field = table.schema.field(column)
            assert not pa.types.is_date(field.type) and not pa.types.is_timestamp(field.type), (name, column)
            if not pa.types.is_string(field.type):
                continue
            for value in table.column(column).to_pylist():
                if value is None:
                    continue
                scanned += 1
                folded = value.lower()
                leaks = [word for word in forbidden if word.lower() in folded]
                assert leaks == [], (name, column, value)
    assert scanned > 50  # the strings of every table were read
    for text_file in ("manifest.json", "README.txt"):
        content = (out / text_file).read_text(encoding="utf-8").lower()
        assert not [word for word in forbidden if word.lower() in content]
    children = _tables(out)["children"].to_pylist()
    mine = next(
        r for r in children if r["birth_month"] == child.birth_date.strftime("%Y-%m") and r["birth_weight_g"] == 3100
    )
    assert mine["document_type"] == "CL-RUN" and mine["has_document"] is True and mine["territory_code"] == "CL01001"


def test_pseudonyms_are_stable_with_the_same_key_and_change_with_another(world, tmp_path, monkeypatch):
    first = _tables(_export(tmp_path, "a", KEY_A, monkeypatch))
    second = _tables(_export(tmp_path, "b", KEY_A, monkeypatch))
    other = _tables(_export(tmp_path, "c", KEY_B, monkeypatch))
    for name in ("children", "measurements", "caregivers"):
        column = first[name].column_names[0]
        assert first[name].column(column).to_pylist() == second[name].column(column).to_pylist(), name
        assert set(first[name].column(column).to_pylist()).isdisjoint(other[name].column(column).to_pylist()), name
    # The pseudonym is HMAC-SHA256 of "<entity>:<id>" under the key, first 128 bits in hex.
    expected = hmac.digest(KEY_A.encode(), f"child:{world['child'].pk}".encode(), hashlib.sha256)[:16].hex()
    assert expected in first["children"].column("child").to_pylist()
    long_key = b"k" * 100  # longer than SHA-256's block: hashed first, as RFC 2104 says
    assert analytics.Pseudonyms(long_key)("x", 1) == hmac.digest(long_key, b"x:1", hashlib.sha256)[:16].hex()
    fingerprints = {json.loads((tmp_path / d / "manifest.json").read_text())["key_fingerprint"] for d in "abc"}
    assert len(fingerprints) == 2


def test_foreign_keys_join_across_tables(world, tmp_path, monkeypatch):
    tables = {name: t.to_pylist() for name, t in _tables(_export(tmp_path, "a", KEY_A, monkeypatch)).items()}
    pseudo = analytics.Pseudonyms(KEY_A.encode())
    child = pseudo("child", world["child"].pk)
    mother = pseudo("caregiver", world["mother"].pk)
    assert child in {r["child"] for r in tables["children"]}
    assert mother in {r["caregiver"] for r in tables["caregivers"]}
    measurements = [m for m in tables["measurements"] if m["child"] == child]
    born, measured = world["child"].birth_date, world["child"].birth_date + dt.timedelta(days=60)
    months = (measured.year - born.year) * 12 + measured.month - born.month  # a difference of months
    assert len(measurements) == 1 and measurements[0]["weight_kg"] == 5.1 and measurements[0]["age_months"] == months
    assert measurements[0]["month"] == measured.strftime("%Y-%m")
    encounter = next(e for e in tables["encounters"] if e["encounter"] == measurements[0]["encounter"])
    assert encounter["child"] == child and encounter["age_months"] == months and encounter["facility_code"] == "F-ALTA"
    epds = next(s for s in tables["screenings"] if s["instrument"] == "epds")
    assert (epds["child"], epds["caregiver"], epds["encounter"]) == (child, mother, encounter["encounter"])
    assert epds["data_category"] == "mental_health" and epds["score"] == 9
    mine = next(r for r in tables["children"] if r["child"] == child)
    assert mine["household"] == pseudo("household", world["household"].pk)
    assert mine["household"] in {h["household"] for h in tables["households"]}
    assert mine["pregnancy"] == pseudo("pregnancy", world["pregnancy"].pk)
    pregnancy = next(p for p in tables["pregnancies"] if p["pregnancy"] == mine["pregnancy"])
    assert pregnancy["mother"] == mother and pregnancy["outcome"] == "live_birth"
    assert {(r["child"], r["caregiver"], r["relationship"]) for r in tables["caregiver_links"]} == {
        (child, mother, "mother")
    }
    (delivery,) = tables["deliveries"]
    assert delivery["child"] == child and delivery["service_code"] == "welcome_kit" and delivery["age_months"] == 0
    (referral,) = tables["referrals"]
    assert (
        referral["child"] == child and referral["state"] == "sent" and referral["service_code"] == "stimulation_session"
    )
    (member,) = tables["group_members"]
    assert (member["caregiver"], member["child"]) == (mother, child)
    # Risk flags are not exported: whether a rule fired depends on the exact age (see docs/analytics.md).
    assert "risk_flags" not in tables and "flag" not in referral


def test_territory_limits_the_export(world, tmp_path, monkeypatch):
    tables = _tables(_export(tmp_path, "south", KEY_A, monkeypatch, "--territory", "CL02"))
    pseudo = analytics.Pseudonyms(KEY_A.encode())
    assert tables["children"].column("child").to_pylist() == [pseudo("child", world["others"]["austral"].pk)]
    assert tables["measurements"].num_rows == tables["referrals"].num_rows == tables["caregivers"].num_rows == 0
    event = AuditEvent.objects.get(action=Action.EXPORT, entity="interop.analytics")
    assert event.after["territory"] == "CL02"


def test_row_groups_stream_large_tables(world, tmp_path, monkeypatch):
    monkeypatch.setenv(analytics.KEY_ENV, KEY_A)
    result = analytics.export(Actor(None, Channel.CLI), tmp_path / "small", row_group=2)
    children = pq.ParquetFile(tmp_path / "small" / "children.parquet")
    assert children.metadata.num_rows == 5 and children.metadata.num_row_groups == 3
    assert {t.name: t.rows for t in result.tables}["children"] == 5


def test_key_is_generated_once_kept_private_and_never_exported(world, tmp_path, monkeypatch, settings):
    monkeypatch.delenv(analytics.KEY_ENV, raising=False)
    settings.DATA_DIR = tmp_path / "data"
    key = analytics.pseudonym_key()
    assert key == analytics.pseudonym_key() and len(key) >= 32
    path = tmp_path / "data" / "pseudonym_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    call_command("export", "analytics", "--out", str(tmp_path / "out"), "--quiet")
    assert not (tmp_path / "out" / "pseudonym_key").exists()
    for exported in (tmp_path / "out").iterdir():
        assert key not in exported.read_bytes()
    with pytest.raises(CommandError):
        call_command("export", "analytics", "--out", str(tmp_path / "data"), "--quiet")
    with pytest.raises(CommandError):
        call_command("export", "analytics", "--out", str(tmp_path), "--quiet")


def test_the_export_logs_which_children_it_held(world, tmp_path, monkeypatch):
    """Pseudonymised, but still the children's records: one read event per exported child."""
    _export(tmp_path, "south", KEY_A, monkeypatch, "--territory", "CL02")
    reads = AuditEvent.objects.filter(action=Action.READ, note="pseudonymised analytics CL02")
    assert sorted(reads.values_list("child_id", flat=True)) == [world["others"]["austral"].pk]
    _export(tmp_path, "all", KEY_A, monkeypatch)
    exported = set(
        AuditEvent.objects.filter(action=Action.READ, note="pseudonymised analytics all").values_list(
            "child_id", flat=True
        )
    )
    assert exported == {world["child"].pk, *(c.pk for c in world["others"].values())}
    assert all(e.channel == Channel.CLI for e in AuditEvent.objects.filter(note__startswith="pseudonymised analytics"))
