"""Worker "hosts" for the fleet test and benchmark: Linux network namespaces on one bridge.

Each host is a network namespace (`ip netns`) with its own loopback and one veth leg on a
bridge in the root namespace; the bridge's address is the hosts' gateway. Processes started
through `Hosts.wrap(i, args)` run inside host i, so they reach PostgreSQL, Redis and the
simulator only over that link, as separate machines would: nothing they do can use the
other hosts' loopback. The shared PostgreSQL and Redis listen on 127.0.0.1 only (and may not
be reconfigured), so a small TCP forwarder (`python -m tests.support.fleet_net forward …`, run in
the root namespace) listens on the gateway and relays to them.

Namespaces need root (CAP_NET_ADMIN) and the `ip` tool. Without them, if any step fails, or
with FLEET_PLAIN_PROCESSES set, `fleet_hosts` falls back to plain processes on 127.0.0.1 and
says why (`Hosts.why`): the
processes are still separate (their own PIDs, pools, connections, one killed alone), they
only share the loopback.
"""
from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Hosts:
    """`count` hosts; `gateway` is the address they reach the services on."""

    count: int
    gateway: str = "127.0.0.1"
    namespaces: list[str] = field(default_factory=list)
    why: str = ""

    @property
    def isolated(self) -> bool:
        return bool(self.namespaces)

    def wrap(self, host: int, args: list[str]) -> list[str]:
        """`args` run inside host `host` (0-based)."""
        if not self.namespaces:
            return args
        return ["ip", "netns", "exec", self.namespaces[host], *args]

    def service_url(self, url: str) -> str:
        """`url` (postgres://…@127.0.0.1:5432/…, redis://127.0.0.1:6379/…) as a host sees it."""
        return url.replace("127.0.0.1", self.gateway).replace("localhost", self.gateway)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=20)


def _free_subnet(tag: int) -> ipaddress.IPv4Network:
    """A /24 in 10.229.0.0/16 that no interface here uses."""
    used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True,
                          timeout=10).stdout
    for third in [tag % 250, *range(250)]:
        net = ipaddress.IPv4Network(f"10.229.{third}.0/24")
        if f" 10.229.{third}." not in used:
            return net
    raise RuntimeError("no free 10.229.x.0/24 subnet")


def _can_reach(hosts: Hosts, host: int, ports: list[int]) -> bool:
    code = (f"import socket\nfor p in {ports!r}: "
            f"socket.create_connection(({hosts.gateway!r}, p), 2).close()")
    return subprocess.run(hosts.wrap(host, [sys.executable, "-c", code]),
                          capture_output=True, timeout=20).returncode == 0


def _teardown(prefix: str, count: int) -> None:
    for i in range(count):
        subprocess.run(["ip", "link", "del", f"{prefix}v{i}"], capture_output=True, timeout=20)
        subprocess.run(["ip", "netns", "del", f"{prefix}h{i}"], capture_output=True, timeout=20)
    subprocess.run(["ip", "link", "del", prefix], capture_output=True, timeout=20)


def _build(prefix: str, count: int) -> Hosts:
    net = _free_subnet(os.getpid())
    gateway = str(net.network_address + 1)
    _ip("link", "add", "name", prefix, "type", "bridge")
    _ip("addr", "add", f"{gateway}/24", "dev", prefix)
    _ip("link", "set", prefix, "up")
    hosts = Hosts(count, gateway)
    for i in range(count):
        ns, leg, peer = f"{prefix}h{i}", f"{prefix}v{i}", f"{prefix}p{i}"
        _ip("netns", "add", ns)
        hosts.namespaces.append(ns)
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("link", "add", leg, "type", "veth", "peer", "name", peer)
        _ip("link", "set", peer, "netns", ns)
        _ip("link", "set", leg, "master", prefix)
        _ip("link", "set", leg, "up")
        _ip("-n", ns, "addr", "add", f"{net.network_address + 2 + i}/24", "dev", peer)
        _ip("-n", ns, "link", "set", peer, "up")
    return hosts


@contextmanager
def fleet_hosts(count: int, ports: dict[int, int]) -> Iterator[Hosts]:
    """`count` hosts; `ports` maps a gateway port to the 127.0.0.1 port it relays to."""
    prefix = f"sbf{os.getpid() % 10_000_000}"
    hosts: Hosts | None = None
    why = ""
    if os.environ.get("FLEET_PLAIN_PROCESSES"):
        why = "FLEET_PLAIN_PROCESSES is set"
    elif os.geteuid() != 0 or shutil.which("ip") is None:
        why = "network namespaces need root and the ip tool"
    else:
        try:
            hosts = _build(prefix, count)
        except (subprocess.SubprocessError, OSError, RuntimeError) as exc:
            why = f"could not build network namespaces ({exc})"
            _teardown(prefix, count)
            hosts = None
    if hosts is None:
        yield Hosts(count, why=f"plain processes on 127.0.0.1: {why}")
        return
    pairs = [f"{hosts.gateway}:{port}={target}" for port, target in ports.items()]
    relay = subprocess.Popen([sys.executable, "-m", "tests.support.fleet_net", "forward", *pairs],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        for i in range(count):
            while not _can_reach(hosts, i, list(ports)):
                if time.monotonic() > deadline or relay.poll() is not None:
                    raise RuntimeError(f"host {i} cannot reach the gateway")
                time.sleep(0.2)
        yield hosts
    finally:
        relay.kill()
        relay.wait(10)
        _teardown(prefix, count)


# --- the forwarder ----------------------------------------------------------------------------

async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def _forward(pairs: list[str]) -> None:
    servers = []
    for pair in pairs:
        listen, target = pair.split("=")
        host, port = listen.rsplit(":", 1)

        async def relay(reader, writer, target_port=int(target)):
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
            except OSError:
                writer.close()
                return
            for side in (writer, up_writer):  # PostgreSQL and Redis talk in small packets
                side.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP,
                                                         socket.TCP_NODELAY, 1)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

        servers.append(await asyncio.start_server(relay, host, int(port), reuse_address=True))
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    if sys.argv[1:2] != ["forward"]:
        sys.exit("usage: python -m tests.support.fleet_net forward HOST:PORT=TARGET_PORT ...")
    asyncio.run(_forward(sys.argv[2:]))
