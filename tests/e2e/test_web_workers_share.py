"""Every gunicorn worker serves: keep-alive connections spread over the workers.

With one listening socket shared by the workers and no cap, the first worker to wake takes
every connection a client opens at once, and keep-alive holds them there: a load generator's
16 connections all landed on one worker of two, the other idle. A socket per worker
(`reuse_port`) spreads them by a hash of their addresses: 12-4 or worse one time in thirteen.
So each worker holds at most WEB_WORKER_CONNECTIONS (twice its threads by default) and stops
accepting there: the next connections go to another worker (portal/gunicorn_conf.py). The
web process starts from the Procfile, 2 workers x 4 threads; 16 keep-alive connections are
opened at once, each answered, and the ones kept open are counted per worker from /proc (its
socket's inode among the worker's descriptors): each worker holds some, none more than the
cap. The keep-alive timeout is raised so that none is dropped for idling before it is counted
on a slow machine.
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
CAP = 8  # WEB_WORKER_CONNECTIONS's default at 4 threads


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
                             WEB_THREADS="4", WEB_KEEPALIVE="60")
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

            # Opened at once, as a load generator does; one the server closes (a worker at its
            # idle limit answers `Connection: close`) is opened again, as a load generator
            # does, for a few rounds: on a busy machine one worker may answer a whole round.
            conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                     for _ in range(CONNECTIONS)]
            held = None
            for _round in range(20):
                _ask_at_once(conns)
                held = wait_for(lambda: _held(port, workers), 10, "the kept connections")
                if all(held):
                    break
                conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                         if conn.sock is None else conn for conn in conns]
            print(f"connections per worker: {held}")
            # Without the cap one worker held all 16; with it neither holds more than 8.
            assert all(1 <= n <= CAP for n in held), held
            for conn in conns:
                conn.close()
        finally:
            procs.stop_all()


def _ask_at_once(conns: list[http.client.HTTPConnection]) -> None:
    """One request on each connection, all at once; a connection the server closes after
    its answer is closed here too (`sock` None)."""
    start = threading.Barrier(len(conns))
    statuses: list[int] = []

    def ask(conn: http.client.HTTPConnection) -> None:
        start.wait()
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        statuses.append(response.status)
        if response.will_close:
            conn.close()
    threads = [threading.Thread(target=ask, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [200] * len(conns)


def _held(port: int, workers: list[int]) -> list[int] | None:
    """Connections each worker holds, once every connection is either held or closed."""
    established = established_inodes(port)
    held = [len(socket_inodes(pid) & established) for pid in workers]
    return held if sum(held) == len(established) and sum(held) else None
