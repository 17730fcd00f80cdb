"""Calls and agents stored before records were checked with timestamps outside 2000..2100
(year 9999 with an offset cannot even be read back) go into quarantine (`sync.quarantine`)."""
from django.db import migrations


def forwards(apps, schema_editor):
    from sync.quarantine import quarantine_stored_records

    quarantine_stored_records(apps.get_model("sync", "Call"), apps.get_model("sync", "Agent"),
                              apps.get_model("sync", "RejectedRecord"))


class Migration(migrations.Migration):

    dependencies = [
        ("sync", "0009_h15a_quarantine_wide_ids"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]
