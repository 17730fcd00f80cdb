"""Every query kind stays on its partitions (PostgreSQL; sync/partitions/ddl.py).

Each query is captured from the real code path (the compatible listing, the calls explorer,
a drill link, the call page, a rollup refresh, an alert's evaluation), then run again under
EXPLAIN ANALYZE: the month partitions it actually read must be the months its range
touches, never the whole history. The explorer over all dates (environment only, newest
first, LIMIT) must read months newest first through their indexes (ordered Append, no sort
of a month) and stop at the first month that fills its page.
"""
from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reports.alerts.metrics import figures
from reports.alerts.windows import Span
from reports.drill import at_param
from sync.models import Call
from sync.partitions import ddl as partitions
from sync.write.rollups import refresh_rollups
from tests.support.factories import make_agents, make_calls

FIRST, LAST = date(2026, 5, 1), date(2026, 10, 31)  # calls in six months


@pytest.fixture
def history(env_a):
    make_calls(env_a, 1200, FIRST, LAST, agents=make_agents(env_a))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sync_call")
    return env_a


def plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def months_read(sql: str) -> tuple[set[date], dict]:
    """The months whose partitions `sql` read (EXPLAIN ANALYZE: executed scans only)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    read = set()
    for node in plan_nodes(plan):
        name = node.get("Relation Name", "")
        assert name != "sync_call" or "Scan" not in node["Node Type"], name
        if not name.startswith("sync_call_") or node.get("Actual Loops", 0) == 0:
            continue
        match = partitions.LEAF.match(name)
        # The catch-alls (before 2000, from 2100) count as the ends of time.
        read.add(date(int(match[1]), int(match[2]), 1) if match
                 else date.min if name == "sync_call_before" else date.max)
    return read, plan


def call_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries
            if re.search(r'\bsync_call\b', q["sql"])
            and q["sql"].lstrip().startswith(("SELECT", "WITH"))]


def months_between(first: datetime, after: datetime) -> set[date]:
    """The UTC months [first, after) overlaps."""
    month, out = partitions.month_of(first), set()
    while datetime.combine(month, time.min, tzinfo=UTC) < after:
        out.add(month)
        month = partitions.add_months(month, 1)
    return out


def local_span(env, first: date, last: date) -> set[date]:
    tz = env.organization.tzinfo
    return months_between(datetime.combine(first, time.min, tzinfo=tz),
                          datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz))


def assert_pruned(sqls: list[str], expected: set[date]) -> None:
    assert sqls
    everything = {m for m, _t in partitions.leaves()}
    assert expected < everything
    for sql in sqls:
        read, _plan = months_read(sql)
        assert read and read <= expected, (sorted(read), sorted(expected), sql)


def test_the_compatible_listing_reads_the_months_of_its_page(history, alice, api_client_for):
    client = api_client_for(alice)
    url = reverse("talkover-calls", args=[history.pk])
    params = {"date_from": "2026-09-01", "date_to": "2026-09-30", "per_page": 50, "page": 3}
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    assert_pruned(call_queries(captured), local_span(history, date(2026, 9, 1),
                                                     date(2026, 9, 30)))


def test_the_explorer_and_a_drill_link_read_the_months_of_their_days(history, alice, client):
    client.force_login(alice)
    url = reverse("calls", args=[history.organization.slug])
    for first, last, extra in [(date(2026, 8, 10), date(2026, 9, 20), {}),
                               (date(2026, 7, 14), date(2026, 7, 14), {"outcome": "answered"})]:
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url, {"start": first.isoformat(), "end": last.isoformat(),
                                    **extra})
        assert page.status_code == 200 and page.context["page"].object_list
        assert_pruned(call_queries(captured), local_span(history, first, last))


def test_all_dates_newest_first_reads_only_the_newest_months_in_order(history, alice, client):
    client.force_login(alice)
    url = reverse("calls", args=[history.organization.slug])
    with CaptureQueriesContext(connection) as captured:
        page = client.get(url, {"start": "", "end": ""})
    assert page.status_code == 200 and len(page.context["page"].object_list) == 50
    listing = [sql for sql in call_queries(captured) if "ORDER BY" in sql and "LIMIT" in sql]
    assert listing
    read, plan = months_read(listing[-1])
    kinds = [n["Node Type"] for n in plan_nodes(plan)]
    # Months one after the other, newest first, through their indexes; the explorer's id
    # tie-break only sorts calls of the same instant (Incremental Sort), never a month.
    assert "Sort" not in kinds and "Merge Append" not in kinds, kinds
    assert "Append" in kinds
    # October fills the page: nothing older is read (months after it exist, empty, ahead).
    assert min(read) == date(2026, 10, 1), sorted(read)


def test_a_call_page_reads_its_month_only(history, alice, client):
    client.force_login(alice)
    call = Call.objects.filter(environment=history).order_by("started_at")[600]
    url = reverse("call-detail", args=[history.organization.slug, call.pk])
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, {"at": at_param(call)}).status_code == 200
    assert_pruned(call_queries(captured), {partitions.month_of(call.started_at)})
    # Without `at` (an old bookmark) the page still opens, asking every month.
    assert client.get(url).status_code == 200


def test_a_rollup_refresh_and_an_alert_read_the_months_of_their_span(history):
    day = date(2026, 6, 30)
    with CaptureQueriesContext(connection) as captured:
        refresh_rollups(history, {day})
    assert_pruned(call_queries(captured), local_span(history, day, day))

    start = datetime(2026, 8, 31, 22, tzinfo=UTC)
    span = Span(start, start + timedelta(hours=4))
    with CaptureQueriesContext(connection) as captured:
        assert figures("answer_rate", [history.pk], span).calls > 0
    assert_pruned(call_queries(captured), months_between(span.start, span.end))


def test_a_careless_read_inside_a_tenant_context_still_prunes(history):
    """The tenant context's own condition (`environment_id IN (subquery)`,
    portal/tenancy/query.py) leaves the month pruning to the range."""
    from portal.tenancy import context as tenant_context
    from portal.tenancy.context import TenantContext

    first = datetime(2026, 7, 1, tzinfo=UTC)
    ctx = TenantContext(organizations=frozenset({history.organization_id}))
    with tenant_context.using(ctx), CaptureQueriesContext(connection) as captured:
        list(Call.objects.filter(started_at__gte=first,
                                 started_at__lt=first + timedelta(days=20)))
    sqls = call_queries(captured)
    assert all('"portal_environment"' in sql for sql in sqls)  # the context's subquery
    assert_pruned(sqls, {date(2026, 7, 1)})
