"""The two listing indexes without the upstream id: (environment, start) and (environment,
agent, start), newest first (issue 44, storage; docs/partitioning.md, "Indexes").

The id was there to order calls of the same instant (Talkover's order: newest first, ties by
id descending). It made each entry about 40 bytes longer, in two indexes written on every
call: 15.0 and 9.5 MB for 68,620 calls where (environment, agent, start) and (environment,
start) take 9.5 and 3.9. The ties are now ordered by an Incremental Sort of the calls of one
instant, as the explorer's tie-break by id already was (`tests/sync/test_partition_plans.py`):
the same rows, the same order, no month sorted. On PostgreSQL the indexes are built on every
month partition (`CREATE INDEX` on the partitioned table, as any index migration); SQLite
gets the same two.
"""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sync', '0020_h38c_packed_seconds'),
    ]

    operations = [
        migrations.RemoveIndex(model_name='call', name='call_env_started_ext'),
        migrations.RemoveIndex(model_name='call', name='call_env_agent_ext'),
        migrations.AddIndex(
            model_name='call',
            index=models.Index(fields=['environment', '-started_at'], name='call_env_started'),
        ),
        migrations.AddIndex(
            model_name='call',
            index=models.Index(fields=['environment', 'agent_external_id', '-started_at'],
                               name='call_env_agent_started'),
        ),
    ]
