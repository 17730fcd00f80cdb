"""Search calls by any part of a phone number or SID through an index (PostgreSQL only).

The compatible listing's `search` is `LIKE '%needle%'` on `to_number` / `from_number` and
`UPPER(sid) LIKE UPPER('%needle%')` (Django's `contains` / `icontains`), which only trigram
GIN indexes (pg_trgm) answer without reading the whole environment. SQLite has neither the
extension nor GIN, so there this migration does nothing (its searches scan, as before).
pg_trgm is a trusted extension: the database owner may create it without superuser rights.
"""
from django.db import migrations

INDEXES = {
    "call_to_number_trgm": "to_number gin_trgm_ops",
    "call_from_number_trgm": "from_number gin_trgm_ops",
    "call_sid_upper_trgm": "(UPPER(sid::text)) gin_trgm_ops",
}


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON sync_call USING gin ({expression})")


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("sync", "0006_h21_call_listing_indexes"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
