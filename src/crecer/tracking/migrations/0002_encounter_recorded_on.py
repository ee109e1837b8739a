"""The local date each encounter was recorded, beside its timestamp (timeliness is then a comparison of
two dates). Existing rows get the local date of their recorded_at."""

from zoneinfo import ZoneInfo

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

CHUNK = 50_000


def fill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE tracking_encounter SET recorded_on = (recorded_at AT TIME ZONE %s)::date", [settings.TIME_ZONE]
        )
        return
    encounter = apps.get_model("tracking", "Encounter")
    zone = ZoneInfo(settings.TIME_ZONE)
    last = 0
    with connection.cursor() as cursor:
        while True:
            rows = list(
                encounter._base_manager.filter(pk__gt=last).order_by("pk").values_list("pk", "recorded_at")[:CHUNK]
            )
            if not rows:
                break
            cursor.executemany(
                "UPDATE tracking_encounter SET recorded_on = %s WHERE id = %s",
                [(stamp.astimezone(zone).date().isoformat(), pk) for pk, stamp in rows],
            )
            last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="encounter",
            name="recorded_on",
            field=models.DateField(default=django.utils.timezone.localdate, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
