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
# Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
# connections over them: with one shared socket the first worker to wake took every
# keep-alive connection a client opened at once, and the others idled
# (tests/e2e/test_web_workers_share.py). WEB_REUSE_PORT=false shares one socket again (a
# kernel without SO_REUSEPORT is served that way anyway). Another gunicorn of the same user
# bound to the same address joins the group instead of failing: stop the old one first.
reuse_port = os.environ.get("WEB_REUSE_PORT", "true").lower() not in ("0", "false", "no")
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
# Fits inside the 5 s honcho gives every process after Ctrl-C before SIGKILL.
graceful_timeout = 4
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Several gunicorns may share a machine (and a home directory): no shared control socket.
control_socket_disable = True
# Requests are logged by portal.logging.RequestIdMiddleware, with their request id.
accesslog = None
logconfig_dict = logging_config_from_env()
