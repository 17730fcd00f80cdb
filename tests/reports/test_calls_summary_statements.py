"""A cold calls summary asks three statements: the calls cursors (coverage), the figures per
day over both periods, and the figures per agent with the mirrored agents' names joined in
(a fourth statement for the names was a round trip and an ORM compilation per summary)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.queries import calls_summary
from sync.models.core import CallStatus
from tests.support.factories import build_call, make_agents, mark_read, save_calls

END = date(2026, 3, 31)
START = END - timedelta(days=29)


def test_three_statements_and_every_agent_named_as_mirrored(env_a):
    named, = make_agents(env_a, 1)
    tz = env_a.organization.tzinfo
    calls = [build_call(env_a, datetime.combine(day, time(10), tzinfo=tz), agent=named,
                        status=CallStatus.COMPLETED, duration=60)
             for day in (START - timedelta(days=3), START, END)]
    # An agent id the mirror never read an agent for, and a call without an agent.
    calls.append(build_call(env_a, datetime.combine(END, time(11), tzinfo=tz),
                            agent_external_id="never-mirrored", status=CallStatus.BUSY))
    calls.append(build_call(env_a, datetime.combine(START, time(12), tzinfo=tz),
                            status=CallStatus.FAILED))
    save_calls(env_a, calls)
    mark_read(env_a, START - timedelta(days=30), END)

    with CaptureQueriesContext(connection) as statements:
        summary = calls_summary([env_a], START, END)

    assert len(statements.captured_queries) == 3, [q["sql"][:80] for q in statements]
    assert [(r.agent_id, r.name, r.figures.total) for r in summary.agents] == [
        (named.external_id, named.name, 2), ("", "", 1), ("never-mirrored", "", 1)]
    assert summary.totals.total == 4 and summary.previous.total == 1
