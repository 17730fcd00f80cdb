"""A tiny real HTTP server that can misbehave at any byte (raw sockets on a free port).

Hostile-upstream tests (the sync's transport, the outbound door of webhooks) answer each
request with a function of (server, path, socket): a body that never ends, drips, inflates.
"""
from __future__ import annotations

import socket
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Received:
    """One request as it arrived: its request line's method and target, headers, body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Hostile:
    """A listening socket whose every request is answered by `self.answer(path, sock)`.

    `requests` lists the paths asked for, `received` the whole requests."""

    def __init__(self, answer: Callable[[str, socket.socket], None]) -> None:
        self.answer, self.requests = answer, []
        self.received: list[Received] = []
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                more = conn.recv(4096)
                if not more:
                    return
                head += more
            method, path = (part.decode() for part in head.split(b" ", 2)[:2])
            head, _, body = head.partition(b"\r\n\r\n")
            fields = (line.decode().partition(":") for line in head.split(b"\r\n")[1:])
            headers = {name.strip().lower(): value.strip() for name, _, value in fields}
            length = int(headers.get("content-length", 0))
            while len(body) < length:  # read a request's body (a POST), so closing is clean
                more = conn.recv(65536)
                if not more:
                    return
                body += more
            self.requests.append(path)
            self.received.append(Received(method, path, headers, body))
            try:
                self.answer(path, conn)
            except OSError:
                pass  # the client hung up (its deadline): that is the point

    def wait(self, seconds: float) -> bool:
        """Sleep unless stopping; False once stopped."""
        return not self.stop.wait(seconds)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@contextmanager
def hostile(answer: Callable[[Hostile, str, socket.socket], None]) -> Iterator[Hostile]:
    server = Hostile(lambda path, conn: answer(server, path, conn))
    try:
        yield server
    finally:
        server.close()


def head(status: str = "200 OK", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json", "Connection: close",
             *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def deflated(data: bytes) -> bytes:
    """`data` as deflate blocks that stand alone (a full flush): such pieces concatenate."""
    packer = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush(zlib.Z_FULL_FLUSH)


MIB_OF_SPACES = deflated(b" " * 1024 * 1024)  # about 1 kB: a thousandfold
