"""Structured logs: JSON lines in production, readable in development, ids on every line,
secrets masked."""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.conf import settings

from portal.celery import app as celery_app
from portal.logging import (
    ContextFilter,
    JsonFormatter,
    PlainFormatter,
    RedactionFilter,
    log_context,
    redact,
)
from portal.tasklog import HEADER

ROOT = Path(__file__).resolve().parent.parent.parent
TALQ = "talq_live_9f3cAbCdEfGhIjKlMnOpQrStUv"
SBP = "sbp_Zx81yW2vU3tS4rQ5pO6nM7"


@pytest.fixture
def captured():
    """Lines written by a handler configured exactly like the production console handler."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.mark.parametrize("text, secret", [
    (f"GET /calls with Authorization: Bearer {TALQ}", TALQ),
    (f"headers={{'Authorization': 'Bearer {TALQ}', 'Accept': 'json'}}", TALQ),
    (f"token {TALQ} rejected", TALQ),
    (f"api token {SBP} used", SBP),
    (f"Bearer abc.def-ghi{SBP[4:]}", SBP[4:]),
    ("login password=hunter2-very-secret ok", "hunter2-very-secret"),
    ('{"username": "a", "password": "hunter2-very-secret"}', "hunter2-very-secret"),
    ("broker redis://:r3dis-pw@cache.internal:6379/0 down", "r3dis-pw"),
    ("smtp://mailer:m4il-pw@mail.example.com:587 refused", "m4il-pw"),
    ("Cookie: sessionid=abcdef1234567890; csrftoken=xyz", "abcdef1234567890"),
])
def test_redact_masks_secrets(text, secret):
    masked = redact(text)
    assert secret not in masked
    assert "[REDACTED]" in masked


def test_redact_keeps_ordinary_text_and_token_hints():
    text = "synced env 3: 120 calls, token_hint talq_…9f3c, 2 pages"
    assert redact(text) == text


@pytest.mark.django_db
def test_json_lines_carry_organisation_and_environment(captured, env_a):
    log = logging.getLogger("sync.engine")
    with log_context(environment=env_a, request_id="req-abc12345"):
        log.info("page %d of %s", 3, "calls", extra={"calls_created": 7})
    log.info("outside")
    inside, outside = captured()[-2:]
    assert inside["message"] == "page 3 of calls"
    assert inside["level"] == "INFO" and inside["logger"] == "sync.engine"
    assert inside["organization_id"] == env_a.organization_id
    assert inside["environment_id"] == env_a.pk
    assert inside["request_id"] == "req-abc12345"
    assert inside["calls_created"] == 7
    assert "environment_id" not in outside and "request_id" not in outside


def test_secrets_in_messages_arguments_and_tracebacks_never_reach_the_output(captured):
    log = logging.getLogger("sync.client")
    log.warning("request failed: %s", {"Authorization": f"Bearer {TALQ}"})
    try:
        raise RuntimeError(f"upstream rejected token {TALQ} (password=hunter2-very-secret)")
    except RuntimeError:
        log.exception("sync crashed")
    output = json.dumps(captured())
    assert TALQ not in output and "hunter2-very-secret" not in output
    assert "[REDACTED]" in output
    assert "RuntimeError" in captured()[-1]["exc"]


def test_plain_lines_are_readable_with_context():
    record = logging.LogRecord("sync.engine", logging.INFO, __file__, 1,
                               "synced %s", ("calls",), None)
    with log_context(request_id="req-abc12345", organization_id=4, environment_id=9):
        ContextFilter().filter(record)
    RedactionFilter().filter(record)
    line = PlainFormatter().format(record)
    assert line.endswith("INFO    sync.engine [req=req-abc12345 org=4 env=9] synced calls")


@pytest.mark.django_db
def test_request_id_is_echoed_and_on_the_request_line(client, captured):
    response = client.get("/api/v1/", HTTP_X_REQUEST_ID="lb-0123456789abcdef")
    assert response["X-Request-ID"] == "lb-0123456789abcdef"
    line = next(r for r in captured() if r["logger"] == "portal.request")
    assert line["request_id"] == "lb-0123456789abcdef"
    assert line["path"] == "/api/v1/" and line["status"] == response.status_code
    assert "duration_ms" in line


@pytest.mark.django_db
def test_unsafe_incoming_request_id_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="x\" injected\n{json}")
    assert len(response["X-Request-ID"]) == 32
    assert client.get("/healthz")["X-Request-ID"] != response["X-Request-ID"]


@celery_app.task(name="sync.ops_log_probe")
def _log_probe(environment_id: int) -> None:
    logging.getLogger("sync.tasks").info("probe ran for %s", environment_id)


@pytest.mark.django_db
def test_task_lines_carry_request_task_environment_and_organisation(captured, env_a):
    with log_context(request_id="req-from-web-1"):
        _log_probe.apply(args=(env_a.pk,))
    line = next(r for r in captured() if r["message"].startswith("probe ran"))
    assert line["request_id"] == "req-from-web-1"
    assert line["task"] == "sync.ops_log_probe"
    assert line["environment_id"] == env_a.pk
    assert line["organization_id"] == env_a.organization_id


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a real broker (REDIS_URL)")
def test_published_tasks_carry_the_request_id_to_the_worker():
    queue = "ops-test-log-context"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(queue)
    try:
        with log_context(request_id="req-published-1"):
            celery_app.send_task("sync.ops_log_probe", args=(1,), queue=queue)
        message = json.loads(client.lpop(queue))
        assert message["headers"][HEADER] == {"request_id": "req-published-1"}
    finally:
        client.delete(queue)


@pytest.mark.parametrize("env, expected", [
    ({"DEBUG": "false"}, "json"),
    ({"DEBUG": "true"}, "plain"),
    ({"DEBUG": "true", "LOG_FORMAT": "json"}, "json"),
])
def test_format_follows_debug_unless_log_format_says(env, expected, tmp_path):
    from tests.support.production import PRODUCTION

    base = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION, "LOG_FORMAT"}}
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.LOGGING['handlers']['console']['formatter'])")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**base, **PRODUCTION, "SWITCHBOARD_VAR_DIR": str(tmp_path),
             "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
