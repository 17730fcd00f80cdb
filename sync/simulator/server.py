"""The HTTP side: a ThreadingHTTPServer in a daemon thread speaking every vendor's API."""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

from .api import Host, internal_error, respond
from .plugins import plugins

log = logging.getLogger(__name__)


class LoggedRequest(NamedTuple):
    """One served request; ``env`` is the environment of the bearer token, if known; ``at``
    the wall-clock time it arrived (per-token rates are counted from it)."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    env: str | None
    at: float = 0.0


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    simulator: Host
    owner: SimulatorServer


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive (clients reuse one connection) and no Nagle delay between header and body.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer
    server_version = "SwitchboardSimulator/1.0"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, False)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        arrived = time.time()
        body = b""
        if method != "GET":
            # A body is read only up to 1 MB (webhook registration); the connection closes.
            self.close_connection = True
            try:
                length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
            except ValueError:
                length = 0
            body = self.rfile.read(length) if length > 0 else b""
        url = urlsplit(self.path)
        try:
            resp = respond(self.server.simulator, method, url.path, url.query,
                           self.headers.get("Authorization"), body)
        except Exception:  # a simulator bug must look like an upstream 500, not hang
            log.exception("simulator failed on %s %s", method, self.path)
            resp = internal_error()
        # Logged before answering, so a client that got its answer finds it in the log.
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        entry = LoggedRequest(method, url.path, query, resp.status, resp.env, arrived)
        self.server.owner._record(entry)
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for name, value in resp.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(resp.body)
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # the request log replaces stderr lines


class SimulatorServer:
    """A running simulator endpoint; stop it (or use it as a context manager) when done."""

    def __init__(self, simulator: Host, host: str = "127.0.0.1", port: int = 0,
                 log_size: int = 10_000) -> None:
        self.simulator = simulator
        self._log: deque[LoggedRequest] = deque(maxlen=log_size)
        self._count = 0
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.simulator = simulator
        self._httpd.owner = self
        self.host, self.port = self._httpd.server_address[:2]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name=f"simulator:{self.port}", daemon=True)
        self._thread.start()
        self._stopped = False

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in str(self.host) else self.host
        return f"http://{host}:{self.port}"

    def url_of(self, vendor: str) -> str:
        """The base URL a client of this vendor is given (its plug-in's `base_path`)."""
        return self.base_url + plugins()[vendor].base_path

    def __getattr__(self, name: str) -> str:
        # `server.<vendor>_url`: `url_of(vendor)`.
        vendor = name.removesuffix("_url")
        if name.endswith("_url") and vendor in plugins():
            return self.url_of(vendor)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def request_log(self) -> list[LoggedRequest]:
        """The most recent requests (bounded), oldest first."""
        with self._lock:
            return list(self._log)

    @property
    def request_count(self) -> int:
        with self._lock:
            return self._count

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()
            self._count = 0

    def _record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._log.append(entry)
            self._count += 1

    def _track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            if alive:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def stop(self) -> None:
        """Stop serving, close kept-alive connections, join the thread. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
