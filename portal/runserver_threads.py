"""`runserver` closes each request's database connections when the request's thread ends.

`runserver` (and `make demo`, which serves through it) handles every request on a thread of
its own (socketserver's ThreadingMixIn), which ends with the request. Django keeps a thread's
connections `CONN_MAX_AGE` (60 s) for that thread's next request — which never comes — and the
connection object, caught in reference cycles, is closed only when the cyclic garbage
collector happens to run: a runserver process held 24 idle PostgreSQL connections after eight
clients' 192 requests, and four such processes could fill a server's 100. Django's own
threaded test server closes a request thread's connections as it ends; `runserver` gets the
same here, so it holds no more connections than the requests in flight (docs/operations.md,
"Connections"). gunicorn's threads are a fixed pool and keep theirs, as they should.
"""
from __future__ import annotations

from django.core.servers.basehttp import WSGIServer
from django.db import connections


class ConnectionClosingWSGIServer(WSGIServer):
    """runserver's server: a request thread's connections are closed when it ends."""

    def close_request(self, request) -> None:
        connections.close_all()  # runs on the request's own thread, as it ends
        super().close_request(request)


def use_for_runserver() -> None:
    """Make `runserver` (Django's, and staticfiles' which extends it) serve with it."""
    from django.core.management.commands import runserver

    runserver.Command.server_cls = ConnectionClosingWSGIServer
