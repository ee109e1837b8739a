# One counter for every throttle (bad tokens per address, existence look-ups per user), shared by the
# server's worker processes. The counters are transient: those of the old shape are dropped.

from django.db import migrations, models


def drop_counters(apps, schema_editor):  # noqa: ARG001
    apps.get_model("accounts", "ThrottleCounter").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RenameModel("BadTokenCounter", "ThrottleCounter"),
        migrations.RenameField("ThrottleCounter", "address", "key"),
        migrations.RenameField("ThrottleCounter", "failures", "hits"),
        migrations.AlterField("ThrottleCounter", "key", models.CharField(max_length=100, unique=True)),
        migrations.RunPython(drop_counters, migrations.RunPython.noop),
    ]
