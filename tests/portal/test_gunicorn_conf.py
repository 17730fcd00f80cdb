"""What portal/gunicorn_conf.py sets from the environment: every worker serves.

A worker holds at most twice its threads' connections by default, on one socket shared by
the workers, so a client's keep-alive connections opened at once are split over them (the
processes themselves: tests/e2e/test_web_workers_share.py). With a socket per worker
(`reuse_port`) a cap would strand a connection the kernel hashed to a full worker, so none is
set unless asked for.
"""
from __future__ import annotations

import importlib

import pytest

from portal import gunicorn_conf


def settings(monkeypatch, **env: str):
    for name in ("WEB_CONCURRENCY", "WEB_THREADS", "WEB_REUSE_PORT", "WEB_WORKER_CONNECTIONS",
                 "WEB_KEEPALIVE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return importlib.reload(gunicorn_conf)


@pytest.fixture(autouse=True)
def _restore(monkeypatch):
    yield
    monkeypatch.undo()
    importlib.reload(gunicorn_conf)


def test_the_defaults_cap_each_worker_at_twice_its_threads_on_one_shared_socket(monkeypatch):
    conf = settings(monkeypatch)
    assert (conf.workers, conf.threads, conf.worker_class) == (2, 4, "gthread")
    assert conf.reuse_port is False
    assert conf.worker_connections == 8
    assert conf.keepalive == 2


def test_the_cap_follows_the_threads_and_can_be_set(monkeypatch):
    assert settings(monkeypatch, WEB_THREADS="6").worker_connections == 12
    assert settings(monkeypatch, WEB_WORKER_CONNECTIONS="20").worker_connections == 20


def test_a_socket_per_worker_sets_no_cap_unless_asked(monkeypatch):
    conf = settings(monkeypatch, WEB_REUSE_PORT="true")
    assert conf.reuse_port is True and conf.worker_connections == 1000  # gunicorn's own
    conf = settings(monkeypatch, WEB_REUSE_PORT="true", WEB_WORKER_CONNECTIONS="8")
    assert conf.worker_connections == 8
