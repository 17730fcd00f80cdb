"""No planner statistics on the calls' columns no query reads by (issue 44: the back-fill's
ANALYZE of each month it filled; `sync.partitions.ddl.UNSAMPLED`).

`ALTER TABLE sync_call … SET STATISTICS 0` reaches every partition that exists; the leaves
made later get the same from `sync.partitions.ddl`. SQLite keeps no statistics: nothing to do.
"""
from django.db import migrations

from sync.partitions.ddl import TABLE, unsampled_sql


def unsampled(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(unsampled_sql(TABLE))


def sampled(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(unsampled_sql(TABLE, target=-1))


class Migration(migrations.Migration):

    dependencies = [
        ('sync', '0021_h44_narrow_listing_indexes'),
    ]

    operations = [migrations.RunPython(unsampled, sampled, elidable=False)]
