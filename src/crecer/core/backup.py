"""Backups of the whole database and their restore (``crecer backup``, ``crecer restore``).

- SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot while
  the server keeps reading and writing; the backup is itself a SQLite database file. A restore copies it
  back through the same API into the live database file, so open connections see the restored data.
- PostgreSQL: ``pg_dump --format=custom`` (one compressed file, consistent: pg_dump reads in one
  snapshot) and ``pg_restore --clean --if-exists --single-transaction`` (all or nothing). The client
  tools must be installed (Debian: ``postgresql-client``) and be at least the server's major version.

A backup is restored into the same engine (a SQLite backup into SQLite, a PostgreSQL dump into
PostgreSQL) and the same version of Crecer; then ``crecer migrate`` brings it to a newer one. Backups
hold personal data: they are created readable by their owner only.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.db import connection, connections
from django.utils.translation import gettext as _

from crecer.core.files import private_file

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
#: tables that ``migrate`` fills by itself: rows there do not make a database "non-empty"
BOOKKEEPING = {"django_migrations", "django_content_type", "auth_permission", "sqlite_sequence"}


class BackupError(Exception):
    """A backup or restore that cannot be done, with a message for the operator."""


def engine() -> str:
    return str(connection.vendor)  # "sqlite" or "postgresql"


def table_counts() -> dict[str, int]:
    """Rows in every table of the database (Django's and Crecer's), by table name."""
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (introspected names)
            counts[table] = int(cursor.fetchone()[0])
    return counts


def holds_data() -> bool:
    """Whether any table beyond what ``migrate`` fills by itself has a row (one indexed look per table)."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table in BOOKKEEPING or table.startswith("sqlite_"):
                continue
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")  # noqa: S608 (introspected names)
            if cursor.fetchone() is not None:
                return True
    return False


def kind_of(path: Path) -> str:
    """The engine a backup file is of, from its first bytes."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(_("%(file)s is not a Crecer backup (neither SQLite nor a pg_dump file).") % {"file": path})


# --- backup ---------------------------------------------------------------------------------------


def backup(out: Path) -> None:
    """Write a backup of the whole database to ``out`` (which must not exist yet)."""
    if out.exists():
        raise BackupError(_("%(file)s already exists; choose another name.") % {"file": out})
    if not out.parent.is_dir():
        raise BackupError(_("The folder %(folder)s does not exist.") % {"folder": out.parent})
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)  # personal data: the owner's only, from the start
    try:
        if engine() == "sqlite":
            _sqlite_backup(partial)
        elif engine() == "postgresql":
            _pg_dump(partial)
        else:  # pragma: no cover - only the two engines are supported
            raise BackupError(_("Backups support SQLite and PostgreSQL only."))
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


def _sqlite_path() -> str:
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        raise BackupError(_("An in-memory SQLite database cannot be backed up or restored."))
    return name


def _sqlite_backup(out: Path) -> None:
    source = sqlite3.connect(_sqlite_path(), timeout=30)
    target = sqlite3.connect(out)
    try:
        # One step: the whole copy is one consistent snapshot, writers wait at most for its duration.
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        if target.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(_("The copy failed SQLite's integrity check."))
    finally:
        target.close()
        source.close()


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _("%(tool)s is not installed; it comes with PostgreSQL's client tools (Debian: postgresql-client).")
            % {"tool": name}
        )
    return path


def _pg_environment() -> tuple[dict[str, str], str]:
    """Connection settings for pg_dump/pg_restore (password through the environment, not the command line)."""
    s: dict[str, Any] = connection.settings_dict
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if s.get(key):
            env[var] = str(s[key])
    sslmode = (s.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return env, str(s["NAME"])


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 (fixed tools)
    if done.returncode != 0:
        raise BackupError(
            _("%(tool)s failed: %(error)s") % {"tool": Path(command[0]).name, "error": done.stderr.strip()[-2000:]}
        )


def _pg_dump(out: Path) -> None:
    env, name = _pg_environment()
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={out}", name], env)


# --- restore --------------------------------------------------------------------------------------


def restore(source: Path, *, force: bool = False) -> None:
    """Replace the database's content with the backup ``source``; refuses a database holding data unless ``force``."""
    if not source.is_file():
        raise BackupError(_("%(file)s does not exist.") % {"file": source})
    kind = kind_of(source)
    if kind != engine():
        raise BackupError(
            _("%(file)s is a backup of a %(kind)s database; this server uses %(engine)s.")
            % {"file": source, "kind": kind, "engine": engine()}
        )
    if not force and holds_data():
        raise BackupError(
            _(
                "The database already holds data: restoring would replace all of it. Back it up first, then "
                "run the restore again with --force."
            )
        )
    connections.close_all()
    if kind == "sqlite":
        _sqlite_restore(source)
    else:
        _pg_restore(source)


def _sqlite_restore(source: Path) -> None:
    backup_db = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        if backup_db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(_("%(file)s failed SQLite's integrity check.") % {"file": source})
        live = sqlite3.connect(_sqlite_path(), timeout=30)
        try:
            backup_db.backup(live)
            # The backup was saved without WAL; the server uses WAL (set again on every connection).
            live.execute("PRAGMA journal_mode=WAL")
        finally:
            live.close()
    finally:
        backup_db.close()


def _pg_restore(source: Path) -> None:
    env, name = _pg_environment()
    _run(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={name}",
            str(source),
        ],
        env,
    )
