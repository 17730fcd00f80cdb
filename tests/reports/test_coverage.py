"""Coverage: no figure over days the mirror has not read.

Property tests over random read windows per environment (hypothesis, real database): series
points are null exactly on days some environment never read, totals equal the raw calls of
the days read, and a comparison exists only when both periods were fully read. Then the
doors: a real sync against the simulator records what it read, and the API, the dashboard
and the emailed summary say the same after a short back-fill.
"""
from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.queries import calls_summary
from reports.summaries.dispatch import dispatch
from sync.coverage import DayState, calls_coverage
from sync.engine import sync_environment
from sync.models import Call, StreamState
from sync.stream_names import Stream
from tests.support.factories import (
    make_agents,
    make_callback_days,
    make_calls,
    make_subscription,
    mark_read,
)
from tests.support.sync_support import END, point_env, served, small_config

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
BASE = date(2026, 1, 1)  # calls on 50 local days from here
DAYS = 50


def bounds(day: date) -> tuple[datetime, datetime]:
    return (datetime.combine(day, time.min, tzinfo=SP),
            datetime.combine(day + timedelta(days=1), time.min, tzinfo=SP))


def set_window(env, oldest: date | None, through: datetime | None) -> None:
    """The calls cursor a Talkover sync leaves after reading UTC days oldest.. up to
    `through` (None: nothing read)."""
    cursor = {} if oldest is None else {"oldest": oldest.isoformat()}
    if oldest is not None and through is not None:
        cursor.update(read_through=through.isoformat(),
                      synced_through=through.astimezone(UTC).date().isoformat())
    StreamState.objects.update_or_create(environment=env, stream=Stream.CALLS,
                                         defaults={"cursor": cursor})


def expected_state(window: tuple[date | None, datetime | None], day: date) -> DayState:
    """The state of a local day, computed here independently of sync/coverage.py."""
    oldest, through = window
    first, after = bounds(day)
    if oldest is None or through is None:
        return DayState.MISSING
    start = datetime.combine(oldest, time.min, tzinfo=UTC)
    if start > first or through <= first:
        return DayState.MISSING
    return DayState.COVERED if through >= after else DayState.PARTIAL


@pytest.fixture
def two_envs(org_a, env_a):
    from tests.support.cast import make_env

    env_c = make_env(org_a, "A second", "talq_cccccccccccccccccccccccccccc3333")
    for i, env in enumerate((env_a, env_c)):
        make_calls(env, 300, BASE, BASE + timedelta(days=DAYS - 1), seed=i,
                   agents=make_agents(env, 2))
    per_day: dict[date, int] = {}
    for started in Call.objects.filter(is_testing=False).values_list("started_at", flat=True):
        day = started.astimezone(SP).date()
        per_day[day] = per_day.get(day, 0) + 1
    return [env_a, env_c], per_day


def windows():
    """A random read window: oldest UTC day and read-through instant (or nothing read)."""
    read = st.tuples(st.integers(0, DAYS), st.integers(0, DAYS + 2),
                     st.sampled_from([0, 2, 5, 13, 23])).map(
        lambda t: (BASE + timedelta(days=t[0]),
                   datetime.combine(BASE + timedelta(days=t[0] + t[1]), time.min, tzinfo=UTC)
                   + timedelta(hours=t[2])))
    return st.one_of(st.just((None, None)), read, read, read)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=st.data())
def test_figures_only_over_days_read(two_envs, data):
    envs, per_day = two_envs
    chosen = [data.draw(windows(), label=f"window {i}") for i in range(len(envs))]
    for env, window in zip(envs, chosen, strict=True):
        set_window(env, *window)
    start = BASE + timedelta(days=data.draw(st.integers(0, DAYS - 1), label="start"))
    length = data.draw(st.integers(1, min(25, (BASE + timedelta(days=DAYS - 1) - start).days
                                          + 1)), label="length")
    end = start + timedelta(days=length - 1)
    s = calls_summary(envs, start, end)

    def state(day: date) -> DayState:
        states = {expected_state(w, day) for w in chosen}
        if DayState.MISSING in states:
            return DayState.MISSING
        return DayState.PARTIAL if DayState.PARTIAL in states else DayState.COVERED

    # Series: null exactly on the days some environment never (fully) read.
    for point in s.series:
        assert (point.figures is None) == (state(point.start) is DayState.MISSING), point
        assert point.state == state(point.start)
        if point.figures is not None:
            assert point.figures.total == per_day.get(point.start, 0)
    # Totals: the raw calls of the days read, nothing else.
    read_days = [p.start for p in s.series if state(p.start) is not DayState.MISSING]
    assert s.totals.total == sum(per_day.get(d, 0) for d in read_days)
    assert s.coverage.missing_days == [p.start for p in s.series
                                       if state(p.start) is DayState.MISSING]

    # Comparison: only when both like-for-like spans were fully read.
    c = s.comparison
    open_days = [d for d in read_days if state(d) is DayState.PARTIAL]
    compared_end = min(open_days) - timedelta(days=1) if open_days else end
    span = (compared_end - start).days + 1
    prev_start = start - timedelta(days=length)
    current = [start + timedelta(days=i) for i in range(span)]
    previous = [prev_start + timedelta(days=i) for i in range(span)]
    fully_read = span > 0 and all(state(d) is DayState.COVERED for d in current + previous)
    assert c.available == fully_read
    if c.available:
        assert (c.current_end, c.previous_start, c.previous_end) == (
            compared_end, prev_start, previous[-1])
        assert s.previous.total == sum(per_day.get(d, 0) for d in previous)
        assert s.deltas["total"].current == sum(per_day.get(d, 0) for d in current)
    else:
        assert s.previous is None and c.reason
        assert all(d.previous is None and d.change is None and d.change_pct is None
                   for d in s.deltas.values())


def test_a_real_sync_records_what_it_read_even_without_calls(org_a):
    """A day read with no calls is covered (zeros, not gaps); days before the back-fill are
    missing; the day the clock stands in is partial."""
    with served(small_config(days=4, calls_per_day=0)) as (sim, server):
        env = point_env(org_a, sim, server, backfill_days=4)
        assert not sync_environment(env, now=sim.now, streams=["calls"]).failed
    s = calls_summary([env], END - timedelta(days=7), END)
    states = {p.start: p.state for p in s.series}
    # Read UTC days END-3..END, clock at the end of END in UTC-3 → local END is still open.
    assert [d for d, st_ in states.items() if st_ == "missing"] == [
        END - timedelta(days=i) for i in range(7, 3, -1)]
    assert states[END] == "partial"
    assert all(p.figures.total == 0 for p in s.series if p.state != "missing")
    assert s.comparison.available is False and s.previous is None
    assert s.comparison.history_start == END - timedelta(days=3)
    # A later run of the lookback sets `synced_through` back but never un-reads days.
    cursor = StreamState.objects.get(environment=env, stream=Stream.CALLS).cursor
    assert cursor["read_through"] >= f"{END}T"


def test_coverage_is_a_handful_of_queries(env_a, django_assert_max_num_queries):
    make_calls(env_a, 50, date(2026, 3, 1), date(2026, 3, 31))
    with django_assert_max_num_queries(1):
        calls_coverage([env_a], date(2025, 4, 1), date(2026, 3, 31))


@pytest.fixture
def backfilled(env_a):
    """A 20-day back-fill, looked at over 90 days."""
    today = datetime.now(SP).date()
    make_calls(env_a, 400, today - timedelta(days=19), today - timedelta(days=1), seed=4,
               agents=make_agents(env_a, 2))
    mark_read(env_a, today - timedelta(days=19), today)  # the last sync read up to now
    return env_a, today


def test_api_gives_nulls_and_no_comparison_after_a_short_backfill(backfilled, alice,
                                                                  api_client_for):
    env, today = backfilled
    start = today - timedelta(days=89)
    body = api_client_for(alice).get("/api/v1/reports/calls/", {
        "environment": env.pk, "start_date": start, "end_date": today}).json()["summary"]
    totals = [p["figures"] and p["figures"]["total"] for p in body["series"]]
    assert totals[:70] == [None] * 70 and None not in totals[70:]
    assert body["series"][-1]["state"] == "partial"  # today is still being read
    assert body["previous"] is None
    assert body["comparison"]["available"] is False
    assert body["comparison"]["reason"] == "current_not_mirrored"  # and the previous too
    assert body["comparison"]["history_start"] == (today - timedelta(days=19)).isoformat()
    assert all(d["change_pct"] is None for d in body["deltas"].values())
    missing = body["coverage"]["missing_by_environment"][str(env.pk)]
    assert missing[0] == start.isoformat() and len(missing) == 70


def test_dashboard_says_no_comparison_and_names_the_missing_days(backfilled, alice, client):
    env, today = backfilled
    client.force_login(alice)
    page = client.get(f"/o/{env.organization.slug}/", {"range": "90d"}).content.decode()
    assert "No comparison: history starts on" in page
    assert "vs prev." not in page
    assert "Calls not mirrored for these days" in page and "A main:" in page
    assert "still being mirrored" in page


def test_dashboard_compares_like_for_like_when_both_periods_were_read(env_a, alice, client):
    today = datetime.now(SP).date()
    make_calls(env_a, 300, today - timedelta(days=20), today - timedelta(days=1), seed=5)
    mark_read(env_a, today - timedelta(days=20), today)  # today: read up to now
    # Callback stats are per UTC day; today's, fetched now, is partial.
    utc_today = datetime.now(UTC).date()
    make_callback_days(env_a, [utc_today - timedelta(days=i) for i in range(21)])
    client.force_login(alice)
    page = client.get(f"/o/{env_a.organization.slug}/", {"range": "7d"}).content.decode()
    assert "vs prev." in page and "No comparison" not in page
    s = calls_summary([env_a], today - timedelta(days=6), today)
    assert s.comparison.excluded_days == [today]  # the open day is left out on both sides
    assert s.comparison.current_end == today - timedelta(days=1)
    assert s.comparison.previous_end == today - timedelta(days=8)


@pytest.mark.django_db(transaction=True)
def test_emailed_summary_follows_the_same_rules(org_a, alice, settings):
    from tests.support.cast import make_env

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    env = make_env(org_a, "A main", "talq_aaaaaaaaaaaaaaaaaaaaaaaaaaaa1111")
    run = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    # Mirrored from Wednesday of the reported week only.
    make_calls(env, 100, date(2026, 11, 18), date(2026, 11, 22), seed=6)
    make_callback_days(env, [date(2026, 11, d) for d in range(18, 23)])
    make_subscription(org_a, members=[alice], next_run_at=run)
    assert dispatch(run).statuses == {"sent": 1}
    text = mail.outbox[0].body
    assert "no comparison: history starts on 11/18/2026" in text
    assert "A main: 11/16/2026 – 11/17/2026" in text
    assert "previous" not in text.split("== Environments ==")[0]
