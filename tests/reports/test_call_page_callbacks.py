"""A call page says "called back after …" only of an outbound call nobody answered: an
answered call was not waiting, so a later callback is listed without a time to callback."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.test import Client

from sync.models import CallbackLink
from tests.support.factories import make_call

START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def _outbound_with_callback(env, n: int, status: str):
    source = make_call(env, None, n, direction="outbound", status=status, started_at=START)
    callback = make_call(env, None, n + 1, direction="inbound",
                         started_at=START + timedelta(hours=3))
    CallbackLink.objects.create(
        environment=env, callback_external_id=callback.external_id,
        callback_started_at=callback.started_at, callback_day=callback.started_at.date(),
        callback_agent_external_id="cb", callback_answered=True,
        source_external_id=source.external_id, source_agent_external_id="out",
        source_started_at=source.started_at, source_day=source.started_at.date(),
        source_answered=status == "completed", seconds_to_callback=3 * 3600)
    return source


def test_time_to_callback_only_on_unanswered_calls(env_a, alice):
    client = Client()
    client.force_login(alice)
    missed = _outbound_with_callback(env_a, 10, "no_answer")
    answered = _outbound_with_callback(env_a, 20, "completed")
    html = client.get(f"/o/org-a/calls/{missed.pk}/").content.decode()
    assert "Called back after 3 h 00 m" in html
    html = client.get(f"/o/org-a/calls/{answered.pk}/").content.decode()
    assert "Called back after" not in html
    assert "Later called back by" in html and "(this call had been answered)" in html
