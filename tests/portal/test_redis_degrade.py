"""A sick Redis degrades the site, it never hangs it.

gunicorn serves the test database with a redis-server of its own as cache and broker; the
test freezes that Redis (SIGSTOP: connections open, nothing answers) and then kills it, and
checks each time: `/healthz` answers at once, `/readyz` answers 503 naming the parts that did
not answer within 5 s (also under a burst of probes), login, the dashboard and the REST API
answer 200 within a few seconds (report cache skipped, throttle open with a log line), and
"sync now" in the portal and the admin says the sync could not be queued.
"""
from __future__ import annotations

import re
import shutil
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.test import Client

from portal.models import ApiToken
from tests.support.processes import BIN, Processes, free_port, procfile, redis_server, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

PASSWORD = "alice-live-pw-123"
# Seconds a gunicorn thread skips optional cache calls after a failure (portal/redis_guard.py).
RETRY_AFTER = 3


@contextmanager
def web(tmp_path, subprocess_env: dict[str, str],
        redis_port: int) -> Iterator[tuple[str, Processes]]:
    port = free_port()
    env = {**subprocess_env, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1", "WEB_THREADS": "4",
           "REDIS_RETRY_AFTER_SECONDS": str(RETRY_AFTER), "PYTHONUNBUFFERED": "1",
           "PATH": f"{BIN}:{subprocess_env.get('PATH', '')}"}
    procs = Processes(tmp_path, env)
    procs.start("web", ["sh", "-c", procfile()["web"]])
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{base}/readyz", timeout=5).ok, 60, "gunicorn ready")
        yield base, procs
    finally:
        procs.stop_all()


def timed(call, *args, **kwargs) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call(*args, timeout=30, **kwargs)
    return response, time.monotonic() - started


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


def log_in(base: str) -> tuple[requests.Session, float]:
    session = requests.Session()
    form = session.get(f"{base}/accounts/login/", timeout=30)
    started = time.monotonic()
    answer = session.post(f"{base}/accounts/login/", timeout=30, data={
        "username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": csrf_from(form.text)})
    took = time.monotonic() - started
    assert answer.status_code == 200 and "sessionid" in session.cookies, answer.status_code
    return session, took


def admin_session(base: str, django_user_model) -> requests.Session:
    root = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    client = Client()
    client.force_login(root)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    return session


def sync_now_in_portal(base: str, session: requests.Session, env_id: int):
    page = session.get(f"{base}/o/org-a/sync/", timeout=30)
    assert page.status_code == 200
    return timed(session.post, f"{base}/o/org-a/sync/{env_id}/now/",
                 data={"csrfmiddlewaretoken": csrf_from(page.text)})


def sync_now_in_admin(base: str, session: requests.Session, env_id: int):
    url = f"{base}/admin/portal/environment/"
    page = session.get(url, timeout=30)
    assert page.status_code == 200, page.status_code
    return timed(session.post, url, data={
        "csrfmiddlewaretoken": csrf_from(page.text), "action": "sync_now",
        "_selected_action": str(env_id), "index": "0"})


def assert_degraded(base: str, procs: Processes, api_token: str, env_id: int,
                    portal: requests.Session, admin: requests.Session, state: str) -> None:
    """Everything a user and a probe do, with Redis frozen or down (`state`)."""
    response, took = timed(requests.get, f"{base}/healthz")
    assert response.status_code == 200 and took < 1, (state, took)

    response, took = timed(requests.get, f"{base}/readyz")
    assert response.status_code == 503 and took < 5, (state, took)
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True, (state, checks)
    assert checks["cache"]["ok"] is False and checks["broker"]["ok"] is False, (state, checks)

    response, took = timed(portal.get, f"{base}/o/org-a/")
    assert response.status_code == 200 and took < 4, (state, response.status_code, took)
    assert "cache unavailable in " in procs.log("web"), state

    bearer = {"Authorization": f"Bearer {api_token}"}
    response, took = timed(requests.get, f"{base}/api/v1/environments/", headers=bearer)
    assert response.status_code == 200 and took < 4, (state, response.status_code, took)
    assert env_id in [e["id"] for e in response.json()["results"]]
    assert "throttle api unavailable" in procs.log("web"), state

    # Logging in reads and writes only the database (django-axes' database handler).
    _, took = log_in(base)
    assert took < 4, (state, took)

    response, took = sync_now_in_portal(base, portal, env_id)
    assert response.status_code == 200 and took < 4, (state, response.status_code, took)
    assert "The sync could not be queued; try again in a minute." in response.text, state

    response, took = sync_now_in_admin(base, admin, env_id)
    assert response.status_code == 200 and took < 4, (state, response.status_code, took)
    assert "Sync could not be queued: the task queue is not answering." in response.text, state

    # A burst of probes against the sick Redis neither hangs them nor starves /healthz.
    with ThreadPoolExecutor(10) as pool:
        probes = [pool.submit(timed, requests.get, f"{base}/readyz") for _ in range(10)]
        time.sleep(0.3)
        response, took = timed(requests.get, f"{base}/healthz")
        assert response.status_code == 200 and took < 5, (state, took)
        answers = [probe.result() for probe in probes]
    assert {r.status_code for r, _ in answers} == {503}, state
    assert max(t for _, t in answers) < 15, (state, [round(t, 1) for _, t in answers])


def test_a_frozen_then_dead_redis_degrades_the_site(
        tmp_path, subprocess_env, alice, env_a, django_user_model):
    alice.password = make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    alice.save(update_fields=["password"])
    _, api_token = ApiToken.issue(alice, name="degrade")
    admin = None
    redis_port = free_port()
    with redis_server(redis_port) as redis, web(tmp_path, subprocess_env, redis_port) as (
            base, procs):
        portal, _ = log_in(base)
        admin = admin_session(base, django_user_model)
        # Healthy: the same requests succeed, and "sync now" is queued.
        assert requests.get(f"{base}/readyz", timeout=10).status_code == 200
        response, _ = sync_now_in_portal(base, portal, env_a.pk)
        assert "queued" in response.text and "could not" not in response.text
        response, _ = sync_now_in_admin(base, admin, env_a.pk)
        assert "queued for 1 environment." in response.text, response.text[-2000:]
        assert portal.get(f"{base}/o/org-a/", timeout=30).status_code == 200

        redis.send_signal(signal.SIGSTOP)
        try:
            assert_degraded(base, procs, api_token, env_a.pk, portal, admin, "frozen")
        finally:
            redis.send_signal(signal.SIGCONT)

        # Back: after the skip interval the cache and the queue are used again.
        time.sleep(RETRY_AFTER + 0.5)
        wait_for(lambda: requests.get(f"{base}/readyz", timeout=10).status_code == 200, 20,
                 "ready again once Redis answers")

        redis.kill()
        redis.wait(timeout=10)
        assert_degraded(base, procs, api_token, env_a.pk, portal, admin, "down")

        # A new Redis on the same address: pooled connections to the dead one are replaced,
        # and the very first "sync now" is queued again (no retry is needed for that).
        with redis_server(redis_port):
            time.sleep(RETRY_AFTER + 0.5)
            wait_for(lambda: requests.get(f"{base}/readyz", timeout=10).status_code == 200,
                     20, "ready again with a new Redis")
            response, _ = sync_now_in_portal(base, portal, env_a.pk)
            assert "queued" in response.text and "could not" not in response.text
            response, _ = sync_now_in_admin(base, admin, env_a.pk)
            assert "Sync queued for 1 environment." in response.text
    assert "Traceback" not in procs.log("web")



def use_redis_cache(settings, port: int) -> None:
    """The cache of this process: the test's own redis-server on `port`."""
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/0", "OPTIONS": settings.REDIS_CLIENT_OPTIONS}}


def test_a_frozen_cache_costs_one_timeout_then_is_skipped(settings, org_a, env_a, caplog):
    """In process: the report cache waits on a frozen Redis once, then skips it."""
    from django.core.cache import caches

    from reports.cache import cached_report

    port = free_port()
    with redis_server(port) as redis:
        use_redis_cache(settings, port)
        settings.REDIS_RETRY_AFTER_SECONDS = 30
        try:
            assert cached_report("t", [env_a], {}, lambda: 1) == 1
            assert cached_report("t", [env_a], {}, lambda: 2) == 1  # cached
            redis.send_signal(signal.SIGSTOP)
            started = time.monotonic()
            assert cached_report("t", [env_a], {}, lambda: 3) == 3
            first = time.monotonic() - started
            started = time.monotonic()
            assert cached_report("t", [env_a], {}, lambda: 4) == 4
            second = time.monotonic() - started
        finally:
            redis.send_signal(signal.SIGCONT)
            caches["default"].close()
    assert 1.5 < first < 3, first  # one 2 s read timeout, no retry
    assert second < 0.1, second
    assert sum("cache unavailable in report cache" in r.getMessage()
               for r in caplog.records) == 1


# --- Every API endpoint with Redis down or frozen -----------------------

def _api_urls(cast) -> list[str]:
    """Every /api/ pattern of the resolver with org A's ids, and the query a report needs to
    reach its cache (a pattern added later is walked too)."""
    from tests.support.routes import all_routes, concrete

    today = date.today()
    queries = {"report": f"?environment={cast.env_a.pk}",
               "talkover": f"?start_date={today - timedelta(days=6)}&end_date={today}"}
    return [concrete(cast, r) + queries.get((r.name or "").partition("-")[0], "")
            for r in all_routes() if r.path.startswith("api/")]


def _walk(client: Client, urls: list[str]) -> tuple[list, float]:
    """(answers that are a 5xx other than the documented 503, slowest answer in seconds)."""
    bad, slowest = [], 0.0
    for url in urls:
        for method in ("get", "post"):
            started = time.monotonic()
            response = getattr(client, method)(url, content_type="application/json",
                                               **({"data": {}} if method == "post" else {}))
            slowest = max(slowest, time.monotonic() - started)
            if response.status_code >= 500 and response.status_code != 503:
                bad.append((method, url, response.status_code))
    return bad, slowest




@pytest.mark.django_db  # in process: no subprocess reads the test data, no flush needed
def test_every_api_endpoint_answers_without_redis(rich_world, settings):
    """Frozen (one 2 s timeout, then skipped), then killed (connection refused on every call,
    nothing skipped): no 5xx on any API endpoint, read or write, none slower than 4 s."""
    from django.core.cache import caches

    from portal import redis_guard

    client = rich_world.client("alice")
    urls = _api_urls(rich_world)
    port = free_port()
    with redis_server(port) as redis:
        use_redis_cache(settings, port)
        settings.REDIS_RETRY_AFTER_SECONDS = 300
        redis_guard.reset()
        try:
            redis.send_signal(signal.SIGSTOP)
            try:
                frozen = _walk(client, urls)
            finally:
                redis.send_signal(signal.SIGCONT)
            redis.kill()
            redis.wait(timeout=10)
            settings.REDIS_RETRY_AFTER_SECONDS = 0  # every optional call meets the dead Redis
            redis_guard.reset()
            down = _walk(client, urls)
        finally:
            caches["default"].close()
            redis_guard.reset()
    assert frozen[0] == [] and frozen[1] < 4, frozen
    assert down[0] == [] and down[1] < 4, down


# Modules that may touch Django's cache themselves; everything else goes through the guard.
CACHE_DOORS = {
    "portal/redis_guard.py": "the guard: optional reads and writes",
    "portal/throttling.py": "atomic counters, guarded by hand (fail open)",
    "portal/health.py": "the readiness check must see the failure",
    "sync/locks.py": "not optional: a sync that loses its lock fails",
    "sync/budget.py": "not optional: a sync that loses its budget fails",
    "sync/webhooks/receiver.py": "replayed deliveries: a failure answers 503, the "
                                "schedule picks the change up",
    "sync/webhooks/coalesce.py": "the coalescing marks (the receiver's and sync.webhook_sync's):"
                                 " a failure answers 503 or fails that run, the schedule picks "
                                 "the change up",
    "sync/webhooks/hints.py": "what deliveries named, inside the receiver's and the webhook "
                              "run's guarded calls (503 / a failed run)",
    "sync/webhooks/pacing.py": "when the next webhook round may start: a failure fails that "
                               "run, the schedule picks the change up",
    "sync/webhooks/rejections.py": "refused deliveries for the sync page: its atomic "
                                   "counter, through redis_guard.optional (skipped when sick)",
}


@pytest.mark.django_db  # reads source files only: no flush
def test_the_guard_is_the_only_door_to_the_cache():
    from django.conf import settings

    found = set()
    for app in ("portal", "sync", "reports"):
        for path in (settings.BASE_DIR / app).rglob("*.py"):
            text = path.read_text()
            if re.search(r"django\.core\.cache\b(?!\.backends)|\bcaches\[", text):
                found.add(str(path.relative_to(settings.BASE_DIR)))
    assert found == set(CACHE_DOORS), found
