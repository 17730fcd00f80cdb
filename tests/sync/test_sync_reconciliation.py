"""Fields that change without their status (a duration, an `updated_at` corrected later) are
caught by the daily reconciliation, and the sync page says until when each day of the
lookback may still change, in English and Portuguese."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format

from sync.engine import sync_environment
from sync.models import Call, CallbackDay, CallbackFunnelDay
from sync.models.ledger import CallDayLedger
from tests.support.sync_support import END, ENV, point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)

AFTERNOON = datetime(END.year, END.month, END.day, 15, 0, tzinfo=UTC)


def linked(env, day: date) -> int:
    """The callbacks the mirrored calls of `day` link (the funnel's figure)."""
    row = CallbackFunnelDay.objects.filter(environment=env, day=day).first()
    return row.callbacks_received if row else 0


def _oldest_completed(sim, day: date) -> dict:
    """Far from the day's head page, which every run of a hot day reads again anyway."""
    return [c for c in sim.truth.calls(ENV, day, day) if c["status"] == "completed"][-1]


def test_a_field_corrected_without_its_status_is_caught_when_its_day_is_reconciled(org_a):
    with served(small_config(days=2, calls_per_day=200, now=AFTERNOON)) as (sim, server):
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        yesterday = END - timedelta(days=1)
        old, new = _oldest_completed(sim, yesterday), _oldest_completed(sim, END)
        fixes = {c["id"]: {"duration": c["duration"] + 30, "updated_at": "2026-03-10T14:59:59Z"}
                 for c in (old, new)}
        sim.tamper(ENV).calls.update(fixes)

        def mirrored(call: dict) -> tuple[int, str]:
            row = Call.objects.get(environment=env, external_id=call["id"])
            return row.duration, row.record["updated_at"]

        # Same statuses, same counts: the runs of the afternoon see nothing (by design).
        sim.advance(timedelta(hours=3))
        assert not sync_environment(env, now=sim.now).failed
        assert mirrored(old) == (old["duration"], old["updated_at"])
        assert mirrored(new) == (new["duration"], new["updated_at"])

        # 02:05 the next day: no moment of our clock says a day is over; each day is read
        # whole a day after its last whole read (the back-fill's, at 15:00).
        sim.set_now(datetime.combine(END + timedelta(days=1), time(2, 5), UTC))
        run = sync_environment(env, now=sim.now).runs[1]
        assert mirrored(new) == (new["duration"], new["updated_at"])
        assert not {str(yesterday), str(END)} & {line[:10] for line in
                                                 run.details.get("reconciled", [])}, run.details

        sim.set_now(datetime.combine(END + timedelta(days=1), time(15, 5), UTC))
        run = sync_environment(env, now=sim.now).runs[1]
        assert mirrored(old) == (old["duration"] + 30, "2026-03-10T14:59:59Z")
        assert mirrored(new) == (new["duration"] + 30, "2026-03-10T14:59:59Z")
        assert {str(yesterday), str(END)} <= {line[:10] for line in run.details["reconciled"]}
        row = CallDayLedger.objects.get(environment=env, day=yesterday)
        assert row.reconciled_at == sim.now


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_the_sync_page_says_until_when_each_day_may_still_change(org_a, alice, language):
    """At the real clock (the page's): the back-fill reads each day whole; each is read
    whole again a day later (no moment of our clock settles a day)."""
    now = timezone.now().replace(microsecond=0)
    today = now.date()
    config = small_config(days=2, calls_per_day=40, end_date=today, now=now)
    with served(config) as (sim, server):
        env = point_env(org_a, sim, server)
        assert not sync_environment(env, now=now).failed
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(alice)
    page = client.get(f"/o/{org_a.slug}/sync/").content.decode()
    tz = org_a.tzinfo

    def when(moment: datetime) -> str:
        return date_format(moment.astimezone(tz), "SHORT_DATETIME_FORMAT")

    with translation.override(language):
        heading = translation.gettext("Until when each day's calls may still change")
        for day in (today - timedelta(days=1), today):
            due = now + timedelta(days=1)
            line = translation.gettext(
                "%(day)s (vendor's UTC day): day reconciled at %(at)s, next at %(next)s.") % {
                "day": date_format(day, "SHORT_DATE_FORMAT"), "at": when(now),
                "next": when(due)}
            assert line in page, (line, page[page.find("<section"):][:1500])
    assert heading in page
    if language == "pt-br":
        assert "reconciled at" not in page and "conciliado em" in page
    # Each day as the last sync counted it: calls (the ledger) and callbacks (the stats day
    # against the callbacks the mirrored calls link).
    with translation.override(language):
        for day in (today - timedelta(days=1), today):
            row = CallDayLedger.objects.get(environment=env, day=day)
            stats = CallbackDay.objects.get(environment=env, day=day)
            calls = translation.gettext(
                "calls: upstream %(upstream)s / mirrored %(mirrored)s, counted at %(at)s") % {
                "upstream": row.upstream, "mirrored": row.mirrored + row.rejected,
                "at": when(row.checked_at)}
            callbacks = translation.gettext(
                "callbacks: upstream %(upstream)s / mirrored %(mirrored)s, counted at %(at)s"
            ) % {"upstream": stats.total_received, "mirrored": linked(env, day),
                 "at": when(stats.fetched_at)}
            assert row.upstream == row.mirrored + row.rejected
            assert calls in page and callbacks in page, (calls, callbacks)


def test_a_check_keeps_the_days_reconciliation_and_costs_three_statements(env_a,
                                                                          django_assert_max_num_queries):
    """The ledger row of a day (`sync.write.ledger.record`): a whole read sets when the day
    was reconciled, a later cheap check moves its counts and check time but keeps that; a
    back-fill writes one for each day it reads, in its batch's transaction: two counts and
    one upsert."""
    from django.db import transaction

    from sync.write import ledger

    day = END - timedelta(days=3)
    read, checked = AFTERNOON - timedelta(hours=5), AFTERNOON
    with transaction.atomic(), django_assert_max_num_queries(3):
        first = ledger.record(env_a, day, 4, read, whole=True)
    assert (first.mirrored, first.upstream, first.reconciled_at) == (0, 4, read)
    assert not first.agrees
    with transaction.atomic(), django_assert_max_num_queries(3):
        ledger.record(env_a, day, 0, checked, whole=False)
    row = CallDayLedger.objects.get(environment=env_a, day=day)
    assert (row.mirrored, row.upstream, row.checked_at, row.reconciled_at) == \
        (0, 0, checked, read)
    assert row.agrees and CallDayLedger.objects.filter(environment=env_a).count() == 1
