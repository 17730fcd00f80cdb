"""The KPI report read from its day rollups (`sync.models.KpiDayRollup`, the outcome rollup's
successful calls) equals the same figures recomputed call by call from the calls, after
what moves them: analyses arriving late, an agent's threshold changing the judgements, calls
crossing UTC midnight and local midnight (peak concurrency carried into the next day)."""
from __future__ import annotations

import random
import zoneinfo
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytest

from reports.queries.kpis import count_rows, kpis_summary
from sync.analysis import set_threshold
from sync.models import Call, KpiDayRollup
from sync.models.core import CallStatus, Judgement
from sync.outcomes import settle_organisation
from sync.write import kpi_rollups
from sync.write.kpi_rollups import rebuild_kpi_days
from sync.write.rollups import local_days_of, refresh_rollups
from tests.support.factories import build_call, make_agents, make_calls, save_calls

pytestmark = pytest.mark.django_db

TZ = "America/Sao_Paulo"  # local midnight is 03:00 UTC: 21:00-24:00 local is the next UTC day
FIRST, LAST = date(2026, 3, 2), date(2026, 3, 13)
ANSWERED = (CallStatus.ANSWERED, CallStatus.COMPLETED)
UNANSWERED = (CallStatus.NO_ANSWER, CallStatus.BUSY, CallStatus.FAILED)
SUMS = ("calls", "answered", "inbound", "abandoned", "voicemail", "transferred", "contained",
        "timed", "evaluated", "succeeded", "handle_seconds", "answer_seconds",
        "succeeded_settled", "succeeded_then_repeat", "succeeded_pending")


def expected_sums(calls: list[Call], tz, now: datetime, window: int) -> dict[tuple, dict]:
    """The KPI sums per (local day, environment, agent), call by call (docs/kpis.md)."""
    out: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(SUMS, 0))
    for c in calls:
        row = out[c.started_at.astimezone(tz).date(), c.environment_id, c.agent_external_id]
        answered = c.status in ANSWERED
        timed = answered and c.answered_at is not None and c.answered_at >= c.started_at
        number = c.to_number if c.direction == "outbound" else c.from_number
        phone = (c.judgement == Judgement.SUCCEEDED and answered
                 and c.direction in ("inbound", "outbound") and any(ch.isdigit() for ch in number))
        settled = c.started_at <= now - timedelta(days=window)
        repeat = (c.next_contact_at is not None
                  and c.next_contact_at < c.started_at + timedelta(days=window))
        for name, holds in (
                ("calls", True), ("answered", answered), ("inbound", c.direction == "inbound"),
                ("abandoned", c.direction == "inbound" and c.status in UNANSWERED),
                ("voicemail", c.voicemail), ("transferred", c.transferred),
                ("contained", answered and not c.transferred), ("timed", timed),
                ("evaluated", c.judgement in (Judgement.SUCCEEDED, Judgement.FAILED)),
                ("succeeded", c.judgement == Judgement.SUCCEEDED),
                ("succeeded_settled", phone and settled),
                ("succeeded_then_repeat", phone and settled and repeat),
                ("succeeded_pending", phone and not settled)):
            row[name] += bool(holds)
        row["handle_seconds"] += c.duration if answered else 0
        row["answer_seconds"] += (c.answered_at - c.started_at).total_seconds() if timed else 0
    return out


def expected_peaks(calls: list[Call], tz) -> tuple[dict[date, int], dict[tuple, int]]:
    """The most calls in progress at a start, per local day and per (day, agent), counting
    the calls given (started in the range asked), ends before starts at one instant."""
    events = []
    for c in calls:
        end = c.ended_at or c.started_at + timedelta(seconds=c.duration)
        if end > c.started_at:
            events += [(c.started_at, 1, c.agent_external_id), (end, -1, c.agent_external_id)]
    every, of_agent = 0, defaultdict(int)
    day_peak: dict[date, int] = {}
    agent_peak: dict[tuple, int] = {}
    for moment, d, agent in sorted(events, key=lambda e: (e[0], e[1])):
        every += d
        of_agent[agent] += d
        if d == 1:
            day = moment.astimezone(tz).date()
            day_peak[day] = max(day_peak.get(day, 0), every)
            agent_peak[day, agent] = max(agent_peak.get((day, agent), 0), of_agent[agent])
    return day_peak, agent_peak


@pytest.fixture
def mirrored(env_a):
    org = env_a.organization
    org.timezone = TZ
    org.save()
    env_a.refresh_from_db()
    agents = make_agents(env_a, 3)
    make_calls(env_a, 400, FIRST, LAST, seed=7, agents=agents)
    tz = zoneinfo.ZoneInfo(TZ)
    rng = random.Random(11)
    crossing = []
    for day in (FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)):
        # 23:xx local (02:xx UTC the next day), lasting into the next day, whose busiest
        # moment is then 00:10, while they are still in progress.
        for at, duration in ((time(23, 0), 10800), (time(23, 20), 10800),
                             (time(23, 45), 10800), (time(0, 10), 600)):
            started = datetime.combine(day, at, tzinfo=tz)
            for agent in agents[:2]:
                crossing.append(build_call(
                    env_a, started, agent=agent, status=CallStatus.COMPLETED,
                    duration=duration, direction="inbound", rng=rng,
                    from_number=f"+55119{rng.randrange(10):04d}"))
    save_calls(env_a, crossing)
    settle_organisation(org.pk)
    # Analyses arriving late: the calls change after their days were counted, and the
    # sync recounts the days of the calls it wrote.
    late = list(Call.objects.filter(environment=env_a, status__in=ANSWERED)[::3])
    for i, call in enumerate(late):
        call.answered_at = call.started_at + timedelta(seconds=i % 9, microseconds=137 * i)
        call.judgement = (Judgement.SUCCEEDED, Judgement.FAILED)[i % 2]
        call.judgement_score = (i % 10) / 10
        call.transferred, call.voicemail = i % 5 == 0, i % 7 == 0
        call.save()
    refresh_rollups(env_a, local_days_of((c.started_at for c in late), tz))
    # The threshold judges the first agent's scored calls again.
    set_threshold(agents[0], 0.75)
    return env_a, agents


@pytest.mark.parametrize("first", [FIRST, FIRST + timedelta(days=4)])
@pytest.mark.parametrize("one_agent", [False, True])
def test_the_rollups_give_the_figures_of_the_calls(mirrored, first, one_agent):
    env, agents = mirrored
    org = env.organization
    tz = org.tzinfo
    now = datetime.combine(LAST - timedelta(days=3), time(13, 30), tzinfo=tz) + timedelta(
        days=org.resolution_window_days)  # the window's edge inside the range
    agent_ids = [agents[1].external_id] if one_agent else None
    lo = datetime.combine(first, time.min, tzinfo=tz)
    hi = datetime.combine(LAST + timedelta(days=1), time.min, tzinfo=tz)
    calls = list(Call.objects.filter(environment=env, is_testing=False, started_at__gte=lo,
                                     started_at__lt=hi,
                                     **({"agent_external_id__in": agent_ids} if agent_ids
                                        else {})))
    expected = expected_sums(calls, tz, now, org.resolution_window_days)
    assert any(v["succeeded_settled"] for v in expected.values())
    assert any(v["succeeded_pending"] for v in expected.values())
    got = {(r["day"], r["environment_id"], r["agent_external_id"]): r
           for r in count_rows([env], first, LAST, now, org.resolution_window_days, agent_ids)}
    assert set(got) == set(expected)
    for key, values in expected.items():
        assert {k: got[key][k] for k in SUMS} == pytest.approx(values), key

    summary = kpis_summary([env], first, LAST, "day", now=now, agent_ids=agent_ids)
    day_peak, agent_peak = expected_peaks(calls, tz)
    assert summary.totals.peak_concurrency == max(day_peak.values())
    assert {p.start: p.peak_concurrency for p in summary.series} == {
        p.start: day_peak.get(p.start, 0) for p in summary.series}
    for row in summary.agents:
        assert row.peak_concurrency == max(
            (v for (_d, a), v in agent_peak.items() if a == row.agent_external_id), default=0)


def test_a_rebuild_counts_every_local_day_again(mirrored, monkeypatch):
    env, _agents = mirrored

    fields = [f.attname for f in KpiDayRollup._meta.concrete_fields if f.name != "id"]

    def rows() -> list[dict]:
        return sorted(KpiDayRollup.objects.filter(environment=env).values(*fields),
                      key=lambda r: (r["day"], r["agent_external_id"]))

    kept = rows()  # as the writers left them, day by day
    assert len({r["day"] for r in kept}) >= (LAST - FIRST).days + 1
    KpiDayRollup.objects.filter(environment=env).delete()
    rebuild_kpi_days(env)
    assert rows() == kept
    # The frames in statements of two: each frame's counts are its own.
    monkeypatch.setattr(kpi_rollups, "FRAMES_PER_STATEMENT", 2)
    KpiDayRollup.objects.filter(environment=env).delete()
    rebuild_kpi_days(env)
    assert rows() == kept
