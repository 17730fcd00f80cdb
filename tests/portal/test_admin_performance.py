"""The calls changelist stays cheap: a fixed number of queries whatever the page holds, and on
PostgreSQL no COUNT(*) over the calls table once it is large (the planner's estimate)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.admin.paginator import EstimatedCountPaginator
from sync.models import Agent, Call
from tests.support.factories import make_call

# Session, user, administered organisations and (staff) their environment ids, the count
# (PostgreSQL: the estimate, plus an exact count while small), the page of calls with
# environment and agent joined, the environment and agent filter choices, and for staff the
# two permission lookups Django's own auth admins make when the sidebar asks about them.
# Plus one for the organisations' timezones (admin times are local, portal/admin/times.py).
CALLS_CHANGELIST_QUERIES = 12


def add_calls(world, count: int) -> None:
    # Not "ag-<n>": the world's own agents are "ag-<environment id>", and env A's id is 2
    # whenever an earlier test of the worker created one environment (ids are not rolled back).
    agents = [world.pairs[Agent][0], Agent.objects.create(environment=world.env_a,
                                                          external_id="second-agent",
                                                          name="Second")]
    for n in range(10, 10 + count):
        make_call(world.env_a, agents[n % 2], n)


@pytest.mark.parametrize("user", ["alice", "root"])
def test_calls_changelist_query_count_does_not_grow_with_rows(world, assert_max_queries, user):
    client = world.client(user)
    url = reverse("admin:sync_call_changelist")
    client.get(url)  # warm the session and content types
    add_calls(world, 5)
    with assert_max_queries(CALLS_CHANGELIST_QUERIES):
        assert client.get(url).status_code == 200
    add_calls_more = 120  # more than one page (list_per_page = 100)
    for n in range(1000, 1000 + add_calls_more):
        make_call(world.env_a, None, n)
    with assert_max_queries(CALLS_CHANGELIST_QUERIES):
        page = client.get(url, {"direction__exact": "inbound", "p": "2"})
    assert page.status_code == 200


def test_calls_changelist_runs_no_full_count_and_no_facets(world):
    with CaptureQueriesContext(connection) as ctx:
        page = world.client("alice").get(reverse("admin:sync_call_changelist"),
                                         {"_facets": "1", "status__exact": "completed"})
    assert "total)" not in page.content.decode()
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    # Only the paginator's (filtered, small) count: no unfiltered total, no facet counts.
    assert len(counts) == 1 and "completed" in counts[0], counts


@pytest.fixture
def analysed(world, monkeypatch):
    """The world with 30 more calls, analysed, and every count left to the planner's estimate."""
    add_calls(world, 30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sync_call")
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 0)
    return world


def test_unfiltered_count_is_read_from_pg_class(analysed):
    with CaptureQueriesContext(connection) as ctx:
        count = EstimatedCountPaginator(Call.objects.order_by("-started_at"), 100).count
    assert count == 32
    assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)
    assert "pg_class" in ctx.captured_queries[0]["sql"]


def test_filtered_count_uses_the_planner_estimate(analysed):
    with CaptureQueriesContext(connection) as ctx:
        count = EstimatedCountPaginator(Call.objects.filter(environment=analysed.env_a), 100).count
    assert 1 <= count <= 100
    assert [q["sql"][:7] for q in ctx.captured_queries] == ["EXPLAIN"]


def test_small_estimates_are_replaced_by_an_exact_count(world):
    add_calls(world, 3)
    queryset = Call.objects.filter(environment=world.env_a)
    assert EstimatedCountPaginator(queryset, 100).count == 4


def test_changelist_with_a_large_estimate_runs_no_count(world, monkeypatch):
    add_calls(world, 30)
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 0)
    client = world.client("root")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("admin:sync_call_changelist")).status_code == 200
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert not [q for q in counts if "sync_call" in q], counts


def test_environment_changelist_counts_calls_from_rollups(world, assert_max_queries):
    from sync.models import CallRollup

    CallRollup.objects.create(environment=world.env_a, day="2026-11-02", count=41)
    client = world.client("alice")
    url = reverse("admin:portal_environment_changelist")
    client.get(url)
    with assert_max_queries(9):
        page = client.get(url).content.decode()
    assert '<td class="field-calls_mirrored">42</td>' in page


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_the_sidebar_lists_what_djangos_own_app_list_lists(rf, language):
    """The admin site translates the app and model names once before Django sorts them (the
    lazy names were translated again at every comparison): the same names, in the same
    order, as Django's own `get_app_list`, in both languages."""
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.utils import translation

    request = rf.get("/admin/")
    request.user = get_user_model()(username="root", is_superuser=True, is_staff=True)

    def names(app_list: list[dict]) -> list[tuple[str, list[str]]]:
        return [(str(app["name"]), [str(m["name"]) for m in app["models"]]) for app in app_list]

    with translation.override(language):
        ours = admin.site.get_app_list(request)
        djangos = admin.AdminSite._build_app_dict(admin.site, request)
        djangos = sorted(djangos.values(), key=lambda x: str(x["name"]).lower())
        for app in djangos:
            app["models"].sort(key=lambda x: str(x["name"]))
        assert names(ours) == names(djangos)
        assert all(type(m["name"]) is str for app in ours for m in app["models"])
        assert len(ours) > 3


@pytest.mark.parametrize("user", ["alice", "root"])
def test_calls_changelist_is_newest_started_first_across_environments(world, user):
    """The admin's calls list in time order: a back-fill mirrors older calls after newer
    ones (ids are not time order) and environments interleave; page 2 goes on where page 1
    stopped, and a column header still orders by itself."""
    from django.utils import timezone

    now = timezone.now()
    envs = [world.env_a] + ([world.env_b] if user == "root" else [])
    minutes = [3, 250, 1, 180, 2, 7, 400, 5] * 15  # mirrored in this order: ids ≠ time
    for n, minute in enumerate(minutes):
        make_call(envs[n % len(envs)], None, 5000 + n,
                  started_at=now - timedelta(minutes=minute, seconds=n))
    client = world.client(user)
    url = reverse("admin:sync_call_changelist")
    listed = []
    for page in ("1", "2"):
        listed += list(client.get(url, {"p": page}).context["cl"].result_list)
    mine = [c for c in listed if int(c.external_id.split("-")[-1]) >= 5000]
    assert len(mine) == len(minutes)
    keys = [(c.started_at, c.pk) for c in listed]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    by_id = client.get(url, {"o": "-0"}).context["cl"].result_list  # the started_at header
    assert [c.started_at for c in by_id] == sorted((c.started_at for c in by_id), reverse=True)
