"""Report pages: dashboard, calls explorer and detail, callbacks, agents, sync status."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sync.models import Call, SyncRun
from sync.models.core import RunStatus
from sync.stream_names import Stream
from tests.support.factories import make_agents, make_callback_days, make_calls

PAGES = ["", "calls/", "callbacks/", "agents/", "sync/"]



@pytest.fixture
def data_a(env_a):
    today = timezone.localdate(timezone=env_a.organization.tzinfo)
    agents = make_agents(env_a, 3)
    make_calls(env_a, 300, today - timedelta(days=20), today, agents=agents, seed=1)
    make_callback_days(env_a, [today - timedelta(days=n) for n in range(10)])
    return env_a


def _login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who,status", [("alice", 200), ("bob", 200), ("carol", 404)])
def test_report_pages_access(client, cast, data_a, page, who, status):
    response = _login(client, cast[who]).get(f"/o/org-a/{page}")
    assert response.status_code == status


def test_anonymous_is_sent_to_login(client, data_a):
    response = client.get("/o/org-a/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_dashboard_shows_kpis_charts_and_freshness(client, alice, data_a):
    data_a.last_synced_at = timezone.now() - timedelta(minutes=4)
    data_a.save()
    html = _login(client, alice).get("/o/org-a/?range=30d").content.decode()
    assert "Answer rate" in html and 'id="chart-status"' in html
    assert "synced 4 min ago" in html and "Org A" in html
    assert 'id="chart-data"' in html and "Agent 1" in html


def test_dashboard_query_count_does_not_grow_with_calls(client, alice, data_a,
                                                         assert_max_queries):
    from django.conf import settings

    # The session is one statement more where Redis does not hold it (portal/auth/sessions.py).
    session = 0 if settings.SESSION_ENGINE == "portal.auth.sessions" else 1
    _login(client, alice)
    # 20, the outcome cards' statement with its `SET LOCAL jit = off` (a constant two), and
    # the KPI cards' one statement.
    with assert_max_queries(23 + session):
        assert client.get("/o/org-a/?range=90d").status_code == 200
    # Kept (reports.pages.page_cache): user, membership and the frame's one statement.
    with assert_max_queries(3 + session):
        assert client.get("/o/org-a/?range=90d").status_code == 200


def test_dashboard_csv_exports(client, alice, data_a):
    _login(client, alice)
    for table, header in [("series", "period_start,period_end,total"), ("days", "day,mirrored"),
                          ("heatmap", "weekday,00:00"), ("agents", "environment_id"),
                          ("", "period_start,period_end,total")]:
        response = client.get(f"/o/org-a/?range=7d&format=csv&table={table}")
        assert response["Content-Type"].startswith("text/csv")
        assert b"".join(response.streaming_content).decode("utf-8-sig").startswith(header)


def test_one_export_parameter(client, alice, data_a):
    """`?format=csv&table=…` on every page (the API's spelling); an unknown table is a 400
    naming the choices, and the old `?export=` (never in an email) shows the page."""
    _login(client, alice)
    for url in ("/o/org-a/", "/o/org-a/callbacks/", "/o/org-a/agents/", "/o/org-a/calls/"):
        bad = client.get(url, {"range": "7d", "format": "csv", "table": "nope"})
        assert bad.status_code == 400, url
        old = client.get(url, {"range": "7d", "export": "csv"})
        assert old.status_code == 200 and old["Content-Type"].startswith("text/html"), url


@pytest.mark.parametrize("query,field,message", [
    ("start=2026-05-10&end=2026-05-01", "To", "The end date is before the start date."),
    ("start=2024-01-01&end=2026-01-01", "To", "Choose at most 366 days."),
    ("start=1999-12-31&end=2000-01-05", "From",
     "Dates must lie between 2000-01-01 and 2100-12-31."),
    # No end: the scope's default (today) applies, and the problem is the start's.
    ("start=0001-01-01", "From", "Dates must lie between 2000-01-01 and 2100-12-31."),
])
def test_dashboard_bad_range_is_a_clear_400(client, alice, data_a, query, field, message):
    """The scope's range rules (reports/scope.py), shown on the field they are about."""
    response = _login(client, alice).get(f"/o/org-a/?range=custom&{query}")
    assert response.status_code == 400
    assert f"{field}: {message}" in response.content.decode()


def test_dashboard_empty_state_without_environments(client, alice):
    html = _login(client, alice).get("/o/org-a/").content.decode()
    assert "No environments yet" in html


def test_auth_failed_banner(client, bob, data_a):
    data_a.status = "auth_failed"
    data_a.save()
    html = _login(client, bob).get("/o/org-a/calls/").content.decode()
    assert "rejected the token" in html
    assert "Replace the token" not in html  # viewers cannot fix it, so no link


def test_failed_run_banner(client, bob, data_a):
    SyncRun.objects.create(environment=data_a, stream=Stream.CALLS, status=RunStatus.FAILED,
                           error="upstream 500")
    html = _login(client, bob).get("/o/org-a/").content.decode()
    assert "last sync of “A main” failed" in html


def test_calls_filters_sort_and_paginate(client, alice, data_a, assert_max_queries):
    _login(client, alice)
    # Constant: session, membership, frame (and its state: reports.pages.page_state), filter
    # choices, count, page, 2 prefetches.
    with assert_max_queries(18):
        response = client.get("/o/org-a/calls/?status=failed&sort=-duration")
    assert response.status_code == 200
    page = response.context["page"]
    expected = Call.objects.filter(environment=data_a, status="failed", is_testing=False).count()
    assert page.paginator.count == expected
    assert all(c.status == "failed" for c in page.object_list)
    durations = [c.duration for c in page.object_list]
    assert durations == sorted(durations, reverse=True)


def test_calls_search_by_sid(client, alice, data_a):
    call = Call.objects.filter(environment=data_a).first()
    response = _login(client, alice).get(f"/o/org-a/calls/?search={call.sid}&testing=on")
    found = [c.pk for c in response.context["page"].object_list]
    assert call.pk in found and len(found) < 10


def test_calls_bad_filter_is_400(client, alice, data_a):
    response = _login(client, alice).get("/o/org-a/calls/?status=exploded")
    assert response.status_code == 400
    assert "exploded" in response.content.decode()


def test_calls_csv_export_is_the_filtered_set(client, alice, data_a):
    response = _login(client, alice).get("/o/org-a/calls/?direction=inbound&format=csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    expected = Call.objects.filter(environment=data_a, direction="inbound",
                                   is_testing=False).count()
    assert len(lines) == expected + 1 and lines[0].startswith("environment,external_id")


@pytest.mark.parametrize("who,status", [("alice", 200), ("bob", 200), ("carol", 404)])
def test_call_detail_access(client, cast, data_a, who, status):
    call = Call.objects.filter(environment=data_a).first()
    response = _login(client, cast[who]).get(f"/o/org-a/calls/{call.pk}/")
    assert response.status_code == status


def test_call_detail_of_other_org_via_own_slug_is_404(client, carol, data_a):
    call = Call.objects.filter(environment=data_a).first()
    assert _login(client, carol).get(f"/o/org-b/calls/{call.pk}/").status_code == 404


def test_origins_call_detail_shows_transcript_and_quality(client, alice, data_a):
    call = Call.objects.filter(environment=data_a).first()
    call.raw = {"call_transcription": [{"role": "agent", "content": "Olá, tudo bem?"}],
                "call_quality": {"mos": 4.2}, "call_timeline": [{"event": "answered"}]}
    call.save()
    html = _login(client, alice).get(f"/o/org-a/calls/{call.pk}/").content.decode()
    assert "Olá, tudo bem?" in html and "mos" in html and "answered" in html


def test_callbacks_and_agents_pages(client, alice, data_a):
    _login(client, alice)
    assert "Per source agent" in client.get("/o/org-a/callbacks/").content.decode()
    response = client.get("/o/org-a/callbacks/?format=csv&table=sources")
    assert b"".join(response.streaming_content).decode("utf-8-sig").startswith("environment_id")
    html = client.get("/o/org-a/agents/?range=30d").content.decode()
    assert "Agent 2" in html and "agent=agent-" in html


def test_sync_status_lists_runs_and_sync_now_only_for_admins(client, cast, data_a):
    SyncRun.objects.create(environment=data_a, stream=Stream.CALLS, status=RunStatus.FAILED,
                           error="HTTP 500 from upstream", finished_at=timezone.now())
    html = _login(client, cast["alice"]).get("/o/org-a/sync/").content.decode()
    assert "HTTP 500 from upstream" in html and "Sync now" in html
    assert "Sync now" not in _login(client, cast["bob"]).get("/o/org-a/sync/").content.decode()


@pytest.mark.parametrize("who,status", [("alice", 302), ("bob", 403), ("carol", 404)])
def test_sync_now_permissions(client, cast, data_a, who, status):
    response = _login(client, cast[who]).post(f"/o/org-a/sync/{data_a.pk}/now/")
    assert response.status_code == status


def test_times_are_shown_in_the_org_timezone(client, alice, env_a):
    from datetime import UTC, datetime

    from tests.support.factories import build_call, save_calls

    moment = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)
    call = save_calls(env_a, [build_call(env_a, moment)])[0]
    html = _login(client, alice).get(f"/o/org-a/calls/{call.pk}/").content.decode()
    assert "03/09/2026 11:30 PM" in html  # 02:30 UTC is 23:30 the day before in São Paulo


def test_broad_listing_count_is_capped(client, alice, data_a, monkeypatch):
    from reports.pages import calls as calls_view

    monkeypatch.setattr(calls_view, "COUNT_LIMIT", 20)
    response = _login(client, alice).get("/o/org-a/calls/")
    assert response.context["page"].paginator.capped
    assert "More than 20 calls" in response.content.decode()


def test_period_picker_shows_the_default_period(client, alice, data_a):
    response = _login(client, alice).get("/o/org-a/callbacks/")
    scope = response.context["scope"]
    assert (scope.end - scope.start).days == 29
    assert '<option value="30d" selected>' in response.content.decode()
