"""Brute force: logins lock the (account, address) pair and only slow the account from
elsewhere, so a password spray cannot lock its owner out; an address is
locked after many different usernames fail from it; password resets are limited, bad bearer
tokens are throttled per IP without refusing valid ones, and the API throttle holds under 16
concurrent threads (atomic in Redis, open if Redis is down — with a log line)."""
from __future__ import annotations

import os
import statistics
import threading
import time
from datetime import timedelta

import pytest
import requests
import time_machine
from django.core import mail
from django.utils import timezone

from portal.models import ApiToken

WRONG = "not-the-password"
# Short, so the attempts the spray below times cost a fraction of a second each.
SLOWDOWN = 0.1
# The reset's floor, set by the one test that times it: the others would only sleep.
RESET_FLOOR = 0.3


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.PASSWORD_RESET_MIN_SECONDS = 0
    settings.PASSWORD_RESET_RATE = "5/hour"
    settings.API_INVALID_TOKEN_RATE = "20/minute"
    settings.LOGIN_ADDRESS_USERNAME_LIMIT = 20
    settings.LOGIN_SLOWDOWN_SECONDS = SLOWDOWN


def _login(client, url: str, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_login_locks_the_account_at_that_address_after_repeated_failures(client, alice, url,
                                                                         caplog):
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    for _ in range(4):
        assert _login(client, url, "alice", WRONG, ip="10.0.1.1").status_code == 200
    fifth = _login(client, url, "alice", WRONG, ip="10.0.1.1")
    assert fifth.status_code == 429  # the failure that reaches the limit says so at once
    locked = _login(client, url, "alice", "alice-pw-123", ip="10.0.1.1")
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "Signing in is locked after 5 failed attempts" in body
    assert "Try again in 15 minutes" in body
    assert "_auth_user_id" not in client.session
    assert any("login locked out" in r.getMessage() and "alice" in r.getMessage()
               for r in caplog.records)


def test_a_password_spray_cannot_lock_the_victim_out_elsewhere(client, alice, bob,
                                                               monkeypatch):
    from portal.auth import lockout

    # Every wait is counted; only the attempts `login` times below really sleep (the spray's
    # fifty-five would add five seconds of sleep and check nothing more).
    waits: list[float] = []
    timed = False
    real_wait = lockout.wait
    monkeypatch.setattr(lockout, "wait",
                        lambda s: (waits.append(s), real_wait(s) if timed else None))

    def login(username: str, password: str, ip: str) -> tuple[int, int, float]:
        """(status, waits, seconds) of one sign-in attempt."""
        nonlocal timed
        before, started, timed = len(waits), time.monotonic(), True
        status = _login(client, "/accounts/login/", username, password, ip=ip).status_code
        client.logout()
        timed = False
        return status, len(waits) - before, time.monotonic() - started

    assert login("alice", "alice-pw-123", "10.7.7.7")[:2] == (302, 0), "no failure: no wait"
    # Sprayed from twelve addresses, five wrong passwords each: every one of them is locked.
    sprayed = len(waits)
    for n in range(12):
        for _ in range(5):
            _login(client, "/accounts/login/", "alice", WRONG, ip=f"10.66.0.{n}")
    # From her fifth failure in all (the limit), each attempt waits, right or wrong alike.
    assert len(waits) - sprayed == 12 * 5 - 5
    assert _login(client, "/accounts/login/", "alice", "alice-pw-123", ip="10.66.0.3"
                  ).status_code == 429
    # Her own address still signs her in, slowed; a wrong guess from another waits as long.
    status, slowed, took = login("alice", "alice-pw-123", "10.7.7.7")
    assert (status, slowed) == (302, 1) and took >= SLOWDOWN
    status, slowed, took = login("alice", WRONG, "10.7.7.8")
    assert (status, slowed) == (200, 1) and took >= SLOWDOWN
    assert login("bob", "bob-pw-123", "10.7.7.7")[:2] == (302, 0), "nobody else is slowed"


def test_wrong_passwords_from_a_shared_address_lock_only_that_account(client, alice, bob):
    """Five wrong passwords for alice from a proxy address lock alice, not bob behind it."""
    for _ in range(5):
        _login(client, "/accounts/login/", "alice", WRONG, ip="10.9.9.9")
    assert _login(client, "/accounts/login/", "alice", "alice-pw-123", ip="10.9.9.9"
                  ).status_code == 429
    assert _login(client, "/accounts/login/", "bob", "bob-pw-123", ip="10.9.9.9").status_code \
        == 302


def test_login_locks_the_address_after_many_usernames_fail_from_it(client, alice, bob, caplog):
    for n in range(19):
        _login(client, "/accounts/login/", f"nobody{n}", WRONG, ip="10.9.9.7")
    client.logout()
    # Nineteen different usernames: still open for a correct password (a busy proxy).
    assert _login(client, "/accounts/login/", "bob", "bob-pw-123", ip="10.9.9.7").status_code \
        == 302
    client.logout()
    assert _login(client, "/accounts/login/", "nobody19", WRONG, ip="10.9.9.7"
                  ).status_code == 429
    # The twentieth locks the address: even a correct password is refused from it...
    assert _login(client, "/accounts/login/", "bob", "bob-pw-123", ip="10.9.9.7").status_code \
        == 429
    # ...but not from another one.
    assert _login(client, "/accounts/login/", "bob", "bob-pw-123", ip="10.9.9.8").status_code \
        == 302
    assert any("locked out for address 10.9.9.7 after 20 usernames" in r.getMessage()
               for r in caplog.records)


def test_lockout_ends_after_the_cool_down(client, alice, settings):
    """The clock moved past the cool-off by time-machine, not waited for."""
    with time_machine.travel(timezone.now(), tick=True) as clock:
        for _ in range(5):
            _login(client, "/accounts/login/", "alice", WRONG)
        assert _login(client, "/accounts/login/", "alice", "alice-pw-123").status_code == 429
        clock.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
        assert _login(client, "/accounts/login/", "alice", "alice-pw-123").status_code == 302


def test_a_success_before_the_limit_resets_the_count(client, alice):
    for _ in range(4):
        _login(client, "/accounts/login/", "alice", WRONG)
    assert _login(client, "/accounts/login/", "alice", "alice-pw-123").status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, "/accounts/login/", "alice", WRONG)
    assert _login(client, "/accounts/login/", "alice", "alice-pw-123").status_code == 302


def _reset(client, email: str, ip: str = "10.0.0.1"):
    return client.post("/accounts/password_reset/", {"email": email}, REMOTE_ADDR=ip)


def test_password_reset_is_limited_per_address(client, alice, caplog):
    for n in range(5):
        assert _reset(client, "alice@example.com", ip=f"10.0.3.{n}").status_code == 302
    assert len(mail.outbox) == 5
    refused = _reset(client, "alice@example.com", ip="10.0.4.1")
    assert refused.status_code == 429
    assert "Password reset is paused" in refused.content.decode()
    assert len(mail.outbox) == 5
    assert any("password reset throttled" in r.getMessage() for r in caplog.records)


def test_password_reset_is_limited_per_address_of_the_sender(client, alice):
    for n in range(20):
        _reset(client, f"someone{n}@example.com", ip="10.0.5.5")
    assert _reset(client, "alice@example.com", ip="10.0.5.5").status_code == 429
    assert _reset(client, "alice@example.com", ip="10.0.5.6").status_code == 302


def test_password_reset_takes_as_long_for_known_and_unknown_addresses(client, alice, settings):
    settings.PASSWORD_RESET_RATE = "1000/hour"
    settings.PASSWORD_RESET_MIN_SECONDS = RESET_FLOOR

    def timed(email: str) -> float:
        started = time.perf_counter()
        assert _reset(client, email).status_code == 302
        return time.perf_counter() - started

    known = [timed("alice@example.com") for _ in range(5)]
    unknown = [timed(f"ghost{n}@example.com") for n in range(5)]
    assert len(mail.outbox) == 5  # the known address really was sent an email each time
    assert min(known + unknown) >= RESET_FLOOR
    assert abs(statistics.median(known) - statistics.median(unknown)) < 0.05


def test_invalid_bearer_tokens_are_throttled_per_address(api_client_for, alice, caplog):
    _, good = ApiToken.issue(alice, "ci")
    client = api_client_for()
    for n in range(20):
        response = client.get("/api/v1/environments/", HTTP_AUTHORIZATION=f"Bearer sbp_bad{n}",
                              REMOTE_ADDR="10.1.1.1")
        assert response.status_code == 401
    assert client.get("/api/v1/environments/", HTTP_AUTHORIZATION="Bearer sbp_bad-again",
                      REMOTE_ADDR="10.1.1.1").status_code == 429
    # A valid token from the same address (another client behind the proxy) is served.
    assert client.get("/api/v1/environments/", HTTP_AUTHORIZATION=f"Bearer {good}",
                      REMOTE_ADDR="10.1.1.1").status_code == 200
    assert client.get("/api/v1/environments/", HTTP_AUTHORIZATION="Bearer sbp_bad-more",
                      REMOTE_ADDR="10.1.1.1").status_code == 429
    assert client.get("/api/v1/environments/", HTTP_AUTHORIZATION=f"Bearer {good}",
                      REMOTE_ADDR="10.1.1.2").status_code == 200
    assert any("invalid API tokens" in r.getMessage() for r in caplog.records)


# 16 threads at once, 480 requests against an allowance of 100: a count that is not atomic
# lets the threads racing at the limit through together.
PER_THREAD = 30


@pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                    reason="the atomic throttle is Redis's (the development cache is a database)")
def test_api_throttle_is_atomic_under_concurrency(live_server, django_user_model, settings):
    settings.API_THROTTLE_RATE = "100/minute"
    user = django_user_model.objects.create_user("hammer", password="x")
    _, raw = ApiToken.issue(user, "load")
    url = live_server.url + "/api/v1/environments/"
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {raw}"
        mine = [session.get(url, timeout=30).status_code for _ in range(PER_THREAD)]
        with lock:
            statuses.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    admitted = statuses.count(200)
    assert len(statuses) == 16 * PER_THREAD and set(statuses) <= {200, 429}
    assert 100 <= admitted <= 105, admitted


def test_throttle_fails_open_when_redis_is_down(api_client_for, alice, settings, caplog):
    _, raw = ApiToken.issue(alice, "ci")
    # Nothing listens on port 9 (discard): every cache call fails at once.
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}
    response = api_client_for().get("/api/v1/environments/",
                                    HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert any("throttle api unavailable" in r.getMessage() for r in caplog.records)
