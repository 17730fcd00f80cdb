"""One trigram GIN index finds a search's candidate calls (PostgreSQL only; issue 26).

The search rule (`reports.call_search`) matches a needle against the SID, the call id and the
two numbers. Each had its own trigram index (0007_h21, 0011_h26a), so once calls were
partitioned by month (0013_h28a) a search read four indexes in every month it covered: 28
bitmap scans and 93 ms for the explorer's 180 days at 1M calls. One index over the four
fields joined (`SEARCH_TEXT`, the expression `call_search.SearchText` compiles to, so the
planner matches them) answers the same question in one scan per month; each field's own rule
is then checked on those rows. One index instead of four also costs a back-fill less to write
(issue 25's write path). SQLite: nothing to do (no index narrows a substring there).
"""
from django.db import migrations

NAME = "call_search_text_trgm"
SEARCH_TEXT = "UPPER(sid || ' ' || external_id || ' ' || to_number || ' ' || from_number)"
REPLACED = {
    "call_to_number_trgm": "to_number gin_trgm_ops",
    "call_from_number_trgm": "from_number gin_trgm_ops",
    "call_sid_upper_trgm": "(UPPER(sid::text)) gin_trgm_ops",
    "call_external_id_upper_trgm": "(UPPER(external_id::text)) gin_trgm_ops",
}


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON sync_call "
                          f"USING gin (({SEARCH_TEXT}) gin_trgm_ops)")
    for name in REPLACED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, expression in REPLACED.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON sync_call "
                              f"USING gin ({expression})")
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):

    dependencies = [
        ("sync", "0016_merge_names"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
