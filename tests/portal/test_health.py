"""GET /healthz and /readyz: no authentication, per-part state, 503 when a part is down."""
from __future__ import annotations

import pytest
from django.test import override_settings

from portal.celery import app as celery_app

SECRET = "s3cret-broker-pw"


def _clients(client, django_user_model, cast):
    yield "anonymous", client
    for name in ("alice", "bob", "carol"):
        client.force_login(cast[name])
        yield name, client
        client.logout()


@pytest.mark.django_db
def test_healthz_answers_everyone_without_touching_services(client, cast, django_user_model):
    for who, c in _clients(client, django_user_model, cast):
        response = c.get("/healthz")
        assert response.status_code == 200, who
        assert response.json() == {"status": "ok"}
        assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_reports_each_part(client, cast, django_user_model):
    for who, c in _clients(client, django_user_model, cast):
        response = c.get("/readyz")
        assert response.status_code == 200, (who, response.content)
        body = response.json()
        assert body["status"] == "ok"
        assert set(body["checks"]) == {"database", "cache", "broker"}
        assert all(part["ok"] for part in body["checks"].values())
        expected = "in-process" if celery_app.conf.task_always_eager else "ok"
        assert body["checks"]["broker"]["detail"] == expected


@pytest.fixture
def dead_broker():
    saved = {k: celery_app.conf[k] for k in ("task_always_eager", "broker_url")}
    celery_app.conf.update(task_always_eager=False,
                           broker_url=f"redis://:{SECRET}@127.0.0.1:1/0")
    yield
    celery_app.conf.update(saved)


@pytest.mark.django_db
def test_readyz_is_503_when_the_broker_is_down_and_leaks_no_secret(client, dead_broker):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]  # the exception class, nothing more
    assert body["checks"]["database"]["ok"] is True
    assert SECRET not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_is_503_when_the_cache_is_down(client):
    dead = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://:{SECRET}@127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }}
    with override_settings(CACHES=dead):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == {
        "ok": False, "error": "ConnectionError", "ms": response.json()["checks"]["cache"]["ms"]}
    assert SECRET not in response.content.decode()


@pytest.mark.django_db
def test_probes_answer_unknown_hosts_and_plain_http_behind_tls(client):
    # Orchestrators probe the pod IP over plain HTTP: no 400 for the host, no HTTPS redirect.
    with override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["portal.example.com"]):
        assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
        assert client.get("/readyz", HTTP_HOST="10.1.2.3:8000").status_code == 200
        assert client.get("/", HTTP_HOST="10.1.2.3:8000").status_code == 400
        assert client.get("/", HTTP_HOST="portal.example.com").status_code == 301


@pytest.mark.django_db
def test_probe_paths_reverse_to_the_same_views(client):
    from django.urls import reverse

    assert reverse("healthz") == "/healthz"
    assert reverse("readyz") == "/readyz"
    assert client.head("/healthz").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_readyz_is_503_when_the_database_is_down(client):
    from django.db import connection

    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(PORT="1", PASSWORD=SECRET)
    try:
        response = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is False and checks["database"]["error"]
    assert checks["broker"]["ok"] is True, "only the database is down"
    assert SECRET not in response.content.decode()
