"""What a migrated database's schema is made of, in a form two databases can be compared by:
the upgrade test (tests/portal/test_squashed_upgrade.py) checks that a database migrated
through the old chain and then the squashed migrations equals a fresh one.

Left out on purpose: the column order (the old chain added columns at the end, the squashed
migrations create them in the models' order; no query depends on it) and which months have
partitions (they follow the date of the `migrate` that made them). Every partition is checked
instead for what it must share with the others: its partition key, its indexes (each attached
to the calls table's own) and its statistics targets.
"""
from __future__ import annotations

import re

# Tables that are not partitions of another (the partitions are summed up below).
TOP = "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " \
      "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"

QUERIES = {
    "columns": f"""
        SELECT table_name, column_name, data_type, character_maximum_length,
               numeric_precision, is_nullable, column_default, is_identity
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name::regclass::oid IN ({TOP})""",
    "indexes": f"""
        SELECT t.relname, c.relname, replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ')
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_class t ON t.oid = i.indrelid WHERE i.indrelid IN ({TOP})""",
    # PostgreSQL 18 lists NOT NULL as constraints too, named after the table that first had
    # them: `columns` compares nullability instead.
    "constraints": f"""
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid),
               c.condeferrable, c.condeferred
        FROM pg_constraint c WHERE c.conrelid IN ({TOP})
        AND c.contype <> 'n'""",
    "triggers": f"""
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)
        FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN ({TOP})""",
    "functions": """
        SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
    "extensions": "SELECT extname FROM pg_extension",
    "partition_keys": """
        SELECT CASE WHEN c.relispartition THEN 'a month of sync_call' ELSE c.relname END,
               pg_get_partkeydef(c.oid)
        FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid""",
    "catch_alls": """
        SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_class c
        WHERE c.relispartition AND c.relname IN ('sync_call_before', 'sync_call_after')""",
    # Each leaf's indexes, by the calls table's index each is attached to.
    "leaf_indexes": """
        SELECT DISTINCT (
            SELECT array_agg(x.name ORDER BY x.name) FROM (
                SELECT coalesce((SELECT c.relname FROM pg_partition_ancestors(li.indexrelid) a
                                 JOIN pg_index ti ON ti.indexrelid = a.relid
                                  AND ti.indrelid = 'sync_call'::regclass
                                 JOIN pg_class c ON c.oid = a.relid), '(its own)') AS name
                FROM pg_index li WHERE li.indrelid = t.relid) x)
        FROM pg_partition_tree('sync_call') t WHERE t.isleaf""",
    "statistics_targets": """
        SELECT DISTINCT a.attname, a.attstattarget FROM pg_partition_tree('sync_call') t
        JOIN pg_attribute a ON a.attrelid = t.relid
        WHERE a.attnum > 0 AND NOT a.attisdropped AND coalesce(a.attstattarget, -1) <> -1""",
}


# Casts and parentheses PostgreSQL prints in a CHECK: a constraint restored from a dump prints
# `ARRAY[('a'::varchar)::text]` where the one it was dumped from printed
# `(ARRAY['a'::varchar])::text[]` — the same condition.
CAST_OR_PARENTHESIS = re.compile(r"::[a-z ]+(\[\])?|[()]")


def schema_facts(cursor) -> dict[str, list[tuple]]:
    """Every fact of `QUERIES`, sorted, read through a DB-API cursor."""
    facts = {}
    for name, sql in QUERIES.items():
        cursor.execute(sql)
        rows = [tuple(str(v) for v in row) for row in cursor.fetchall()]
        if name == "constraints":
            rows = [(table, constraint, CAST_OR_PARENTHESIS.sub("", definition), *rest)
                    for table, constraint, definition, *rest in rows]
        facts[name] = sorted(rows)
    return facts
