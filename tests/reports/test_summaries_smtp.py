"""A summary sent through Django's SMTP backend to a real SMTP server, then parsed as MIME."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core import mail

from reports.models import ReportDelivery
from reports.queries import callbacks_summary, calls_summary
from reports.summaries.dispatch import dispatch
from reports.summaries.models import DeliveryStatus
from tests.support.factories import make_agents, make_callback_days, make_calls, make_subscription
from tests.support.summaries_support import smtp_sink

pytestmark = pytest.mark.django_db(transaction=True)

RUN = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # Monday 08:00 in Sao Paulo
WEEK = (date(2026, 11, 16), date(2026, 11, 22))
PREV = (date(2026, 11, 9), date(2026, 11, 15))


@pytest.fixture
def mirrored(env_a):
    agents = make_agents(env_a, 3)
    make_calls(env_a, 300, *PREV, seed=1, agents=agents)
    make_calls(env_a, 420, *WEEK, seed=2, agents=agents)
    make_callback_days(env_a, [date(2026, 11, d) for d in range(9, 23)], seed=3)
    env_a.last_synced_at = datetime(2026, 11, 23, 10, 45, tzinfo=UTC)
    env_a.save(update_fields=["last_synced_at"])
    return env_a


def percent(rate: float) -> Decimal:
    """A 0-1 rate as the emails print it: percent, one decimal, half up."""
    return Decimal(str(round(100 * rate, 6))).quantize(Decimal("0.1"), ROUND_HALF_UP)


def parts(message):
    return {part.get_content_type(): part for part in message.walk()}


def test_summary_over_real_smtp_has_both_parts_figures_csv_and_inline_chart(mirrored, alice):
    sub = make_subscription(mirrored.organization, members=[alice], addresses=["Ops@Example.com"],
                            next_run_at=RUN)
    with smtp_sink() as sink:
        result = dispatch(RUN)
    assert result.statuses == {"sent": 1}
    assert sorted(m["To"] for m in sink.messages) == ["alice@example.com", "ops@example.com"]

    calls = calls_summary([mirrored], *WEEK)
    callbacks = callbacks_summary([mirrored], *WEEK)
    message = sink.to("alice@example.com")[0]
    assert "Org A" in message["Subject"] and "11/16/2026" in message["Subject"]
    assert message.get_content_type() == "multipart/mixed"
    p = parts(message)
    assert {"text/plain", "text/html", "image/png", "text/csv", "multipart/related",
            "multipart/alternative"} <= set(p)
    text, html = p["text/plain"].get_content(), p["text/html"].get_content()
    for body in (text, html):
        assert str(calls.totals.total) in body
        assert f"{percent(calls.totals.answer_rate)}%" in body
        assert str(callbacks.totals.received) in body
        assert "/o/org-a/?start=2026-11-16&amp;end=2026-11-22" in body.replace(
            "?start=2026-11-16&end", "?start=2026-11-16&amp;end")
    assert ("▲" in text) or ("▼" in text)
    top = calls.agents[0]
    assert f"{top.name}: {top.figures.total} calls" in text

    # The chart is an inline PNG referenced by CID from the HTML, in multipart/related.
    png = p["image/png"]
    cid = png["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    assert png.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png.get_content()[16:20], "big")
    assert width <= 600

    content = p["text/csv"].get_content()
    assert content.startswith("\ufeff")  # Excel reads the attachment as UTF-8
    rows = list(csv.DictReader(io.StringIO(content.removeprefix("\ufeff"))))
    total = next(r for r in rows if r["environment"] == "TOTAL")
    assert int(total["calls"]) == calls.totals.total
    assert int(total["answered"]) == calls.totals.answered
    assert int(total["talk_time_seconds"]) == calls.totals.talk_time_total
    assert int(total["callbacks_received"]) == callbacks.totals.received
    assert rows[0]["environment"] == "A main"

    # One-click unsubscribe headers, per recipient.
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].strip().startswith("<http://")
    other = sink.to("ops@example.com")[0]
    assert other["List-Unsubscribe"] != message["List-Unsubscribe"]

    delivery = ReportDelivery.objects.across_organizations().get(subscription=sub)
    assert delivery.status == DeliveryStatus.SENT
    assert (delivery.period_start, delivery.period_end) == WEEK
    assert mail.outbox == []  # the SMTP backend was used, not locmem


def test_portuguese_summary(mirrored, alice):
    make_subscription(mirrored.organization, members=[alice], language="pt-br", next_run_at=RUN)
    with smtp_sink() as sink:
        dispatch(RUN)
    message = sink.messages[0]
    text = parts(message)["text/plain"].get_content()
    assert "16/11/2026" in message["Subject"]
    assert "Chamadas" in text


def test_html_is_table_based_inline_css_at_most_600px_and_deltas_read_without_colour(
        mirrored, alice):
    make_subscription(mirrored.organization, members=[alice], next_run_at=RUN)
    with smtp_sink() as sink:
        dispatch(RUN)
    html = parts(sink.messages[0])["text/html"].get_content()
    assert "<style" not in html and "<link" not in html  # Gmail/Outlook drop or mangle them
    assert "flex" not in html and "grid" not in html
    # Fluid: a phone's 390 px narrows it, a desktop's 600 px bounds it.
    assert 'width="100%"' in html and "max-width:600px" in html
    assert html.count('role="presentation"') >= 3
    calls = calls_summary([mirrored], *WEEK)
    change = calls.deltas["total"]
    arrow, word = ("▲", "up") if change.change > 0 else ("▼", "down")
    assert f"{arrow} {word} {abs(change.change_pct):.1f}%" in html
    assert "Data as of 11/23/2026 7:45 AM (America/Sao_Paulo)" in html
    assert "not synced up to date" not in html  # synced 15 minutes before the send


def test_stale_mirror_is_flagged(mirrored, alice):
    mirrored.last_synced_at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    mirrored.save(update_fields=["last_synced_at"])
    make_subscription(mirrored.organization, members=[alice], next_run_at=RUN)
    with smtp_sink() as sink:
        dispatch(RUN)
    text = parts(sink.messages[0])["text/plain"].get_content()
    assert "Data as of 11/20/2026 6:00 AM (America/Sao_Paulo)" in text
    assert "not synced up to date; figures may be incomplete" in text


def test_test_send_is_marked_and_leaves_the_schedule(mirrored, alice):
    from reports.summaries.actions import send_test

    sub = make_subscription(mirrored.organization, members=[alice], next_run_at=RUN)
    with smtp_sink() as sink:
        delivery = send_test(sub, alice)
    assert delivery.status == "sent" and delivery.is_test
    assert sink.messages[0]["Subject"].strip().startswith("[Test]")
    sub.refresh_from_db()
    assert sub.next_run_at == RUN
