"""Saved views: a member names the current scope and filters, finds the view in the
navigation and opens it on the same figures; owners and admins share one with the
organisation; another organisation's view and another member's private view are a 404."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from portal.models import Membership, Role
from reports.models import SavedView
from tests.support.cast import make_env, make_user
from tests.support.factories import make_agents, make_calls


@pytest.fixture
def seeded(org_a, env_a, alice, bob):
    env_2 = make_env(org_a, "Second desk", "talq_cccccccccccccccccccccccccccc3333")
    today = timezone.localdate(timezone=org_a.tzinfo)
    first = today - timedelta(days=20)
    make_calls(env_a, 80, first, today, agents=make_agents(env_a, 2), seed=1)
    make_calls(env_2, 40, first, today, agents=make_agents(env_2, 2), seed=2)
    return {"env_2": env_2, "today": today}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _save(client: Client, page: str, query: str, name: str = "Mine", **extra):
    return client.post("/o/org-a/views/save/",
                       {"page": page, "query": query, "name": name, **extra})


def test_saved_dashboard_view_opens_on_the_same_figures(seeded, alice, env_a):
    client = _client(alice)
    first = (seeded["today"] - timedelta(days=6)).isoformat()
    query = f"range=custom&start={first}&end={seeded['today'].isoformat()}&env={env_a.pk}"
    direct = client.get(f"/o/org-a/?{query}")
    assert direct.status_code == 200
    response = _save(client, "dashboard", query + "&page=3&format=csv&table=series",
                     name="  Last week A ")
    assert response.status_code == 302
    view = SavedView.objects.across_organizations().get()
    assert (view.name, view.page, view.owner, view.shared) == ("Last week A", "dashboard",
                                                               alice, False)
    assert "page=" not in view.query and "format" not in view.query and "table" not in view.query
    assert response["Location"] == f"/o/org-a/?{view.query}"

    opened = client.get(f"/o/org-a/views/{view.pk}/")
    assert opened.status_code == 302 and opened["Location"] == f"/o/org-a/?{view.query}"
    again = client.get(opened["Location"])
    assert again.context["calls"].totals == direct.context["calls"].totals
    assert again.context["calls"].totals.total > 0
    assert again.context["scope"].start == direct.context["scope"].start
    assert [e.pk for e in again.context["scope"].environments] == [env_a.pk]

    # Found in the navigation: the tab lists it, the page links to it.
    listing = client.get("/o/org-a/views/")
    html = listing.content.decode()
    assert 'href="/o/org-a/views/"' in client.get("/o/org-a/").content.decode()
    assert f'href="/o/org-a/views/{view.pk}/"' in html and "Last week A" in html


def test_calls_view_keeps_the_explorer_filters_and_sort(seeded, alice):
    client = _client(alice)
    query = "range=7d&direction=outbound&sort=agent"
    direct = client.get(f"/o/org-a/calls/?{query}")
    _save(client, "calls", query, name="Outbound")
    view = SavedView.objects.across_organizations().get()
    opened = client.get(client.get(f"/o/org-a/views/{view.pk}/")["Location"])
    assert opened.context["page"].paginator.count == direct.context["page"].paginator.count
    assert opened.context["sort"] == "agent"


def test_save_form_is_on_the_report_pages_only(seeded, alice):
    client = _client(alice)
    for url in ("/o/org-a/", "/o/org-a/calls/", "/o/org-a/agents/", "/o/org-a/callbacks/"):
        html = client.get(url + "?range=7d").content.decode()
        assert 'action="/o/org-a/views/save/"' in html, url
        assert 'name="query" value="range=7d"' in html, url
    assert "views/save/" not in client.get("/o/org-a/sync/").content.decode()


def test_private_views_are_private_and_sharing_is_for_admins(seeded, alice, bob):
    alice_c, bob_c = _client(alice), _client(bob)
    _save(alice_c, "agents", "range=30d", name="Alice private")
    private = SavedView.objects.across_organizations().get(name="Alice private")
    # Bob (viewer) does not see, open, rename or delete Alice's private view.
    assert "Alice private" not in bob_c.get("/o/org-a/views/").content.decode()
    for method, url in [("get", f"/o/org-a/views/{private.pk}/"),
                        ("post", f"/o/org-a/views/{private.pk}/rename/"),
                        ("post", f"/o/org-a/views/{private.pk}/delete/")]:
        assert getattr(bob_c, method)(url, {"name": "x"}).status_code == 404, url
    # A viewer cannot share; saving privately works.
    assert _save(bob_c, "agents", "range=7d", name="Bob's", shared="1").status_code == 403
    assert _save(bob_c, "agents", "range=7d", name="Bob's").status_code == 302
    bobs = SavedView.objects.across_organizations().get(name="Bob's")
    assert bob_c.post(f"/o/org-a/views/{bobs.pk}/share/", {"shared": "1"}).status_code == 403
    # Alice (owner) shares hers: Bob now finds and opens it, but cannot change it.
    assert alice_c.post(f"/o/org-a/views/{private.pk}/share/", {"shared": "1"}).status_code == 302
    private.refresh_from_db()
    assert private.shared
    assert "Alice private" in bob_c.get("/o/org-a/views/").content.decode()
    assert bob_c.get(f"/o/org-a/views/{private.pk}/")["Location"] == "/o/org-a/agents/?range=30d"
    assert bob_c.post(f"/o/org-a/views/{private.pk}/delete/").status_code == 403
    assert bob_c.post(f"/o/org-a/views/{private.pk}/rename/", {"name": "x"}).status_code == 403
    # Saved shared directly by an owner.
    assert _save(alice_c, "callbacks", "", name="Team", shared="on").status_code == 302
    assert SavedView.objects.across_organizations().get(name="Team").shared


def test_rename_and_delete_your_own(seeded, bob):
    client = _client(bob)
    _save(client, "dashboard", "range=90d", name="Old")
    view = SavedView.objects.across_organizations().get()
    assert client.post(f"/o/org-a/views/{view.pk}/rename/", {"name": "New"}).status_code == 302
    view.refresh_from_db()
    assert view.name == "New"
    assert client.post(f"/o/org-a/views/{view.pk}/rename/", {"name": "  "}).status_code == 400
    assert client.get(f"/o/org-a/views/{view.pk}/delete/").status_code == 405
    assert client.post(f"/o/org-a/views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.across_organizations().exists()


def test_another_organisations_view_is_404(seeded, alice, carol, org_b):
    _save(_client(alice), "dashboard", "range=7d", name="A team", shared="1")
    view = SavedView.objects.across_organizations().get()
    carol_c = _client(carol)
    # Carol is no member of org A; through her own organisation the id is not found either.
    assert carol_c.get(f"/o/org-a/views/{view.pk}/").status_code == 404
    for url in (f"/o/org-b/views/{view.pk}/", f"/o/org-b/views/{view.pk}/rename/",
                f"/o/org-b/views/{view.pk}/delete/", f"/o/org-b/views/{view.pk}/share/"):
        method = carol_c.get if url.endswith(f"{view.pk}/") else carol_c.post
        assert method(url, {"name": "x", "shared": "1"}).status_code == 404, url
    assert "A team" not in carol_c.get("/o/org-b/views/").content.decode()
    # A member of both sees org A's shared view only under org A.
    dave = make_user(type(carol), "dave")
    Membership.objects.create(user=dave, organization=org_b, role=Role.ADMIN)
    assert _client(dave).get(f"/o/org-b/views/{view.pk}/").status_code == 404


@pytest.mark.parametrize("data", [
    {"page": "settings-members", "query": "", "name": "x"},
    {"page": "dashboard", "query": "", "name": "   "},
    {"page": "dashboard", "query": "a=" + "x" * 3000, "name": "long"},
    {"page": "dashboard", "query": "", "name": "n" * 101},
    {},
])
def test_bad_input_is_a_400(seeded, alice, data):
    response = _client(alice).post("/o/org-a/views/save/", data)
    assert response.status_code == 400
    assert not SavedView.objects.across_organizations().exists()


def test_portuguese_labels(seeded, alice):
    client = _client(alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"
    html = client.get("/o/org-a/").content.decode()
    assert "Salvar esta visão" in html and "Visões salvas" in html


def test_report_pages_list_the_members_views(seeded, alice, bob):
    _save(_client(alice), "calls", "range=7d", name="Alice only")
    _save(_client(alice), "agents", "range=30d", name="For the team", shared="1")
    alice_html = _client(alice).get("/o/org-a/agents/").content.decode()
    bob_html = _client(bob).get("/o/org-a/agents/").content.decode()
    assert 'class="saved-links"' in alice_html
    assert "Alice only" in alice_html and "For the team" in alice_html
    assert "Alice only" not in bob_html and "For the team" in bob_html
