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


def test_an_origins_environment_beside_talkover_misses_no_callback_day(env_a):
    """Origins AI has no callback statistics: beside a Talkover environment whose days are
    all fetched, the callbacks page reports no day "not mirrored yet"."""
    from datetime import date

    from portal.models import Environment, Provider
    from reports.queries.callbacks import callbacks_summary
    from tests.support.factories import make_callback_days

    origins = Environment(organization=env_a.organization, name="O", provider=Provider.ORIGINS,
                          base_url="https://origins.test", provider_settings={"agent_ids": [7]})
    origins.set_token("orig_" + "7" * 40)
    origins.save()
    days = [date(2026, 11, 10), date(2026, 11, 11)]
    make_callback_days(env_a, days, seed=1)
    summary = callbacks_summary([env_a, origins], days[0], days[-1])
    assert summary.missing_days == [] and summary.totals.days_mirrored == 2


def test_a_funnel_steps_calls_show_their_time_to_callback(env_a, alice):
    missed = _outbound_with_callback(env_a, 30, "no_answer")
    client = Client()
    client.force_login(alice)
    day = START.date().isoformat()
    html = client.get("/o/org-a/calls/", {"start": day, "end": day, "utc": "on",
                                          "callback": "called_back"}).content.decode()
    assert "Time to callback" in html and "3 h 00 m" in html
    assert f"/calls/{missed.pk}/" in html
    plain = client.get("/o/org-a/calls/", {"start": day, "end": day}).content.decode()
    assert "Time to callback" not in plain
