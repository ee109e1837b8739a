"""The audit trail becomes a hash chain (crecer.audit.chain): two columns per event, the chain's head,
and the chain computed over the events already stored, in id order.

The UPDATE trigger of 0002 is lifted while the existing events get their hashes (PostgreSQL: disabled
and enabled again; SQLite: dropped and created again), and recreated on SQLite in any case, since
SQLite rebuilds the table to add a column and a rebuilt table loses its triggers.
"""

import django.utils.timezone
from django.db import migrations, models

SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END;
"""
BATCH = 5000


def _sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


def chain_existing(apps, schema_editor):
    from crecer.audit.chain import FIELDS, GENESIS, canonical, link

    connection = schema_editor.connection
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ChainHead = apps.get_model("audit", "ChainHead")
    table = connection.ops.quote_name("audit_auditevent")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER audit_event_no_update")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        prev, last_id, after = GENESIS, None, 0
        while True:
            rows = list(AuditEvent.objects.filter(pk__gt=after).order_by("pk").values_list("pk", *FIELDS)[:BATCH])
            if not rows:
                break
            updates = []
            for pk, *values in rows:
                own = link(prev, canonical(dict(zip(FIELDS, values, strict=True))))
                updates.append((prev, own, pk))
                prev, last_id = own, pk
            cursor.executemany(f"UPDATE {table} SET prev_hash = %s, hash = %s WHERE id = %s", updates)  # noqa: S608
            after = rows[-1][0]
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER audit_event_no_update")
    _sqlite_trigger(apps, schema_editor)
    ChainHead.objects.update_or_create(pk=1, defaults={"last_id": last_id, "last_hash": prev})


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_sign_in_events"),
    ]

    operations = [
        # Reversed last: the rebuilt table of the reversed fields needs its trigger back.
        migrations.RunPython(migrations.RunPython.noop, _sqlite_trigger),
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("last_id", models.BigIntegerField(blank=True, null=True)),
                ("last_hash", models.CharField(max_length=64)),
            ],
            options={
                "verbose_name": "audit chain head",
                "verbose_name_plural": "audit chain heads",
            },
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="at",
            field=models.DateTimeField(
                db_index=True, default=django.utils.timezone.now, editable=False, verbose_name="when"
            ),
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
    ]
