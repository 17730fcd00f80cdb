"""One migrated PostgreSQL template per version of the code; every xdist worker's test database
is created as a copy of it (`CREATE DATABASE … TEMPLATE`, Django's `TEST["TEMPLATE"]`).

Why: a fresh `migrate` costs about 3.6 s of CPU (Django renders the model state after its
operations; the database itself has little to do), and each of the suite's workers would run
one at the same moment on the same cores. Now the first worker migrates the template once, under an
advisory lock the others wait on; each copy is then migrated again by Django as usual, which
finds nothing to apply. The production stacks' scratch databases are copies too
(`tests.support.processes.scratch_database(migrated=True)`). A fresh `migrate` is still run
once per suite here, and on fresh databases by the tests of `make serve` and the fleet, by
the README walk, by the squashed upgrade and by `make demo`'s test.

The template's name carries a digest of everything a migration may run (the apps' source
files, Django's version), so a changed migration or module gets a new template; older
templates of the same database are dropped. It is built under a temporary name and renamed
when complete, so a run killed while migrating leaves no half-migrated template behind.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import django
import psycopg

from tests.support.processes import with_path

ROOT = Path(__file__).resolve().parent.parent.parent
# pg_advisory_lock key: one builder at a time, the other workers wait for its template.
LOCK = 0x5B_7E_3D_B0
# What a migration runs: its own file and whatever project code it imports (the partition
# conversion, data migrations, model fields): every source file of the three apps, so any
# change gets a template migrated by the code as it now is.
INPUTS = ("portal", "sync", "reports")


def digest() -> str:
    h = hashlib.sha256(django.get_version().encode())
    for entry in INPUTS:
        path = ROOT / entry
        for file in sorted(path.rglob("*.py")):
            h.update(str(file.relative_to(ROOT)).encode())
            h.update(file.read_bytes())
    return h.hexdigest()[:12]


def ensure_template(database_url: str) -> str:
    """The name of a fully migrated template database next to `database_url`'s (built now if
    this set of migrations has none yet)."""
    base = urlsplit(database_url).path.lstrip("/")
    name = f"{base}_tpl_{digest()}"
    building = f"{name}_building"
    with psycopg.connect(with_path(database_url, "/postgres"), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [LOCK])
        try:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            [name]).fetchone():
                return name
            stale = [row[0] for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                [f"{base}\\_tpl\\_%"])]
            for old in stale:
                conn.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{building}"')
            env = {**os.environ, "DATABASE_URL": with_path(database_url, f"/{building}")}
            result = subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
                                    cwd=ROOT, env=env, capture_output=True, text=True,
                                    timeout=300)
            if result.returncode != 0:
                conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
                raise RuntimeError(f"migrating the template failed:\n{result.stderr[-3000:]}")
            conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            return name
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [LOCK])
