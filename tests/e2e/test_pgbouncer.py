"""The product behind PgBouncer in transaction pooling mode (DB_TRANSACTION_POOLING=true,
docs/operations.md "Connections"): migrate, the tenant commands and a sync run through it, and
so do the report pages, the reports API, a CSV export and the calls explorer, while PostgreSQL
sees no more server connections than the pool's size.

Debian's `pgbouncer` (1.18: no prepared statements kept across transactions, so none are
made); .ci/run installs it when missing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest

from portal import embedded_db
from tests.support.embedded_dirs import embedded_dir
from tests.support.processes import Processes, free_port, wait_for
from tests.support.replication import _base_env, seed_portal, sql, start_web

pytestmark = [
    pytest.mark.xdist_group("processes"),
    pytest.mark.skipif(shutil.which("pgbouncer") is None and not Path(
        "/usr/sbin/pgbouncer").exists(), reason="needs Debian's pgbouncer (.ci/run installs it)"),
]
POOL_SIZE = 3


@contextmanager
def pgbouncer(root: Path, server_port: int) -> Iterator[int]:
    """PgBouncer on a free port, pooling `switchboard` on `server_port` per transaction."""
    port = free_port()
    (root / "userlist.txt").write_text('"postgres" ""\n')
    ini = root / "pgbouncer.ini"
    ini.write_text(f"""[databases]
switchboard = host=127.0.0.1 port={server_port} dbname=switchboard
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {root / "userlist.txt"}
admin_users = postgres
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_client_conn = 200
""")
    program = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    as_root = ["-u", embedded_db.SERVICE_USER] if os.geteuid() == 0 else []
    proc = subprocess.Popen([program, *as_root, str(ini)], stdout=subprocess.DEVNULL,
                            stderr=open(root / "pgbouncer.log", "wb"))  # noqa: SIM115
    try:
        wait_for(lambda: sql(f"postgres://postgres@127.0.0.1:{port}/pgbouncer", "SHOW VERSION")
                 is not None, 30, "pgbouncer")
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def server_connections(url: str) -> int:
    (n,), = sql(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = 'switchboard' "
                     "AND pid <> pg_backend_pid()")
    return int(n)


def test_pages_and_a_sync_run_through_pgbouncer_in_transaction_mode():
    with embedded_dir("switchboard-pgbouncer-") as root:
        direct = embedded_db.ensure_running(root / "postgres", fast=True)
        server_port = int(direct.rsplit(":", 1)[1].split("/")[0])
        with pgbouncer(root, server_port) as port:
            pooled = f"postgres://postgres@127.0.0.1:{port}/switchboard"
            env = {**_base_env(root, pooled), "DB_TRANSACTION_POOLING": "true"}
            processes = Processes(root, env)
            try:
                served = seed_portal(root, pooled, processes)
                start_web(served)
                start = (date.today() - timedelta(days=2)).isoformat()
                faces = [
                    (f"/api/v1/reports/calls/?environment=1&start_date={start}", served.api),
                    ("/api/v1/reports/calls/?environment=1&format=csv&table=agents", served.api),
                    ("/api/v1/environments/1/calls", served.api),
                    ("/o/acme/", served.browser), ("/o/acme/agents/", served.browser),
                    ("/o/acme/callbacks/", served.browser), ("/o/acme/calls/", served.browser),
                    ("/o/acme/calls/?format=csv", served.browser),
                    ("/o/acme/sync/", served.browser),
                ]
                statuses = {path: served.get(path, session).status_code
                            for path, session in faces}
                assert set(statuses.values()) == {200}, statuses
                served.manage("sync", "--org", "acme")  # a second, incremental run
                (runs,), = sql(direct, "SELECT count(*) FROM sync_syncrun WHERE status = "
                                       "'succeeded'")
                assert runs >= 2
                assert server_connections(direct) <= POOL_SIZE
            finally:
                processes.stop_all()
