"""The audit chain splits into lanes (crecer.audit.chain): each event's lane, and an index to walk a lane
in id order. Events already stored are lane 0, whose head is the existing row (id 1): their chain is
unchanged. The other lanes' heads are created as they are first used.

SQLite rebuilds the table to add a column, and a rebuilt table loses its triggers: the UPDATE trigger of
0002 is created again after the change, and after its reversal.
"""

from django.db import migrations, models

SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END;
"""


def _sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_audit_chain"),
    ]

    operations = [
        # Reversed last: the rebuilt table of the reversed field needs its trigger back.
        migrations.RunPython(migrations.RunPython.noop, _sqlite_trigger),
        migrations.AddField(
            model_name="auditevent",
            name="lane",
            field=models.PositiveSmallIntegerField(default=0, db_default=0),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["lane", "id"], name="audit_event_lane"),
        ),
        migrations.RunPython(_sqlite_trigger, migrations.RunPython.noop),
    ]
