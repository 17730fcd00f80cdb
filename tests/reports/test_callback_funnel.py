"""The callback funnel's faces: the reports API (JSON and CSV) with the
vendor's figures beside ours, day by day, on the simulator's data; tenancy."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sync.models import CallbackDay, CallbackLink
from tests.support.sync_support import ENV

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/v1/reports/callback-funnel/"


@pytest.fixture
def synced(org_a, callback_world):
    """(simulator, environment of org A): ten days back-filled by a real sync, once per
    worker; each test gets that sync's rows afresh (tests/support/synced_world.py)."""
    sim, world = callback_world
    return sim, world(org_a)


def test_funnel_api_agrees_with_vendor_day_by_day(synced, alice, carol, api_client_for):
    sim, env = synced
    first, last = sim.start_date, sim.today
    params = {"environment": env.pk, "start_date": first, "end_date": last}
    answer = api_client_for(alice).get(URL, params)
    assert answer.status_code == 200, answer.content
    summary = answer.json()["summary"]
    assert summary["differing_days"] == [] and summary["missing_days"] == []
    assert len(summary["series"]) == (last - first).days + 1
    for day in summary["series"]:
        stats = sim.truth.callback_stats(ENV, *[sim.start_date.fromisoformat(day["start"])] * 2)
        assert day["received"] == stats["total_callbacks_received"] == day["vendor"]["received"]
        assert day["answered"] == stats["callbacks_answered"]
        assert day["unmatched"] == stats["callbacks_unmatched"]
        assert {s["source_agent_id"]: s["count"] for s in day["by_source"]} == {
            s["source_agent_id"]: s["count"] for s in stats["callbacks_by_source_agent"]}
        assert day["differences"] == []
    totals = summary["totals"]
    assert totals["received"] == sum(d["received"] for d in summary["series"]) > 0
    assert totals["matched"] + totals["unmatched"] == totals["received"]
    assert 0 < totals["called_back"] <= totals["outbound_unanswered"]
    assert 0 < totals["median_seconds_to_callback"] <= totals["p90_seconds_to_callback"]
    # The first days' windows reach before the back-fill: said, not hidden.
    assert summary["series"][0]["window_complete"] is False
    assert summary["series"][-1]["window_complete"] is True
    weekly = api_client_for(alice).get(URL, {**params, "interval": "week"}).json()["summary"]
    assert sum(p["received"] for p in weekly["series"]) == totals["received"]
    assert weekly["totals"]["median_seconds_to_callback"] == totals["median_seconds_to_callback"]
    assert all(p["median_seconds_to_callback"] is not None
               for p in weekly["series"] if p["matched"])
    # CSV through the one CSV module.
    csv = api_client_for(alice).get(URL, {**params, "format": "csv"})
    assert csv.status_code == 200
    lines = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("period_start,period_end,mirrored,received,answered,matched")
    assert len(lines) == 1 + len(summary["series"])
    assert api_client_for(alice).get(URL, {**params, "table": "nope", "format": "csv"}
                                     ).status_code == 400
    # Another organisation's environment is a 404.
    assert api_client_for(carol).get(URL, params).status_code == 404


def test_a_day_that_differs_says_so_with_both_figures(synced, alice, api_client_for):
    sim, env = synced
    link = CallbackLink.objects.filter(environment=env, source_answered=False).exclude(
        source_external_id="").first()
    day = link.callback_day
    link.delete()
    CallbackDay.objects.filter(environment=env, day=day).update(total_received=999)
    answer = api_client_for(alice).get(URL, {"environment": env.pk, "start_date": day,
                                             "end_date": day})
    summary = answer.json()["summary"]
    assert summary["differing_days"] == [day.isoformat()]
    fields = {d["field"]: (d["funnel"], d["vendor"]) for d in summary["series"][0]["differences"]}
    received = summary["series"][0]["received"]
    assert fields["received"] == (received, 999)
    assert any(f.startswith("by_source:") for f in fields)


def _count_in_explorer(client, url: str) -> int:
    """How many calls the explorer lists behind a door (its total line)."""
    page = client.get(url)
    assert page.status_code == 200
    return page.context["page"].paginator.count


def test_pages_draw_the_funnel_and_every_step_opens_exactly_its_calls(synced, alice, client):
    sim, env = synced
    org = env.organization
    client.force_login(alice)
    query = {"start": sim.start_date.isoformat(), "end": sim.today.isoformat()}
    page = client.get(f"/o/{org.slug}/callbacks/", query)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Callback funnel" in html and "Not linked" not in html
    funnels = page.context["steps"]
    # Two funnels, each step a part of the one before.
    for funnel in (funnels.outbound, funnels.callbacks):
        counts = [s.count for s in funnel]
        assert counts == sorted(counts, reverse=True) and counts[0] > 0, counts
    totals = page.context["funnel"].totals
    assert funnels.callbacks[0].count == totals.received
    assert funnels.callbacks[1].count + funnels.unmatched.count == totals.received
    steps = [*funnels.outbound, *funnels.callbacks, funnels.unmatched]
    for step in steps:
        assert _count_in_explorer(client, step.door.url) == step.count, step.label
    # The dashboard's callback cards open their calls too ("Not linked" is gone).
    board = client.get(f"/o/{org.slug}/", query)
    assert "Not linked" not in board.content.decode()
    cards = {str(k.label): k for k in board.context["kpis"]}
    received = cards["Callbacks received"].door
    # The same door as the funnel's step (counted above), and the vendor's figure agrees.
    assert (received.url, received.calls) == (steps[3].door.url, steps[3].count)
    # A callback's page names the call it answers, and that call's page the callback.
    link = CallbackLink.objects.filter(environment=env, source_answered=False).exclude(
        source_external_id="").first()
    from sync.models import Call

    callback = Call.objects.get(environment=env, external_id=link.callback_external_id)
    source = Call.objects.get(environment=env, external_id=link.source_external_id)
    html = client.get(f"/o/{org.slug}/calls/{callback.pk}/").content.decode()
    assert "Callback of" in html and f"/calls/{source.pk}/" in html
    html = client.get(f"/o/{org.slug}/calls/{source.pk}/").content.decode()
    assert "Called back after" in html and f"/calls/{callback.pk}/" in html
    # "Callback of" in the explorer: exactly the callbacks linked to that call.
    of = client.get(f"/o/{org.slug}/calls/", {**query, "callback_of": source.external_id,
                                               "utc": "on"})
    listed = [c.external_id for c in of.context["page"]]
    assert link.callback_external_id in listed
    assert set(listed) == set(CallbackLink.objects.filter(
        environment=env, source_external_id=source.external_id, is_testing=False)
        .values_list("callback_external_id", flat=True))


def test_alerts_judge_callback_rate_and_median_time_from_the_funnel(synced):
    from reports.alerts.evaluate import Context, judge
    from reports.alerts.models import AlertRule
    from reports.queries.callback_funnel import callback_funnel

    sim, env = synced
    verdicts = {}
    for metric in ("callback_rate", "median_time_to_callback"):
        rule = AlertRule.objects.create(
            organization=env.organization, name=metric, metric=metric, window="7d",
            condition="above", threshold=0, min_calls=1, emails=["ops@example.com"])
        rule.environments.set([env])
        verdicts[metric] = judge(rule, Context(sim.now + timedelta(hours=4)))
    rate, median = verdicts["callback_rate"], verdicts["median_time_to_callback"]
    assert rate.judged and median.judged, (rate.note, median.note)
    totals = callback_funnel([env], rate.span.first_day, rate.span.last_day).totals
    assert rate.calls == totals.outbound_unanswered > 0
    # The rule keeps its value to four places (its figure as shown), so to that precision.
    assert rate.value == pytest.approx(100 * totals.called_back / totals.outbound_unanswered,
                                       abs=5e-5)
    # Its sample is the funnel's: callbacks of outbound calls not answered.
    assert median.calls == CallbackLink.objects.filter(
        environment=env, callback_day__gte=rate.span.first_day,
        callback_day__lte=rate.span.last_day, is_testing=False, source_answered=False).count()
    assert median.value == round(totals.median_seconds_to_callback / 60, 4)  # as the verdict


def test_percentiles_picked_by_rank_from_sorted_days_equal_postgresql_over_every_value():
    """A period's median and p90 come from its days' sorted seconds by rank
    (`percentiles_of_days`, no merge); they must be PostgreSQL's `percentile_cont` over all the
    values (`PercentileCont`, the alert metric's), exactly once rounded — ties, a single day,
    empty days, one value, values far apart."""
    import random

    from django.db import connection

    from reports.queries.callback_funnel import percentiles_of_days
    from reports.queries.common import PercentileCont

    def postgresql(values: list[int]) -> tuple[float | None, float | None]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v), "
                           "percentile_cont(0.9) WITHIN GROUP (ORDER BY v) "
                           "FROM unnest(%s::int[]) AS v", [values])
            found = cursor.fetchone()
        return tuple(None if x is None else round(x, 1) for x in found)

    draw = random.Random(38)
    for _ in range(1500):
        days = [sorted(draw.choice((draw.randint(0, 9), draw.randint(0, 604_800)))
                       for _ in range(draw.randint(0, 12))) for _ in range(draw.randint(1, 9))]
        every = [s for day in days for s in day]
        assert percentiles_of_days(days) == postgresql(every), days
    # The aggregate is the same SQL function, run by the database: over no rows, no figure.
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        empty = CallbackLink.objects.filter(pk__lt=0).aggregate(
            p=PercentileCont("seconds_to_callback", 0.5))
    assert empty["p"] is None
    assert "percentile_cont(0.5) WITHIN GROUP (ORDER BY" in queries[-1]["sql"]
    assert percentiles_of_days([[], []]) == (None, None)
    assert percentiles_of_days([[5], [], [1, 9]]) == (5, 8.2)
