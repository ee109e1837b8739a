"""Database-side guard: evaluations, distributions and award results cannot be rewritten, even by raw SQL.

As for the audit: PostgreSQL refuses UPDATE and DELETE; SQLite refuses UPDATE (its test reset deletes
rows; the application layer refuses deletes on both).
"""

from django.db import migrations

TABLES = ("results_evaluation", "results_distribution", "results_awardresult")

PG_FORWARD = """
CREATE OR REPLACE FUNCTION results_frozen() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'evaluations are frozen';
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"CREATE TRIGGER {t}_frozen BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION results_frozen();\n"
    for t in TABLES
)
PG_BACKWARD = "".join(f"DROP TRIGGER IF EXISTS {t}_frozen ON {t};\n" for t in TABLES) + (
    "DROP FUNCTION IF EXISTS results_frozen();"
)
SQLITE_FORWARD = [
    f"CREATE TRIGGER {t}_frozen BEFORE UPDATE ON {t} BEGIN SELECT RAISE(ABORT, 'evaluations are frozen'); END;"
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
    dependencies = [("results", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
