"""``crecer backup --out FILE`` and ``crecer restore FILE``: a round trip gives back every table's rows.

On SQLite (the online backup API) in the normal suite; the same tests run on PostgreSQL (pg_dump and
pg_restore, custom format) when DATABASE_URL is a PostgreSQL address."""

from __future__ import annotations

import io
import os
import stat

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from crecer.core.backup import BOOKKEEPING, holds_data, kind_of, table_counts
from crecer.registry.models import Child
from crecer.territories.models import Territory
from tests.conftest import SYSTEM

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _backup(path) -> str:
    out = io.StringIO()
    call_command("backup", out=path, stdout=out)
    return out.getvalue()


def test_a_round_trip_gives_back_the_rows_of_every_table(tmp_path, cast, children):
    before = table_counts()
    assert before["registry_child"] == Child.unscoped.count() > 0
    assert before["audit_auditevent"] > 0
    path = tmp_path / "crecer.backup"
    assert str(path) in _backup(path)
    assert kind_of(path) == connection.vendor
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds personal data
    assert not (tmp_path / "crecer.backup.partial").exists()

    # Changes after the backup: a new territory, a child's name.
    from crecer.places.actions import create_territory

    create_territory(SYSTEM, "CL03", "Región Nueva", "region", "CL")
    name = children["alta"].given_names
    Child.unscoped.filter(pk=children["alta"].pk).update(given_names="Cambiado")
    assert table_counts() != before

    with pytest.raises(CommandError, match="already holds data"):
        call_command("restore", str(path))
    with translation.override("es"), pytest.raises(CommandError, match="ya contiene datos"):
        call_command("restore", str(path))
    assert Territory.objects.filter(code="CL03").exists()  # refused: nothing changed

    out = io.StringIO()
    call_command("restore", str(path), "--force", stdout=out)
    assert out.getvalue().startswith(f"Restored {path}")
    assert table_counts() == before
    assert not Territory.objects.filter(code="CL03").exists()
    assert Child.unscoped.get(pk=children["alta"].pk).given_names == name


def test_a_backup_restores_into_an_empty_database_without_force(tmp_path, cast, children):
    before = table_counts()
    path = tmp_path / "crecer.backup"
    _backup(path)
    call_command("flush", interactive=False, verbosity=0)
    assert not holds_data()
    assert table_counts()["registry_child"] == 0
    call_command("restore", str(path), stdout=io.StringIO())
    assert table_counts() == before
    assert holds_data()


def test_only_bookkeeping_rows_leave_a_database_empty(cast):
    assert holds_data()
    call_command("flush", interactive=False, verbosity=0)
    counts = table_counts()
    assert not holds_data()
    assert counts["django_content_type"] > 0  # filled by migrate itself
    # SQLite's own tables (sqlite_sequence, sqlite_stat1 after an ANALYZE) are not data either.
    assert {t for t, n in counts.items() if n and not t.startswith("sqlite_")} <= BOOKKEEPING


def test_backup_and_restore_refuse_with_a_clear_message(tmp_path, cast):
    path = tmp_path / "crecer.backup"
    _backup(path)
    with pytest.raises(CommandError, match="already exists"):
        _backup(path)
    with pytest.raises(CommandError, match="does not exist"):
        _backup(tmp_path / "missing-folder" / "x.backup")
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    with pytest.raises(CommandError, match="not a Crecer backup"):
        call_command("restore", str(junk), "--force")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "nothing.backup"))
    other = {"sqlite": b"PGDMP\x01\x0e\x00", "postgresql": b"SQLite format 3\x00"}[connection.vendor]
    foreign = tmp_path / "other-engine.backup"
    foreign.write_bytes(other + b"\x00" * 100)
    with pytest.raises(CommandError, match="backup of a"):
        call_command("restore", str(foreign), "--force")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_postgresql_tools_missing_are_named(tmp_path, cast, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CommandError, match="pg_dump is not installed"):
        _backup(tmp_path / "x.backup")


def test_the_backup_file_is_not_left_half_written_when_the_copy_fails(tmp_path, cast, monkeypatch):
    from crecer.core import backup

    def broken(out):
        out.write_bytes(b"half")
        raise backup.BackupError("disk full")

    monkeypatch.setattr(backup, "_sqlite_backup" if connection.vendor == "sqlite" else "_pg_dump", broken)
    with pytest.raises(CommandError, match="disk full"):
        _backup(tmp_path / "crecer.backup")
    assert os.listdir(tmp_path) == []
