"""The Quality report of Origins AI environments: rollup, page, API and CSV, against the
simulator's ground truth (figures recomputed here from the records as served)."""
from __future__ import annotations

import csv
import io
import math
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from portal.models import Environment
from reports.queries.quality import quality_summary
from sync.engine import sync_environment
from sync.models import Call, QualityDayRollup
from sync.models.quality import LATENCY_BUCKETS
from tests.support.origins import AGENTS, KEY, origins_env
from tests.support.sync_support import served, small_config

pytestmark = pytest.mark.django_db(transaction=True)

START, END = date(2026, 3, 4), date(2026, 3, 10)  # small_config's days (and the clock's day)


def latency(record: dict) -> int | None:
    """The documented rule, written again: stt + llm + tts latency_ms, else call_quality's."""
    stages = []
    for name in ("stt_data", "llm_data", "tts_data"):
        values = [e["latency_ms"] for e in record[name] or [] if "latency_ms" in e]
        stages.append(sum(values) / len(values) if values else None)
    if None not in stages:
        return round(sum(stages))
    return (record["call_quality"] or {}).get("avg_latency_ms")


def truth(sim, tz) -> list[dict]:
    records = []
    for agent in AGENTS:
        for r in sim.truth.origins_calls(KEY, agent):
            if r["call_id"]:
                start = r["initiation_time"] or r["call_state_changes"][0]["at"]
                records.append({**r, "_day": datetime.fromisoformat(start).astimezone(tz).date(),
                                "_latency": latency(r)})
    return records


def nearest_rank(values: list[int], fraction: float) -> int:
    return sorted(values)[math.ceil(fraction * len(values)) - 1]


def within_bucket(estimate: int, exact: int) -> bool:
    bounds = (0, *LATENCY_BUCKETS, 10**9)
    return any(lo <= exact <= hi and lo <= estimate <= hi
               for lo, hi in zip(bounds, bounds[1:], strict=False))


@pytest.fixture
def synced(org_a):
    with served(small_config()) as (sim, server):
        env = origins_env(org_a, sim, server)
        Environment.objects.filter(pk=env.pk).update(price_per_minute=Decimal("0.0900"))
        env.refresh_from_db()
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        yield env, truth(sim, org_a.tzinfo)


def test_figures_equal_the_records_and_missing_fields_are_not_reported(synced):
    env, records = synced
    summary = quality_summary([env], START - timedelta(days=1), END)
    t = summary.totals
    assert t.calls == len(records) == Call.objects.filter(environment=env).count()
    lat = [r["_latency"] for r in records if r["_latency"] is not None]
    assert 0 < len(lat) < len(records), "some calls (not answered) report no latency"
    assert t.latency_calls == len(lat)
    assert within_bucket(t.latency_p50_ms, nearest_rank(lat, 0.5))
    assert within_bucket(t.latency_p90_ms, nearest_rank(lat, 0.9))
    billed = [r["billed_duration"] for r in records if r["billed_duration"] is not None]
    assert t.billed_calls == len(billed)
    assert t.billed_minutes == round(sum(billed) / 60, 2)
    assert t.cost == round(sum(billed) / 60 * 0.09, 2)
    for name, field in (("hangup_causes", "hangup_cause_name"), ("hangup_sources",
                                                                 "hangup_source")):
        sent = Counter(r[field] for r in records if r[field])
        dist = getattr(t, name)
        assert {s.value: s.calls for s in dist.reported} == sent
        assert dist.not_reported == len(records) - sum(sent.values()) > 0
    sentiments = Counter((r["call_insights"] or {}).get("sentiment") for r in records)
    sentiments.pop(None)
    assert {s.value: s.calls for s in t.sentiments.reported} == sentiments
    intents = Counter((r["call_insights"] or {}).get("intent") for r in records)
    intents.pop(None)
    assert {s.value: s.calls for s in t.insights.reported} == intents
    # Per agent and per day add up to the totals; a day without calls has no latency.
    assert sum(a.figures.calls for a in summary.agents) == t.calls
    assert sorted(a.agent_id for a in summary.agents) == sorted(str(a) for a in AGENTS)
    assert sum(d.figures.calls for d in summary.days if d.figures) == t.calls
    # Without a price, cost is absent while billed minutes stay.
    Environment.objects.filter(pk=env.pk).update(price_per_minute=None)
    env.refresh_from_db()
    unpriced = quality_summary([env], START, END).totals
    assert unpriced.cost is None and unpriced.billed_minutes


def test_coverage_marks_partial_and_missing_days_and_drops_their_figures(synced):
    env, records = synced
    summary = quality_summary([env], START, END + timedelta(days=2))
    state = {d.day: d.coverage for d in summary.days}
    # The clock is END 23:59:59 UTC = END 20:59 in São Paulo: END is still open.
    assert state[END - timedelta(days=1)] == "complete" and state[END] == "partial"
    assert [d for d, s in state.items() if s == "missing"] == [END + timedelta(days=1),
                                                               END + timedelta(days=2)]
    assert summary.coverage.missing_days == [END + timedelta(days=1), END + timedelta(days=2)]
    assert all(d.figures is None for d in summary.days if d.coverage == "missing")
    # An environment never read: every day missing, nothing counted.
    from sync.models import StreamState

    StreamState.objects.filter(environment=env, stream="calls").delete()
    empty = quality_summary([env], START, END)
    assert empty.totals.calls == 0 and empty.totals.latency_p50_ms is None
    assert empty.totals.billed_minutes is None and empty.totals.cost is None
    assert {d.coverage for d in empty.days} == {"missing"}


def test_coverage_is_the_calls_coverage_retention_included(synced):
    """Quality reads the one calls coverage (`sync.coverage`): the same days missing and
    partial as every other report, days retention dropped included."""
    from sync.coverage import calls_coverage

    env, records = synced
    before = quality_summary([env], START, END)
    dropped = datetime.combine(START + timedelta(days=2), datetime.min.time(),
                               tzinfo=env.organization.tzinfo)
    Environment.objects.filter(pk=env.pk).update(calls_dropped_before=dropped)
    env.refresh_from_db()
    summary = quality_summary([env], START, END)
    calls = calls_coverage([env], START, END)
    assert summary.coverage.missing_days == calls.missing_days == [START, START + timedelta(1)]
    assert summary.coverage.partial_days == calls.partial_days == [END]
    assert summary.coverage.complete_days == len(summary.days) - 3
    assert [d.figures for d in summary.days[:2]] == [None, None]
    # The days retention kept read as before.
    assert summary.days[2:] == before.days[2:]


def test_rollup_is_replaced_not_incremented_and_busy_no_answer_are_counted(synced):
    env, records = synced
    rows = QualityDayRollup.objects.filter(environment=env).count()
    sync_environment(env, now=datetime(2026, 3, 10, 23, 59, 59).astimezone())
    assert QualityDayRollup.objects.filter(environment=env).count() == rows
    from sync.write.rollups import rebuild_rollups

    rebuild_rollups(env)
    assert quality_summary([env], START - timedelta(days=1), END).totals.calls == len(records)
    # USER_BUSY / NO_ANSWER hang-ups are their own statuses, and the reports count them.
    from reports.queries import calls_summary

    totals = calls_summary([env], START - timedelta(days=1), END).totals
    causes = Counter(r["hangup_cause_name"] for r in records if r["call_status"] == "FAILED")
    assert totals.busy == causes["USER_BUSY"] > 0
    assert totals.no_answer == causes["NO_ANSWER"] > 0
    assert totals.failed == sum(causes.values()) - totals.busy - totals.no_answer


def test_page_api_and_csv_for_the_cast(synced, cast, client, api_client_for, org_b,
                                       assert_max_queries):
    env, records = synced
    url = f"/o/{env.organization.slug}/quality/?range=custom&start=2026-03-03&end=2026-03-12"
    client.force_login(cast["alice"])
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    for shown in ("Latency p50", "Billed minutes", "not reported", "never mirrored",
                  "USER_BUSY", "positive", f'href="/o/{env.organization.slug}/quality/'):
        assert shown in html, shown
    days = client.get(url + "&format=csv&table=days")
    rows = list(csv.reader(io.StringIO(b"".join(days.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["day", "coverage", "calls"]
    assert ["2026-03-12", "missing", "", "", "", "", "", "", ""] in rows
    client.force_login(cast["bob"])
    assert client.get(url).status_code == 200
    client.force_login(cast["carol"])
    assert client.get(url).status_code == 404
    nav = client.get(f"/o/{org_b.slug}/").content.decode()
    assert f'href="/o/{org_b.slug}/quality/' not in nav, "no Quality tab without Origins data"
    empty = client.get(f"/o/{org_b.slug}/quality/")
    assert empty.status_code == 200 and "has none yet" in empty.content.decode()

    api = "/api/v1/reports/quality/"
    query = f"?environment={env.pk}&start_date=2026-03-03&end_date=2026-03-10"
    # The report and its rendered JSON are kept (two cache writes), as every report's are.
    with assert_max_queries(13):
        body = api_client_for(cast["bob"]).get(api + query).json()
    totals = body["summary"]["totals"]
    assert totals["calls"] == len(records) and totals["latency_p50_ms"] > 0
    assert body["summary"]["coverage"]["partial_days"] == ["2026-03-10"]
    agents = api_client_for(cast["alice"]).get(api + query + "&format=csv&table=agents")
    assert agents.status_code == 200 and agents["Content-Type"].startswith("text/csv")
    assert b"latency_p50_ms" in b"".join(agents.streaming_content)
    assert api_client_for(cast["carol"]).get(api + query).status_code == 404
    bad = api_client_for(cast["alice"]).get(api + query + "&bogus=1")
    assert bad.status_code == 400 and "bogus" in bad.json()
    talkover = Environment.objects.create(organization=env.organization, name="T")
    wrong = api_client_for(cast["alice"]).get(f"{api}?environment={talkover.pk}")
    assert wrong.status_code == 400 and "voice quality" in str(wrong.json())


def test_a_new_price_shows_at_once_though_reports_are_cached(synced, alice, api_client_for):
    env, records = synced
    api = f"/api/v1/reports/quality/?environment={env.pk}&start_date=2026-03-03"
    client = api_client_for(alice)
    before = client.get(api).json()["summary"]["totals"]
    Environment.objects.filter(pk=env.pk).update(price_per_minute=Decimal("0.1800"))
    after = client.get(api).json()["summary"]["totals"]
    assert after["cost"] == pytest.approx(before["cost"] * 2, abs=0.01)
    Environment.objects.filter(pk=env.pk).update(price_per_minute=None)
    assert client.get(api).json()["summary"]["totals"]["cost"] is None


def test_an_undocumented_insight_is_read_whole_or_not_reported():
    """`call_insights` is documented only as an object: a sentiment or intent that is not a
    plain string fitting its column is "not reported", never cut (a cut value is a guess)
    and never a rejection (one parser per kind of field: `validation.reported_text`)."""
    from sync.providers.origins.quality import quality_columns

    odd = quality_columns({"call_insights": {"sentiment": "x" * 33, "intent": "book\x07"}})
    assert (odd["sentiment"], odd["insight"]) == ("", "")
    fine = quality_columns({"call_insights": {"sentiment": "x" * 32, "intent": 7}})
    assert (fine["sentiment"], fine["insight"]) == ("x" * 32, "")
