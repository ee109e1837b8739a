"""Database-side guard: a frozen snapshot and its figures cannot be rewritten, even by raw SQL.

As for the audit: PostgreSQL refuses UPDATE and DELETE; SQLite refuses UPDATE (its test reset deletes
rows; the application layer refuses deletes on both).
"""

from django.db import migrations

TABLES = ("monitoring_snapshot", "monitoring_snapshotvalue")

PG_FORWARD = """
CREATE OR REPLACE FUNCTION monitoring_snapshot_frozen() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'indicator snapshots are frozen';
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"CREATE TRIGGER {t}_frozen BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION monitoring_snapshot_frozen();\n"
    for t in TABLES
)
PG_BACKWARD = "".join(f"DROP TRIGGER IF EXISTS {t}_frozen ON {t};\n" for t in TABLES) + (
    "DROP FUNCTION IF EXISTS monitoring_snapshot_frozen();"
)
SQLITE_FORWARD = [
    f"CREATE TRIGGER {t}_frozen BEFORE UPDATE ON {t} BEGIN SELECT RAISE(ABORT, 'indicator snapshots are frozen'); END;"
    for t in TABLES
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS {t}_frozen;" for t in TABLES]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
