"""Every gunicorn worker serves: keep-alive connections spread over the workers.

With one listening socket shared by the workers, the first worker to wake takes every
connection a client opens at once, and keep-alive holds them there: a load generator's 16
connections all landed on one worker of two, the other idle. With `reuse_port` each worker
listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new connections over
them by their addresses. The web process starts from the Procfile, 2 workers x 4 threads;
16 keep-alive connections are opened at once, each answered, and held; which worker holds
each is read from /proc (its socket's inode among the worker's descriptors).
"""
from __future__ import annotations

import http.client
import os
import threading
from pathlib import Path

import pytest

from tests.support.processes import (
    Processes,
    free_port,
    needs_services,
    procfile,
    production_env,
    scratch_redis,
    wait_for,
)

CONNECTIONS, WORKERS = 16, 2


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def established_inodes(port: int) -> set[int]:
    """Inodes of the server side of established TCP connections to `port` on loopback."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # ESTABLISHED
                inodes.add(int(fields[9]))
    return inodes


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


@pytest.mark.e2e
@needs_services
def test_keep_alive_connections_spread_over_every_worker(tmp_path):
    port = free_port()
    with scratch_redis() as redis_url:
        env = production_env(os.environ["DATABASE_URL"], redis_url, tmp_path,
                             BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(WORKERS),
                             WEB_THREADS="4")
        procs = Processes(tmp_path, env)
        try:
            web = procs.start("web", ["sh", "-c", "exec " + procfile()["web"]])
            workers = wait_for(lambda: len(children(web.pid)) == WORKERS
                               and children(web.pid), 60, "gunicorn's workers")

            def answered() -> bool:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                try:
                    probe.request("GET", "/healthz")
                    return probe.getresponse().status == 200
                finally:
                    probe.close()
            wait_for(answered, 60, "gunicorn to answer")
            wait_for(lambda: not established_inodes(port), 10, "the probe's socket to close")

            # Opened at once, as a load generator does, each answered and kept open.
            conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                     for _ in range(CONNECTIONS)]
            start = threading.Barrier(CONNECTIONS)
            statuses: list[int] = []

            def ask(conn: http.client.HTTPConnection) -> None:
                start.wait()
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                statuses.append(response.status)
            threads = [threading.Thread(target=ask, args=(c,)) for c in conns]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert statuses == [200] * CONNECTIONS

            held = wait_for(lambda: _held(port, workers), 10, "every connection held")
            print(f"connections per worker: {held}")
            # 16 connections hashed over 2 sockets all land on one with odds of 2 in 65,536.
            assert all(n >= 1 for n in held), held
            for conn in conns:
                conn.close()
        finally:
            procs.stop_all()


def _held(port: int, workers: list[int]) -> list[int] | None:
    """Connections each worker holds, once all CONNECTIONS are seen established."""
    established = established_inodes(port)
    held = [len(socket_inodes(pid) & established) for pid in workers]
    return held if sum(held) == CONNECTIONS else None
