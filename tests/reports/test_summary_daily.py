"""A daily summary reads as one: no "busiest day" (the day is the period), compared with
"11/21/2026" (not "11/21/2026 – 11/21/2026"); its figures never break inside a value at
phone width ("45 h / 02 m")."""
from __future__ import annotations

from datetime import date

from reports.summaries.figures import build_summary
from reports.summaries.render import build_message
from reports.summaries.schedule import Period
from tests.support.factories import make_agents, make_calls, make_subscription

DAY, BEFORE = date(2026, 11, 22), date(2026, 11, 21)


def _bodies(org, env, period):
    sub = make_subscription(org, addresses=["ops@example.com"])
    message = build_message(sub, build_summary(org, [env], period), "ops@example.com")
    html = next(body for body, mime in message.alternatives if mime == "text/html")
    return html, message.body


def test_a_daily_summary_has_no_busiest_day_and_names_one_day_compared(env_a):
    org = env_a.organization
    agents = make_agents(env_a, 2)
    make_calls(env_a, 60, BEFORE, DAY, seed=4, agents=agents)
    html, text = _bodies(org, env_a, Period(DAY, DAY))
    for body in (html, text):
        assert "Busiest day" not in body
        assert "Compared with 11/21/2026" in body and "11/21/2026 – 11/21/2026" not in body
    assert "font-size:20px;font-weight:bold;white-space:nowrap;" in html
    week_html, _text = _bodies(org, env_a, Period(BEFORE, DAY))
    assert "Busiest day" in week_html
