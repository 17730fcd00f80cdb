"""Eight indexes on the calls table, each serving named queries (issue 44; docs/partitioning.md,
"Indexes", lists them with the queries and their plans).

Every index of `sync_call` is paid for on every call a back-fill writes: with fourteen,
inserting the rows cost several times what storing them did, and the indexes were 62 % of
the table's size. Now eight. Five go:

- `call_env_status_ext`, `call_env_direction_ext`: a status or direction keeps a large
  share of an environment's calls (the listing reads its page's days newest first through
  `call_env_started_ext` and skips the others: no sort, a bounded walk);
- `call_env_sid`: an exact SID (the admin's search, webhook hints without a call id) is
  found through the search's GIN index (`sync.search_text.sid_q`);
- `call_env_duration`: the explorer's longest-first sort top-N sorts its period's calls
  (its count already stops at 10,000, its default period is 30 days);
- `call_started_id`: the superuser's unfiltered admin list reads months newest first and
  top-N sorts the newest month only (ordered Append, LIMIT).

Two GIN indexes become one, leading with the environment (`btree_gin`): the search's
trigram index (0017) and the partial transcript index (0011_h25b) are the columns of
`call_env_search_gin` (environment_id, the joined search text's trigrams, the transcript's
words). One tenant's search reads its own postings, whatever other tenants hold in the same
month; a call without a transcript adds one empty entry there, not a partial index's worth.
SQLite (the demo): the five declared indexes are dropped too;
the GIN indexes never existed there.
"""
from django.db import migrations

NAME = "call_env_search_gin"
SEARCH_TEXT = "UPPER(sid || ' ' || external_id || ' ' || to_number || ' ' || from_number)"
TSVECTOR = "to_tsvector('simple'::regconfig, transcript)"
OLD = {
    "call_search_text_trgm": f"USING gin (({SEARCH_TEXT}) gin_trgm_ops)",
    "call_transcript_fts_present": f"USING gin ({TSVECTOR}) WHERE transcript <> ''",
}


def one_gin(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON sync_call USING gin "
                          f"(environment_id, ({SEARCH_TEXT}) gin_trgm_ops, ({TSVECTOR}))")
    for name in OLD:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def two_gins(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in OLD.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON sync_call {definition}")
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):

    dependencies = [
        ('sync', '0019_h38b_callback_funnel_days'),
    ]

    operations = [
        migrations.RemoveIndex(model_name='call', name='call_env_status_ext'),
        migrations.RemoveIndex(model_name='call', name='call_env_direction_ext'),
        migrations.RemoveIndex(model_name='call', name='call_env_sid'),
        migrations.RemoveIndex(model_name='call', name='call_env_duration'),
        migrations.RemoveIndex(model_name='call', name='call_started_id'),
        migrations.RunPython(one_gin, two_gins, elidable=False),
    ]
