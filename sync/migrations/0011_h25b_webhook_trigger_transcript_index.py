"""The `webhook` sync trigger, and a partial transcript index (PostgreSQL only).

The transcript GIN index covered every call, though only Origins AI calls that were answered
carry a transcript (Talkover never sends one): each empty transcript still cost a GIN entry on
every write of a back-fill. The partial index holds only calls with a transcript; the search
(reports.transcript_search) adds the same `transcript <> ''` condition so the planner uses it.
The expression must stay identical to reports.transcript_search.TSVECTOR_SQL. The trigram
indexes of 0007_h21 stay: the Talkover-compatible search (`sid` icontains, `to`/`from`
contains) and the explorer's number search use all three.
"""
from django.db import migrations, models

PARTIAL_SQL = ("CREATE INDEX IF NOT EXISTS call_transcript_fts_present ON sync_call "
               "USING gin (to_tsvector('simple'::regconfig, transcript)) "
               "WHERE transcript <> ''")
FULL_SQL = ("CREATE INDEX IF NOT EXISTS call_transcript_fts ON sync_call "
            "USING gin (to_tsvector('simple'::regconfig, transcript))")


def partial_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PARTIAL_SQL)
        schema_editor.execute("DROP INDEX IF EXISTS call_transcript_fts")


def full_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FULL_SQL)
        schema_editor.execute("DROP INDEX IF EXISTS call_transcript_fts_present")


class Migration(migrations.Migration):

    dependencies = [
        ('sync', '0010_h15b_quarantine_stored_out_of_range'),
    ]

    operations = [
        migrations.AlterField(
            model_name='syncrun',
            name='trigger',
            field=models.CharField(choices=[('manual', 'Manual'), ('schedule', 'Schedule'), ('backfill', 'Back-fill'), ('webhook', 'Webhook')], default='schedule', max_length=16),
        ),
        migrations.RunPython(partial_index, full_index, elidable=False),
    ]
