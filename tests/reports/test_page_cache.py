"""Report pages kept rendered (`reports.pages.page_cache`): the dashboard's body is shared by every
member and kept by data version; its frame is kept per member. A request that finds both
renders nothing; a sync that changes the mirror, an alert that changes state, another
language or query, and whatever one member sees of their own (name, role, saved views,
dismissed banners, CSRF token) never reach another request's page.
"""
from __future__ import annotations

import re
from datetime import timedelta
from unittest.mock import patch

import pytest
from django.core.cache import cache
from django.db.models import F
from django.test import Client
from django.utils import timezone

from portal.models import Environment, Team
from reports.alerts.models import AlertRule, BannerDismissal
from reports.models import SavedView
from reports.pages.page_cache import CSRF_PLACEHOLDER, SEARCH_PLACEHOLDER
from sync.models import Call
from tests.support.factories import make_agents, make_calls

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def mirror(env_a):
    today = timezone.localdate(timezone=env_a.organization.tzinfo)
    make_calls(env_a, 60, today - timedelta(days=10), today - timedelta(days=1),
               agents=make_agents(env_a, 2), seed=5)
    return today


def page(client, **query):
    response = client.get("/o/org-a/", {"range": "30d", **query})
    assert response.status_code == 200
    return response


def kept(response) -> bool:
    """Sent from the cache: no template was rendered for it."""
    return response.context is None


def body_of(response) -> str:
    html = response.content.decode()
    return html[html.index('<section class="kpis"'):html.index('id="chart-data"')]


def test_second_request_renders_nothing_and_sends_the_same_page(client, alice, env_a, mirror):
    client.force_login(alice)
    first = page(client)
    assert not kept(first) and first.context["calls"].totals.total > 0
    again = page(client)
    assert kept(again)
    assert TOKEN.sub("", again.content.decode()) == TOKEN.sub("", first.content.decode())
    assert 'id="chart-data"' in again.content.decode()


def test_a_sync_that_changes_the_mirror_renders_anew(client, alice, env_a, mirror):
    client.force_login(alice)
    before = page(client).context["calls"].totals.total
    make_calls(env_a, 7, mirror - timedelta(days=3), mirror - timedelta(days=3), seed=9,
               testing_share=0)
    assert kept(page(client))  # the mirror changed, but no sync said so yet
    Environment.objects.filter(pk=env_a.pk).update(data_version=F("data_version") + 1)
    after = page(client)
    assert not kept(after) and after.context["calls"].totals.total == before + 7


def test_language_and_query_have_pages_of_their_own(client, alice, env_a, mirror):
    client.force_login(alice)
    page(client)
    client.cookies["django_language"] = "pt-br"
    portuguese = page(client)
    assert not kept(portuguese) and "Taxa de atendimento" in portuguese.content.decode()
    week = page(client, range="7d")
    assert not kept(week)
    assert kept(page(client)) and kept(page(client, range="7d"))


def test_an_alert_that_changes_state_shows_at_once(client, alice, env_a, mirror):
    rule = AlertRule.objects.create(organization=env_a.organization, name="Queda",
                                    metric="calls", condition="below", threshold=1)
    client.force_login(alice)
    assert "Queda" not in page(client).content.decode()
    assert kept(page(client))
    # The evaluator writes with update(): no signal, no save(); the page still sees it.
    rules = AlertRule.objects.for_organization(rule.organization_id).filter(pk=rule.pk)
    rules.update(state="firing", state_seq=1, last_evaluated_at=timezone.now())
    firing = page(client)
    assert not kept(firing) and "Queda" in firing.content.decode()
    rules.update(acknowledged_at=timezone.now())
    acknowledged = page(client)  # an acknowledged rule's banner is gone for everyone
    assert not kept(acknowledged) and "Queda" not in acknowledged.content.decode()
    rules.update(state="ok", state_seq=2)
    assert "Queda" not in page(client).content.decode()


def test_a_frame_state_with_no_firing_rule_and_no_view_is_all_the_frame_asks(client, alice,
                                                                             env_a, mirror):
    """The frame's state (`reports.pages.page_state`) reads the organisation's firing rules,
    saved views and teams on every request; when it found none, the banner, the saved-views
    menu and the team choice ask no query of their own. When it found some, they ask theirs
    and show them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def tables_asked(response_of) -> list[str]:
        with CaptureQueriesContext(connection) as asked:
            response_of()
        return [q["sql"] for q in asked.captured_queries
                if any(t in q["sql"] for t in ("reports_alertrule", "reports_savedview",
                                                  "portal_team"))]

    client.force_login(alice)
    asked = tables_asked(lambda: page(client))
    assert len(asked) == 1 and "UNION ALL" in asked[0], asked  # the frame state only
    rule = AlertRule.objects.create(organization=env_a.organization, name="Queda",
                                    metric="calls", condition="below", threshold=1,
                                    state="firing", state_seq=1,
                                    last_evaluated_at=timezone.now())
    SavedView.objects.create(organization=env_a.organization, owner=alice, name="Mine",
                             page="dashboard")
    html = []
    asked = tables_asked(lambda: html.append(page(client).content.decode()))
    assert len(asked) == 4, asked  # the state, the probe, the banner's list, the views
    assert "Queda" in html[0] and "Mine" in html[0] and 'name="team"' not in html[0]
    Team.objects.create(organization=env_a.organization, name="Norte")
    asked = tables_asked(lambda: html.append(page(client).content.decode()))
    assert len(asked) == 5 and 'name="team"' in html[1], asked  # and the teams
    BannerDismissal.objects.create(rule=rule, user=alice, state_seq=1)
    assert "Queda" not in page(client).content.decode()


def test_a_team_added_or_renamed_shows_in_a_kept_frame(client, alice, env_a, mirror):
    """The team choice is part of the frame: a team created or renamed after the frame was
    kept renders it anew (it was served stale until the frame expired)."""
    client.force_login(alice)
    assert 'name="team"' not in page(client).content.decode()
    assert kept(page(client))
    team = Team.objects.create(organization=env_a.organization, name="Norte")
    added = page(client)
    assert not kept(added) and ">Norte</option>" in added.content.decode()
    assert kept(page(client))
    Team.objects.filter(pk=team.pk).update(name="Nordeste")
    renamed = page(client)
    assert not kept(renamed) and ">Nordeste</option>" in renamed.content.decode()


def test_the_frame_follows_the_clock_not_only_the_rows(client, alice, env_a, mirror):
    """"synced 4 min ago" and "overdue" change with time while no row changes: the frame's
    state (one statement, `reports.pages.page_state`) computes them, so a kept frame whose
    words went stale is rendered anew."""
    synced = timezone.now() - timedelta(minutes=4)
    Environment.objects.filter(pk=env_a.pk).update(last_synced_at=synced,
                                                   sync_interval_minutes=5, sync_enabled=True)
    client.force_login(alice)
    assert "synced 4 min ago" in page(client).content.decode()
    assert kept(page(client))
    later = synced + timedelta(minutes=11)
    with patch("django.utils.timezone.now", return_value=later):
        moved = page(client)
    html = moved.content.decode()
    assert not kept(moved) and "synced 11 min ago" in html and "overdue" in html


def test_nothing_of_one_member_reaches_another(client, alice, bob, env_a, mirror):
    """alice (owner) has a private saved view and dismissed the banner; bob (viewer) sees
    the same figures (one shared body) and only his own frame."""
    org = env_a.organization
    rule = AlertRule.objects.create(organization=org, name="Queda", metric="calls",
                                    condition="below", threshold=1, state="firing",
                                    state_seq=1, last_evaluated_at=timezone.now())
    BannerDismissal.objects.create(rule=rule, user=alice, state_seq=1)
    SavedView.objects.create(organization=org, owner=alice, name="Alice private", page="dashboard")
    client.force_login(alice)
    mine = page(client)
    assert kept(page(client))
    theirs_client = Client()
    theirs_client.force_login(bob)
    theirs = page(theirs_client)
    assert not kept(theirs)  # a frame of his own, around the body alice's request kept
    assert body_of(theirs) == body_of(mine)
    html, own = theirs.content.decode(), mine.content.decode()
    assert "Alice private" in own and "Alice private" not in html
    assert "Queda" not in own and "Queda" in html  # she dismissed it, he did not
    assert ">alice<" in own and ">alice<" not in html and ">bob<" in html
    assert "Share with the organisation" in own and "Share with the organisation" not in html
    assert TOKEN.findall(own)[0] not in html
    assert kept(page(theirs_client))


def test_the_kept_page_carries_the_requests_own_csrf_token(alice, env_a, mirror):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    page(client)
    again = page(client)
    assert kept(again)
    tokens = set(TOKEN.findall(again.content.decode()))
    assert len(tokens) == 1 and CSRF_PLACEHOLDER not in again.content.decode()
    # The form posts with the token of the kept page; a kept entry never holds a token.
    response = client.post("/i18n/setlang/", {"language": "pt-br", "next": "/o/org-a/",
                                              "csrfmiddlewaretoken": tokens.pop()})
    assert response.status_code == 302
    stored = [cache.get(key.split(":", 2)[2]) for key in _page_keys()]
    assert stored and all(CSRF_PLACEHOLDER in str(value) or "csrfmiddlewaretoken" not in
                          str(value) for value in stored)
    assert not any(token in str(value) for value in stored for token in TOKEN.findall(
        again.content.decode()))


def test_a_page_with_a_message_is_neither_served_kept_nor_kept(client, alice, env_a, mirror):
    client.force_login(alice)
    page(client)
    assert kept(page(client))
    saved = client.post("/o/org-a/views/save/", {"page": "dashboard", "name": "Mine",
                                                 "query": "range=30d"})
    assert saved.status_code == 302
    shown = page(client)  # the message shows on the next page, rendered for it
    assert not kept(shown) and "View “Mine” saved." in shown.content.decode()
    after = page(client)  # the message is gone; the frame lists the new view
    assert not kept(after) and "View “Mine” saved." not in after.content.decode()
    assert ">Mine</a>" in after.content.decode()
    assert kept(page(client))


def _page_keys() -> list[str]:
    client = cache._cache.get_client() if hasattr(cache, "_cache") else None
    if client is None:
        pytest.skip("needs the Redis cache (REDIS_URL)")
    return [key.decode() for key in client.keys("*page*")]


@pytest.mark.parametrize("path,export", [("/o/org-a/agents/", {"format": "csv"}),
                                         ("/o/org-a/callbacks/", {"format": "csv"}),
                                         ("/o/org-a/calls/", {"format": "csv"})])
def test_smaller_report_pages_are_kept_whole_per_member(client, alice, bob, env_a, mirror, path,
                                                        export):
    client.force_login(alice)
    first = client.get(path, {"range": "30d"})
    again = client.get(path, {"range": "30d"})
    assert not kept(first) and kept(again)
    assert TOKEN.sub("", again.content.decode()) == TOKEN.sub("", first.content.decode())
    other = Client()
    other.force_login(bob)
    assert not kept(other.get(path, {"range": "30d"}))
    for _ in range(2):  # a download passes by: never kept, never served from a kept page
        assert client.get(path, {"range": "30d", **export})["Content-Type"].startswith(
            "text/csv")
    Environment.objects.filter(pk=env_a.pk).update(data_version=F("data_version") + 1)
    assert not kept(client.get(path, {"range": "30d"}))


def rendered(response) -> list[str]:
    """The names of the templates rendered for `response`."""
    return [t.name for t in response.templates]


RESULTS = "reports/includes/call_results.html"


def test_a_search_is_run_every_time_in_a_frame_kept_for_its_filters(client, alice, bob, env_a,
                                                                    mirror):
    client.force_login(alice)
    calls = list(Call.objects.filter(environment=env_a, is_testing=False)[:2])
    first = client.get("/o/org-a/calls/", {"range": "30d", "search": calls[0].sid[:13]})
    assert first.status_code == 200 and "reports/calls.html" in rendered(first)
    # Another search with the same filters: its results rendered, the frame kept (no frame
    # template rendered), the searched value filled in the form and the saved-view query.
    second = client.get("/o/org-a/calls/", {"range": "30d", "search": calls[1].sid[:13]})
    html = second.content.decode()
    assert rendered(second) == [RESULTS]
    assert f'/calls/{calls[1].pk}/' in html and f'/calls/{calls[0].pk}/' not in html
    assert f'value="{calls[1].sid[:13]}"' in html and f"search={calls[1].sid[:13]}" in html
    assert SEARCH_PLACEHOLDER.split()[0] not in html
    # Run every time: a call mirrored since (no data version moved) is found at once.
    late = make_calls(env_a, 1, mirror - timedelta(days=2), mirror - timedelta(days=2),
                      seed=99, testing_share=0)[0]
    found = client.get("/o/org-a/calls/", {"range": "30d", "search": late.sid})
    assert rendered(found) == [RESULTS] and f'/calls/{late.pk}/' in found.content.decode()
    # Another member never gets this member's frame.
    other = Client()
    other.force_login(bob)
    theirs = other.get("/o/org-a/calls/", {"range": "30d", "search": late.sid})
    assert "reports/calls.html" in rendered(theirs) and ">bob</summary>" in theirs.content.decode()


@pytest.mark.parametrize("value", [
    '<script>alert("x")</script>', "a&b=c d+e%20f#g", "ção ñ 📞 ‘’", "  CA1234…", "x" * 100,
    SEARCH_PLACEHOLDER, f"{SEARCH_PLACEHOLDER}+%3C", "x" * 101])
def test_a_search_sent_in_a_kept_frame_is_the_page_rendered_whole(client, alice, env_a, mirror,
                                                                 value):
    """Every way the searched value shows (the form's field, the links and forms carrying the
    query) is filled the way a whole rendering shows it, hostile values included; one too long
    is refused with the same page, nothing kept."""
    client.force_login(alice)
    query = {"range": "30d", "status": "completed", "search": value}
    with patch("reports.pages.page_cache.get_messages", return_value=[object()]):
        whole = client.get("/o/org-a/calls/", query)  # a pending message: rendered whole
    assert "reports/calls.html" in rendered(whole)
    client.get("/o/org-a/calls/", {**query, "search": "keep the frame"})
    sent = client.get("/o/org-a/calls/", query)
    assert sent.status_code == whole.status_code == (400 if len(value) > 100 else 200)
    assert rendered(sent) == ([RESULTS] if sent.status_code == 200 else rendered(whole))
    assert TOKEN.sub("", sent.content.decode()) == TOKEN.sub("", whole.content.decode())
    assert CSRF_PLACEHOLDER not in sent.content.decode()
