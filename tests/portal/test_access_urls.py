"""Every URL pattern, generated from the resolver, against org A's ids and slugs.

As carol (owner of B, staff) with a session, anonymously, and as bob (viewer in A) with every
write method: no 5xx anywhere, no 200 that shows org A's data to carol or to nobody, and no
write by bob that changes org A. Every organisation page goes through `org_page`, read-only
pages answer 405 to writes, and a page looks up the membership once.

A pattern added later is tried automatically; a parameter name not known here gets a
harmless sample value (and is still checked for 5xx and leaks).
"""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal.models import (
    ApiToken,
    AuditLog,
    Environment,
    Invitation,
    Membership,
    Organization,
    Role,
)
from portal.tenancy.access import READ_METHODS
from portal.tenancy.api import TenantScopedViewSet
from reports.models import ReportSubscription
from tests.support.cast import signed_in
from tests.support.routes import (
    ID_PARAMS,
    Route,
    all_routes,
    concrete,
    fill,
    org_routes,
    params_of,
    sample_values,
)

WRITES = ("post", "put", "patch", "delete")


def org_a_state(world) -> dict:
    """Everything a write by bob could change in org A."""
    org_a = world.env_a.organization
    return {
        "org": list(Organization.objects.filter(pk=org_a.pk).values()),
        "members": list(Membership.objects.filter(organization=org_a).values().order_by("pk")),
        "envs": list(Environment.objects.filter(organization=org_a).values().order_by("pk")),
        "subs": list(ReportSubscription.objects.for_organization(org_a).values()),
        "sub_members": list(ReportSubscription.members.through.objects.values().order_by("pk")),
        "invitations": list(Invitation.objects.for_organization(org_a).values()),
        "tokens": list(ApiToken.objects.exclude(user=world.users["bob"]).values()),
        "audit": AuditLog.objects.filter(organization=org_a).count(),
    }


def _leaks(world, body: str) -> list[str]:
    return [m for m in world.markers if m in body]


def test_routes_are_found():
    names = {r.name for r in all_routes()}
    assert {"dashboard", "call-detail", "settings-members", "subscription-detail",
            "environment-detail", "invitation-accept"} <= names


def test_every_org_page_goes_through_org_page():
    missing = [r.path for r in org_routes() if not getattr(r.callback, "org_page", False)]
    assert not missing, missing


def _tenant_viewset(route: Route) -> type | None:
    cls = getattr(route.callback, "cls", None)
    return cls if cls is not None and issubclass(cls, TenantScopedViewSet) else None


def outsider_answer(route: Route, who: str) -> int | None:
    """The one answer the design gives carol (another tenant) or nobody on a tenant route,
    asked with org A's slug and ids; None where the design leaves it to the page (login,
    public pages, the admin: checked for 5xx and leaks only)."""
    if getattr(route.callback, "org_page", False):
        if "GET" not in route.callback.allowed_methods:
            return 405
        return 302 if who == "anonymous" else 404  # the login page; another's: not found
    if _tenant_viewset(route) is not None:
        if who == "anonymous":
            return 401  # DRF: the bearer-token scheme is named first
        if "get" not in (getattr(route.callback, "actions", None) or {"get": None}):
            return 405  # a POST-only action (the alert rules' preview)
        if (route.name or "").startswith("report"):
            return 400  # every report needs ?environment=
        if route.name == "privacy-subject-export":
            return 400  # it needs ?number=
        return 404 if re.search(r"<(\w+:)?(pk|environment_pk)>|\(\?P<pk>", route.path) else 200
    return None


@pytest.mark.parametrize("who", ["carol", "anonymous"])
def test_no_route_shows_org_a_to_outsiders(rich_world, who):
    """Every route: no 5xx and no org A marker; and on tenant routes the one answer the
    design gives (another tenant's object 404, anonymous to the login page or 401)."""
    client = Client(raise_request_exception=False)
    if who == "carol":
        client.force_login(rich_world.users["carol"])
    failures = []
    for route in all_routes():
        url = concrete(rich_world, route)
        response = client.get(url)
        expected = outsider_answer(route, who)
        if expected is not None and response.status_code != expected:
            failures.append((url, response.status_code, f"expected {expected}"))
        if expected == 302 and not response["Location"].startswith("/accounts/login/"):
            failures.append((url, response["Location"]))
        if response.status_code >= 500:
            failures.append((url, response.status_code))
        elif response.status_code == 200:
            body = response.content.decode(errors="replace") if not getattr(
                response, "streaming", False) else b"".join(response.streaming_content).decode()
            if leaks := _leaks(rich_world, body):
                failures.append((url, 200, leaks))
    assert not failures, failures


def viewer_write_answer(route: Route, method: str) -> int | None:
    """The one answer the design gives a viewer's write on a tenant route: 405 where the
    route takes no such method, 403 where it needs a higher role; None where a viewer may
    write (their own tokens, saved views, banners) or the route is not a tenant one."""
    if getattr(route.callback, "org_page", False):
        if method.upper() not in route.callback.allowed_methods:
            return 405
        return 403 if route.callback.min_role != Role.VIEWER else None
    cls = _tenant_viewset(route)
    if cls is not None:
        actions = getattr(route.callback, "actions", {})
        return 403 if method in actions else 405
    return None


def test_bob_cannot_write_to_org_a_anywhere(rich_world):
    client = Client(raise_request_exception=False)
    bob = rich_world.users["bob"]
    before = org_a_state(rich_world)
    failures = []
    checked = 0
    for n, route in enumerate(all_routes()):
        url = concrete(rich_world, route)
        # The admin site refuses bob (a viewer: no admin rights) before any of its views,
        # whatever the method: one write per admin URL, the four in turn.
        methods = (WRITES[n % len(WRITES)],) if route.path.startswith("admin/") else WRITES
        for method in methods:
            signed_in(client, bob)  # a logout URL must not end the walk
            response = getattr(client, method)(url, {})
            expected = viewer_write_answer(route, method)
            checked += expected is not None
            if response.status_code >= 500 or expected not in (None, response.status_code):
                failures.append((method, url, response.status_code, f"expected {expected}"))
    assert not failures, failures
    assert checked > 150
    assert org_a_state(rich_world) == before


def test_read_only_pages_answer_405_to_writes(rich_world):
    client = Client(raise_request_exception=False)
    client.force_login(rich_world.users["alice"])
    read_only = [r for r in org_routes() if getattr(r.callback, "allowed_methods", None)
                 == READ_METHODS]
    assert len(read_only) >= 8
    for route in read_only:
        url = concrete(rich_world, route)
        for method in (*WRITES, "trace"):
            assert getattr(client, method)(url).status_code == 405, (method, url)
    # Pages that accept a form still refuse PUT, DELETE and TRACE.
    for route in org_routes():
        url = concrete(rich_world, route)
        for method in ("put", "delete", "trace"):
            assert getattr(client, method)(url).status_code == 405, (method, url)


def test_each_page_looks_up_the_membership_once(rich_world):
    client = Client()
    client.force_login(rich_world.users["alice"])
    for route in org_routes():
        if "GET" not in getattr(route.callback, "allowed_methods", ()):
            continue
        url = concrete(rich_world, route)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code < 500, url
        lookups = [q["sql"] for q in ctx.captured_queries
                   if 'FROM "portal_membership"' in q["sql"]
                   and "portal_organization" in q["sql"]]
        assert len(lookups) == 1, (url, lookups)


@pytest.mark.parametrize("role,status", [("viewer", 403), ("analyst", 403), ("admin", 200)])
def test_role_below_the_page_is_403_non_member_404(rich_world, role, status):
    bob = rich_world.users["bob"]
    Membership.objects.filter(user=bob).update(role=role)
    client = Client()
    client.force_login(bob)
    assert client.get("/o/org-a/settings/members/").status_code == status
    client.force_login(rich_world.users["carol"])
    assert client.get("/o/org-a/settings/members/").status_code == 404
    assert client.get("/o/no-such-org/").status_code == 404


# --- the real attack: one's own organisation's slug, the other organisation's ids ----------

# Each member of the cast: their own organisation's slug, and whose ids they try (0: A, 1: B).
ATTACKERS = {"alice": ("org-a", 1), "bob": ("org-a", 1), "carol": ("org-b", 0)}


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def attack_answer(route: Route, who: str, method: str) -> set[int] | None:
    """The answer to a member asking, under their own slug, for the other organisation's
    object: 404 (405 where the route takes no such method; 403 where their role is below
    the page's, or the write's, checked before any lookup); None where only 5xx and leaks
    are checked."""
    if getattr(route.callback, "org_page", False):
        if method.upper() not in route.callback.allowed_methods:
            return {405}
        if who == "bob" and route.callback.min_role != Role.VIEWER:
            return {403}
        return {403, 404} if who == "bob" and method != "get" else {404}
    cls = _tenant_viewset(route)
    if cls is not None:
        if method not in getattr(route.callback, "actions", {}):
            return {405}
        return {403} if who == "bob" and method != "get" else {404}
    if route.path.startswith("admin/") and re.search(r"object_id>/(change|history|delete)/$",
                                                     route.path):
        return {403} if who == "bob" else {404}
    return None  # e.g. the admin's old object URL: a redirect to the change page


def _methods(route: Route) -> list[str]:
    """GET, and the writes the route takes (a write it refuses is a 405 before any lookup:
    `test_read_only_pages_answer_405_to_writes`)."""
    if getattr(route.callback, "org_page", False):
        return [m.lower() for m in route.callback.allowed_methods if m in ("GET", "POST")]
    actions = getattr(route.callback, "actions", None)
    if actions is not None:
        return [m for m in ("get", "delete") if m in actions]
    return ["get", "post"]


def _admin_route_of_the_world(world, route: Route) -> bool:
    match = re.match(r"admin/(\w+)/(\w+)/", route.path)
    return bool(match) and any((m._meta.app_label, m._meta.model_name) == match.groups()
                               for m in world.pairs)


def _id_routes(world) -> list[Route]:
    routes = []
    for route in all_routes():
        params = set(params_of(route))
        if not params & ID_PARAMS:
            continue
        if route.path.startswith("admin/") and not _admin_route_of_the_world(world, route):
            continue  # Django's users and groups, axes: superusers only
        routes.append(route)
    return routes


@pytest.mark.parametrize("who", sorted(ATTACKERS))
def test_the_other_organisations_ids_under_ones_own_slug_are_404(rich_world, who):
    """Every URL pattern with an id — pages, API, admin object pages, exports — asked by
    each member of the cast in their own organisation's slug with the other organisation's
    ids: the one answer above, never a 5xx, never a name or number of the other
    organisation; and nothing of it changes (writes included)."""
    slug, theirs = ATTACKERS[who]
    world = rich_world
    client = Client(raise_request_exception=False)
    before = org_a_state(world), _org_b_state(world)
    failures, tried = [], 0
    for route in _id_routes(world):
        url = fill(route, sample_values(world, route, side=theirs, slug=slug))
        for method in _methods(route):
            client.force_login(world.users[who])
            response = getattr(client, method)(url)
            expected = attack_answer(route, who, method)
            tried += expected == {404}
            if response.status_code >= 500 or (
                    expected is not None and response.status_code not in expected):
                failures.append((method, url, response.status_code, f"expected {expected}"))
            leaked = [m for m in world.markers_of[theirs] if m in _body(response)]
            if leaked:
                failures.append((method, url, response.status_code, leaked))
    assert not failures, failures
    assert tried > (10 if who == "bob" else 80)
    assert (org_a_state(world), _org_b_state(world)) == before


@pytest.mark.parametrize("who", ["alice", "carol"])  # bob: alice's slug and ids, her pages
def test_drill_links_and_exports_with_the_other_organisations_ids_show_nothing_of_it(
        rich_world, who):
    """Every page and report that reads ids from its query (drill links, CSV exports, the
    reports API) asked with the other organisation's environment and agent: a 4xx or a page
    without them, never a 5xx or a name of the other organisation."""
    slug, theirs = ATTACKERS[who]
    world = rich_world
    foreign = world.samples[theirs]
    client = Client(raise_request_exception=False)
    client.force_login(world.users[who])
    queries = [{"environment": foreign["env"]},
               {"env": foreign["env"], "agent": foreign["agent_ext"],
                "agent_id": foreign["agent_ext"]},
               {"env": foreign["env"], "format": "csv", "table": "calls"}]
    failures, tried = [], 0
    for route in all_routes():
        if set(params_of(route)) - {"org_slug"} or route.path.startswith("admin/"):
            continue
        if not (getattr(route.callback, "org_page", False) or _tenant_viewset(route)):
            continue
        if getattr(route.callback, "org_page", False) and \
                "GET" not in route.callback.allowed_methods:
            continue
        url = fill(route, sample_values(world, route, side=theirs, slug=slug))
        for query in queries:
            response = client.get(url, query)
            tried += 1
            if response.status_code >= 500:
                failures.append((url, query, response.status_code))
            if (route.name or "").startswith("report") and list(query) == ["environment"] \
                    and response.status_code != 404:
                failures.append((url, query, response.status_code, "expected 404"))
            leaked = [m for m in world.markers_of[theirs] if m in _body(response)]
            if leaked:
                failures.append((url, query, response.status_code, leaked))
    assert not failures, failures
    assert tried > 30


def _org_b_state(world) -> dict:
    org_b = world.env_b.organization
    return {
        "members": list(Membership.objects.filter(organization=org_b).values().order_by("pk")),
        "envs": list(Environment.objects.filter(organization=org_b).values().order_by("pk")),
        "subs": list(ReportSubscription.objects.for_organization(org_b).values()),
        "invitations": list(Invitation.objects.for_organization(org_b).values()),
        "tokens": list(ApiToken.objects.filter(user=world.users["carol"]).values()),
        "objects": {m._meta.label: m._base_manager.filter(pk=b.pk).exists()
                    for m, (_, b) in world.pairs.items()},
    }
