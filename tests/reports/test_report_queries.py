"""Report queries: figures by hand on small data sets, timezones, filters, series, callbacks."""
from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from reports.queries import (
    as_jsonable,
    callbacks_summary,
    calls_in_range,
    calls_summary,
    freshness,
)
from reports.queries.common import periods
from reports.queries.histogram import percentile
from sync.models import CallbackDay
from sync.models.core import CallStatus
from tests.support.factories import (
    build_call,
    make_agents,
    make_callback_days,
    mark_read,
    save_calls,
)

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SP)


@pytest.fixture
def small(env_a):
    """Six calls on 2026-03-02 (a Monday) and 03-03 in São Paulo, plus one testing call."""
    a1, a2 = make_agents(env_a, 2)
    d1, d2 = date(2026, 3, 2), date(2026, 3, 3)
    calls = [
        build_call(env_a, at(d1, 9), agent=a1, status=CallStatus.COMPLETED, duration=100),
        build_call(env_a, at(d1, 9, 30), agent=a1, status=CallStatus.ANSWERED, duration=50,
                   direction="inbound"),
        build_call(env_a, at(d1, 23, 30), agent=a2, status=CallStatus.FAILED, duration=0),
        build_call(env_a, at(d2, 10), agent=a2, status=CallStatus.BUSY, duration=0),
        build_call(env_a, at(d2, 10), agent=a2, status=CallStatus.NO_ANSWER, duration=0),
        build_call(env_a, at(d2, 11), agent=a1, status=CallStatus.COMPLETED, duration=300),
        build_call(env_a, at(d2, 12), agent=a1, status=CallStatus.COMPLETED, duration=999,
                   is_testing=True),
    ]
    for i, call in enumerate(calls):
        call.external_id = f"c{i}"
    save_calls(env_a, calls)
    return {"a1": a1, "a2": a2, "d1": d1, "d2": d2}


def test_totals_by_hand(env_a, small):
    s = calls_summary([env_a], small["d1"], small["d2"])
    t = s.totals
    assert (t.total, t.answered, t.failed, t.busy, t.no_answer, t.other) == (6, 3, 1, 1, 1, 0)
    assert t.answer_rate == 0.5
    assert (t.inbound, t.outbound) == (1, 5)
    assert t.talk_time_total == 450 and t.talk_time_avg == 150.0
    assert t.duration_max == 300
    # Exact median of (50, 100, 300) is 100, in the (90, 120] bucket; p90 is 300 in (240, 300].
    assert 90 < t.duration_median <= 120
    assert 240 < t.duration_p90 <= 300


def test_testing_calls_only_when_asked(env_a, small):
    assert calls_summary([env_a], small["d1"], small["d2"]).totals.total == 6
    with_testing = calls_summary([env_a], small["d1"], small["d2"], include_testing=True)
    assert with_testing.totals.total == 7
    assert with_testing.totals.duration_max == 999


def test_local_days_not_utc(env_a, small):
    # 23:30 in São Paulo is 02:30 UTC the next day: it still belongs to the local 2 March.
    s = calls_summary([env_a], small["d1"], small["d1"])
    assert s.totals.total == 3 and s.totals.failed == 1
    assert s.heatmap[0][23] == 1 and s.heatmap[0][9] == 2
    assert sum(map(sum, s.heatmap)) == 3


def test_filters(env_a, small):
    d1, d2 = small["d1"], small["d2"]
    by_agent = calls_summary([env_a], d1, d2, agent_ids=[small["a2"].external_id])
    assert by_agent.totals.total == 3 and by_agent.totals.answered == 0
    assert by_agent.totals.duration_median is None
    assert calls_summary([env_a], d1, d2, direction="inbound").totals.total == 1
    both = calls_summary([env_a], d1, d2, status=["busy", "failed"])
    assert (both.totals.total, both.totals.busy, both.totals.failed) == (2, 1, 1)


def test_series_agents_and_previous(env_a, small):
    d1, d2 = small["d1"], small["d2"]
    s = calls_summary([env_a], d1, d2)
    assert [(p.start, p.figures.total) for p in s.series] == [(d1, 3), (d2, 3)]
    rows = {r.agent_id: r for r in s.agents}
    assert rows[small["a1"].external_id].name == "Agent 1"
    assert rows[small["a1"].external_id].figures.answered == 3
    assert rows[small["a2"].external_id].figures.answer_rate == 0.0
    # The next two days (read, without calls) compare against these two.
    mark_read(env_a, d1, d2 + timedelta(days=2))
    later = calls_summary([env_a], d2 + timedelta(days=1), d2 + timedelta(days=2))
    assert (later.previous_start, later.previous_end) == (d1, d2)
    assert later.previous.total == 6 and later.totals.total == 0
    assert later.deltas["total"].change == -6 and later.deltas["total"].change_pct == -100.0
    assert later.deltas["answer_rate"].change is None


def test_week_and_month_series_are_dense_and_clipped():
    assert periods(date(2026, 3, 4), date(2026, 3, 17), "week") == [
        (date(2026, 3, 4), date(2026, 3, 8)), (date(2026, 3, 9), date(2026, 3, 15)),
        (date(2026, 3, 16), date(2026, 3, 17))]
    assert periods(date(2026, 1, 30), date(2026, 3, 1), "month") == [
        (date(2026, 1, 30), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 1))]


def test_week_series_sums(env_a, small):
    s = calls_summary([env_a], date(2026, 2, 25), date(2026, 3, 10), interval="week")
    # Only 2 and 3 March were read: every week has unread days, so each is a gap, not a sum.
    assert [p.figures for p in s.series] == [None, None, None]
    assert [p.state for p in s.series] == ["missing", "missing", "missing"]
    assert s.series[1].start == small["d1"]
    mark_read(env_a, date(2026, 2, 23), date(2026, 3, 15))
    s = calls_summary([env_a], date(2026, 2, 25), date(2026, 3, 10), interval="week")
    assert [p.figures.total for p in s.series] == [0, 6, 0]


def test_percentile_within_bucket():
    assert percentile([0] * 18, 0.5, 0) is None
    assert percentile([3] + [0] * 17, 0.5, 0) == 0
    hist = [0] * 18
    hist[17] = 2  # two calls over an hour, the longest 5000 s
    assert 3600 < percentile(hist, 0.9, 5000) <= 5000


def test_query_count(env_a, small, django_assert_max_num_queries):
    # coverage (cursors), figures per day, per agent, agent names
    with django_assert_max_num_queries(4):
        calls_summary([env_a], small["d1"], small["d2"])
    with django_assert_max_num_queries(2):  # days (with when fetched), source agents
        callbacks_summary([env_a], small["d1"], small["d2"])


def test_rejects_mixed_orgs_and_reversed_range(env_a, env_b):
    with pytest.raises(ValueError, match="single organisation"):
        calls_summary([env_a, env_b], date(2026, 1, 1), date(2026, 1, 2))
    with pytest.raises(ValueError, match="before the start date"):
        calls_summary([env_a], date(2026, 1, 2), date(2026, 1, 1))


def test_drill_down_matches_summary(env_a, small):
    qs = calls_in_range([env_a], small["d1"], small["d1"])
    assert sorted(qs.values_list("external_id", flat=True)) == ["c0", "c1", "c2"]


def test_callbacks_summary_and_missing_days(env_a):
    days = [date(2026, 3, 1) + timedelta(days=i) for i in range(10)]
    make_callback_days(env_a, [d for d in days if d != date(2026, 3, 5)], seed=3)
    s = callbacks_summary([env_a], days[0], days[-1])
    rows = CallbackDay.objects.filter(environment=env_a)
    assert s.totals.received == sum(r.total_received for r in rows)
    assert s.totals.answered == sum(r.answered for r in rows)
    assert s.totals.days_mirrored == 9
    assert s.missing_days == [date(2026, 3, 5)]
    assert s.missing_by_environment == {env_a.pk: [date(2026, 3, 5)]}
    missing_row = next(r for r in s.days if r.day == date(2026, 3, 5))
    assert missing_row.mirrored is False and missing_row.received is None
    matched = s.totals.received - s.totals.unmatched
    assert sum(r.count for r in s.by_source_agent) == matched
    assert s.totals.answer_rate == s.totals.answered / s.totals.received  # exact


def test_freshness(env_a):
    now = timezone.now()
    env_a.last_synced_at = now - timedelta(minutes=5)
    [fresh] = freshness([env_a], now=now)
    assert fresh.stale is False and fresh.last_synced_at == env_a.last_synced_at
    env_a.last_synced_at = now - timedelta(hours=2)
    assert freshness([env_a], now=now)[0].stale is True


def test_as_jsonable(env_a, small):
    data = as_jsonable(calls_summary([env_a], small["d1"], small["d2"]))
    assert data["start"] == "2026-03-02"
    assert data["series"][0]["figures"]["total"] == 3
    assert data["deltas"]["total"]["current"] == 6
