"""A holiday in the organisation's calendar is judged as a Sunday: six weeks of the
simulator's traffic at 400 calls a day where Monday 2026-03-09 has a Sunday's volume, mirrored
by the sync. Without the calendar the
volume rule's preview fires on that Monday and so does the live evaluation; with the day on
Settings → Holidays the preview is quiet, the live evaluation resolves, and the rule page
says holidays are judged as Sundays and how many are listed."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from reports.alerts.evaluate import evaluate_rules
from reports.alerts.models import AlertRule
from sync.engine import sync_environment
from sync.simulator import Dip
from sync.simulator.catalog import WEEKDAY_FACTOR
from tests.reports.test_alerts_anomaly import rule_fields
from tests.support.sync_support import end_of, point_env, served, small_config

END = date(2026, 3, 10)
HOLIDAY = date(2026, 3, 9)  # a Monday
# The simulator draws a UTC day's calls at its weekday's factor, so a local Sunday (UTC-3)
# ends with three hours of Monday's: the holiday is its local day's hours of UTC Monday
# thinned to Sunday's factor, the three after midnight UTC left a weekday's, as a Sunday's are.
SUNDAY_LIKE = Dip(datetime(2026, 3, 9, 3, tzinfo=UTC), 21,
                  WEEKDAY_FACTOR[6] / WEEKDAY_FACTOR[0])
PREVIEW = {"start_date": "2026-02-11", "end_date": "2026-03-10"}


@pytest.fixture(scope="module")
def simulator():
    config = small_config(days=42, calls_per_day=400, end_date=END, dips=(SUNDAY_LIKE,),
                          bad_record_rate=0.0)
    with served(config) as (sim, server):
        yield sim, server


@pytest.mark.django_db(transaction=True)  # the sync writes from threads of its own
def test_a_holiday_in_the_calendar_stays_quiet_in_the_preview_and_live(
        simulator, org_a, alice, client, api_client_for):
    sim, server = simulator
    env = point_env(org_a, sim, server)
    assert not sync_environment(env, now=end_of(END)).failed
    api = api_client_for(alice)

    def firings() -> list[tuple[str, str]]:
        answer = api.post("/api/v1/alert-rules/preview/", {**rule_fields(env), **PREVIEW},
                          format="json")
        assert answer.status_code == 200, answer.json()
        return [(f["start"][:10], f["end"][:10]) for f in answer.json()["firings"]]

    # Without the calendar the Sunday-like Monday is a volume dip, and nothing else is.
    assert firings() and set(firings()) <= {("2026-03-09", "2026-03-09"),
                                            ("2026-03-09", "2026-03-10")}, firings()
    created = api.post("/api/v1/alert-rules/", {**rule_fields(env), "name": "Volume"},
                       format="json")
    assert created.status_code == 201, created.json()
    rule = AlertRule.objects.for_organization(org_a).get()
    for hour in range(12, 16):  # 09:00–13:00 local, each hour's end as the beat ticks
        evaluate_rules(datetime(2026, 3, 9, hour, 5, tzinfo=UTC) + timedelta(hours=1))
    rule.refresh_from_db()
    assert rule.state == "firing"

    client.force_login(alice)
    assert client.post("/o/org-a/settings/holidays/", {
        "action": "add", "day": HOLIDAY.isoformat(), "name": "Carnival, late"}).status_code == 302
    assert firings() == []  # judged against past Sundays: a usual holiday
    evaluate_rules(datetime(2026, 3, 9, 17, 5, tzinfo=UTC))
    rule.refresh_from_db()
    assert rule.state == "ok" and rule.last_reading["reason"] == "anomaly"
    assert [e.state for e in rule.events.order_by("seq")] == ["firing", "resolved"]

    page = client.get(f"/o/org-a/settings/alerts/{rule.pk}/").content.decode()
    assert "Holidays are judged as Sundays (against the same hour of past Sundays)" in page
    assert "1 day is listed." in page and 'href="/o/org-a/settings/holidays/"' in page
