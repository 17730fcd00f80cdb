"""Calls partitioned by month and retention tier on PostgreSQL (issue 28; docs/partitioning.md).

`retention_months` is the sub-partition key (the organisation's retention tier). On
PostgreSQL the existing `sync_call` is then converted in this migration's transaction by
`sync.partitions.convert` (copy a month at a time, swap names, rebuild every index including
the trigram GIN and partial full-text ones); the reverse converts it back. SQLite keeps one
plain table: only the column is added there. Django's state is unchanged apart from the
column: `id` stays the primary key and (environment, external_id) the natural key Django
sees; docs/partitioning.md says why the database's keys differ.
"""
from django.db import migrations, models


def partition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from sync.partitions.convert import to_partitioned

    with schema_editor.connection.cursor() as cursor:
        to_partitioned(cursor)


def unpartition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from sync.partitions.convert import to_plain

    with schema_editor.connection.cursor() as cursor:
        to_plain(cursor)


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0006_h28a_call_retention'),
        ('sync', '0012_merge_h25a_h25b_h26a'),
    ]

    operations = [
        migrations.AddField(
            model_name='call',
            name='retention_months',
            field=models.PositiveSmallIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
