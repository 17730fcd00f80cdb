"""gunicorn settings for the production run (`gunicorn portal.wsgi -c python:portal.gunicorn_conf`).

Every value can be overridden from the environment; the defaults suit I/O-bound report views
(threads wait on PostgreSQL), so raise WEB_CONCURRENCY with CPU cores rather than threads.
gunicorn's own lines go through the same structured logging as Django's.
"""
from __future__ import annotations

import os

from portal.logging import logging_config_from_env

bind = os.environ.get("BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
# Every worker serves (tests/e2e/test_web_workers_share.py): a worker holds at most
# WEB_WORKER_CONNECTIONS connections at once (gthread stops accepting at that many, and past that
# many less its threads it answers with "Connection: close" rather than keep one more idle), so a
# client's keep-alive connections opened at once fill one worker to the cap and the rest go to the
# next one. One listening socket shared by the workers lets that happen; with a socket of its own
# per worker (WEB_REUSE_PORT=true, SO_REUSEPORT) the kernel hashes each connection to one worker
# by its addresses (16 connections over 2 workers fall 12-4 or worse about one time in thirteen; a
# 56 % CPU spread was measured), and a connection hashed to a worker at its cap would wait for a
# slot there while the other idled: so with reuse_port no cap is set unless WEB_WORKER_CONNECTIONS
# says one. The default cap, twice the threads, is a worker's threads busy and as many connections
# waiting or kept alive behind them; beyond WEB_CONCURRENCY x that, a new connection waits in the
# listen backlog until one ends (an idle one is dropped after WEB_KEEPALIVE seconds, a busy one
# frees its slot as soon as the worker has its threads' worth kept alive). docs/operations.md,
# "Sizing web".
reuse_port = os.environ.get("WEB_REUSE_PORT", "false").lower() not in ("0", "false", "no")
worker_connections = int(os.environ.get("WEB_WORKER_CONNECTIONS")
                         or (1000 if reuse_port else 2 * threads))
keepalive = int(os.environ.get("WEB_KEEPALIVE", "2"))
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
# Fits inside the 5 s honcho gives every process after Ctrl-C before SIGKILL.
graceful_timeout = 4
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Several gunicorns may share a machine (and a home directory): no shared control socket.
control_socket_disable = True
# Requests are logged by portal.logging.RequestIdMiddleware, with their request id.
accesslog = None
logconfig_dict = logging_config_from_env()
