"""Migrations match the models (the test database itself is built from them, on SQLite and PostgreSQL)."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.db import connection


def test_no_missing_migrations(db):
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_audit_guard_trigger_installed(db):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        assert "audit_event_no_update" in {row[0] for row in cursor.fetchall()}
