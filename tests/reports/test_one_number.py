"""One number, one way: a change reads the same on the dashboard, the API and the summary
email (rounded once, half up: never "−2.78" beside "down 2.7"), and counts carry the
language's thousands separator on the explorer, the dashboard and the email."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.utils import translation

from portal.formatting import format_change_pct, format_number, format_points, rounded
from reports.summaries.dispatch import dispatch
from tests.support.factories import make_calls, make_subscription

WEEK = (date(2026, 11, 16), date(2026, 11, 22))
PREV = (date(2026, 11, 9), date(2026, 11, 15))
RUN = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def test_the_rounding_rule():
    # Django's number_format cuts decimals off ("2.78" → "2.7"); the rule rounds half up.
    assert format_number(2.78) == "2.8" and format_number(2.75) == "2.8"
    assert str(rounded(-2.75, 1)) == "-2.8" and str(rounded(0.6455 * 100, 1)) == "64.6"
    assert format_points(0.0349) == "3.5"
    assert format_change_pct(-2.78) == "\u22122.8%" and format_change_pct(12.44) == "+12.4%"
    with translation.override("pt-br"):
        assert format_number(1994.0, 0) == "1.994" and format_change_pct(-2.78) == "\u22122,8%"


@pytest.fixture
def week(env_a):
    # 1,050 calls against 1,080: −2.777… %, whose two-decimal figure (−2.78) cut to one
    # decimal reads "2.7" and rounded reads "2.8".
    make_calls(env_a, 1080, *PREV, seed=1, testing_share=0)
    make_calls(env_a, 1050, *WEEK, seed=2, testing_share=0)
    return env_a


def test_a_change_reads_alike_on_every_face(week, alice, client):
    client.force_login(alice)
    api = client.get("/api/v1/reports/calls/", {
        "environment": week.pk, "start_date": WEEK[0], "end_date": WEEK[1]}).json()["summary"]
    # Exact in the API (rounded only where it is written for a reader): −2.777…, shown −2.8.
    assert api["deltas"]["total"]["change_pct"] == pytest.approx(100 * (1050 - 1080) / 1080)
    page = client.get("/o/org-a/", {"start": WEEK[0], "end": WEEK[1]}).content.decode()
    assert "▼ \u22122.8%" in page and "1,050" in page
    explorer = client.get("/o/org-a/calls/", {"start": WEEK[0], "end": WEEK[1]})
    assert "1,050 calls" in explorer.content.decode()

    make_subscription(week.organization, members=[alice], next_run_at=RUN)
    dispatch(RUN)
    text = mail.outbox[-1].body
    assert "Calls: 1,050 (▼ down 2.8%, previous 1,080)" in text, text
