"""Search calls by any part of their id through an index (PostgreSQL only).

The one search rule (`reports.call_search`) matches the call id by any part in the explorer
(`UPPER(external_id) LIKE UPPER('%needle%')`, Django's `icontains`), as it already did the
SID (0007_h21): an Origins call has no SID, and the table shows its id cut. Without this
trigram GIN index that condition read the whole environment. SQLite: nothing to do.
"""
from django.db import migrations

NAME = "call_external_id_upper_trgm"


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON sync_call "
                          "USING gin ((UPPER(external_id::text)) gin_trgm_ops)")


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):

    dependencies = [
        ("sync", "0010_h15b_quarantine_stored_out_of_range"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
