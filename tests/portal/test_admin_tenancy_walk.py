"""Every registered model admin walked as carol — staff owner of org B — with org A's data
present: changelists, every filter-sidebar and date-hierarchy link, autocomplete answers,
history, every action's result. No org A name, slug, environment name, username or object
id appears anywhere; every org A object URL is a 404. Autocomplete and object URLs are also
tried the other way round, as alice (staff owner of A) with org B's ids. Staff viewers and
analysts get 403 on `/admin/`, and what a staff owner may do is exactly the table of
docs/using.md (Admin console).
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.admin.base import TenantAdminMixin
from portal.models import ApiToken, Role
from tests.support.cast import make_member

USING = Path(__file__).resolve().parent.parent.parent / "docs" / "using.md"


def _url(obj, view: str = "change") -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[obj.pk])


def _changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def org_a_markers(world, side: int = 0) -> list[str]:
    """Org A's names (side 1: org B's) that the other organisation's staff must never see."""
    env = (world.env_a, world.env_b)[side]
    org = env.organization
    people = ("alice", "bob") if side == 0 else ("carol",)
    names = [org.name, org.slug, env.name, *people, f"Weekly {org.slug}"]
    names += [str(pair[side]) for pair in world.pairs.values() if str(pair[0]) != str(pair[1])]
    return sorted(set(names))


def org_a_links(world, side: int = 0) -> list[str]:
    """Every org A (side 1: org B) object URL and every filter that names one of its ids."""
    env = (world.env_a, world.env_b)[side]
    links = [_url(pair[side]) for pair in world.pairs.values()]
    # Named by the field they filter on: a bare `__id__exact=<pk>` also matched carol's own
    # agent whenever its id happened to equal org A's environment's.
    links += [f"environment__id__exact={env.pk}&",
              f"organization__id__exact={env.organization.pk}&"]
    return links


RANDOM_VALUES = re.compile(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]*"')


def assert_clean(world, body: str, where: str, links: bool = True, side: int = 0) -> None:
    """No org A (side 1: org B) name or link in `body`. Random per-request values (CSRF
    token, CSP nonce) are dropped first: a token may happen to contain "bob"."""
    text = html.unescape(RANDOM_VALUES.sub("", body))
    leaked = [m for m in org_a_markers(world, side) if m in text]
    if links:  # off where the request itself names an org A id (echoed in its own links)
        leaked += [link for link in org_a_links(world, side) if link in text + "&"]
    assert not leaked, (where, leaked)


def sidebar_links(body: str, changelist: str) -> list[str]:
    """Filter-sidebar and date-hierarchy links of a changelist page (query strings), one per
    set of parameters they set: the links of one filter differ only in the value, each one of
    carol's own, and go through the same filter's code."""
    links = sorted({html.unescape(q) for q in re.findall(r'href="(\?[^"]*)"', body)})
    by_params = {frozenset(parse_qs(q[1:], keep_blank_values=True)): q for q in reversed(links)}
    return sorted(by_params.values())


def superuser_only(model) -> bool:
    """Admins of no organisation's data (Django's users and groups, axes' logs) and of
    personal API tokens (their owner's, whatever the organisation): superusers only."""
    model_admin = admin.site._registry[model]
    return not isinstance(model_admin, TenantAdminMixin) or model is ApiToken


@pytest.fixture
def carol_client(world) -> Client:
    return world.client("carol")


def test_changelists_filters_and_date_hierarchy(world, carol_client):
    carol = carol_client
    walked = 0
    for model in admin.site._registry:
        changelist = _changelist(model)
        response = carol.get(changelist)
        expected = 403 if superuser_only(model) else 200
        assert response.status_code == expected, (model, response.status_code)
        if expected == 403:
            continue
        body = response.content.decode()
        assert_clean(world, body, changelist)
        for query in sidebar_links(body, changelist):
            page = carol.get(changelist + query)
            assert page.status_code < 500, (changelist + query, page.status_code)
            assert_clean(world, page.content.decode(), changelist + query)
            walked += 1
        # Tampered filters naming org A's ids show nothing of org A either.
        for param in ("environment__id__exact", "organization__id__exact",
                      "subscription__organization__id__exact"):
            value = world.env_a.pk if param.startswith("environment") else \
                world.env_a.organization.pk
            page = carol.get(changelist, {param: value})
            assert page.status_code < 500
            assert_clean(world, page.content.decode(), f"{changelist}?{param}", links=False)
            assert _url(world.pairs[type(world.env_a)][0]) not in page.content.decode()
    assert walked > 20  # the sidebars really were followed


def test_date_hierarchy_drilldown(world, carol_client):
    carol = carol_client
    for model, model_admin in admin.site._registry.items():
        if not model_admin.date_hierarchy or model not in world.pairs:
            continue
        field = model_admin.date_hierarchy
        for params in ({f"{field}__year": 2026}, {f"{field}__year": 2026, f"{field}__month": 11}):
            page = carol.get(_changelist(model), params)
            assert page.status_code == 200, (model, params)
            assert_clean(world, page.content.decode(), f"{model} {params}")


# Each staff owner and the organisation whose ids they try: carol (B) org A's, alice (A) B's.
INTRUDERS = [("carol", 0), ("alice", 1)]


@pytest.mark.parametrize("who,side", INTRUDERS)
def test_autocomplete_answers(world, who, side):
    """Every foreign key of every admin model whose target admin can search, any term: no
    option of the other organisation."""
    carol = world.client(who)
    tried = 0
    for source in admin.site._registry:
        for field in source._meta.get_fields():
            if not (field.is_relation and field.concrete and field.related_model
                    and (field.many_to_one or field.many_to_many)):
                continue
            target_admin = admin.site._registry.get(field.related_model)
            if target_admin is None or not target_admin.search_fields:
                continue
            for term in ("", "A", "org", "a"):
                response = carol.get(reverse("admin:autocomplete"), {
                    "app_label": source._meta.app_label, "model_name": source._meta.model_name,
                    "field_name": field.name, "term": term})
                # Django asks the target's admin: a superuser-only one (users) refuses staff.
                expected = 403 if superuser_only(source) or superuser_only(
                    field.related_model) else 200
                assert response.status_code == expected, (source, field.name)
                if response.status_code == 200:
                    tried += 1
                    results = response.json()["results"]
                    a_obj = world.pairs.get(field.related_model, (None, None))[side]
                    ids = {r["id"] for r in results}
                    assert a_obj is None or str(a_obj.pk) not in ids or \
                        field.related_model._meta.model_name == "user", (source, field.name)
                    assert_clean(world, response.content.decode(), f"{source} {field.name}",
                                 side=side)
    assert tried >= 4


@pytest.mark.parametrize("who,side", INTRUDERS)
def test_history_and_object_urls(world, who, side):
    """The other organisation's object URLs are a 404 (and a POST changes nothing); one's
    own history names nothing of the other."""
    carol = world.client(who)
    for model, pair in world.pairs.items():
        if model not in admin.site._registry:
            continue
        theirs, mine = pair[side], pair[1 - side]
        for view in ("change", "history", "delete"):
            assert carol.get(_url(theirs, view)).status_code == 404, (model, view)
            assert carol.post(_url(theirs, view), {}).status_code == 404, (model, view)
        assert model._base_manager.filter(pk=theirs.pk).exists(), model
        # "View on site" reads through the base manager, past the tenant context: staff get
        # a 404 without the object being read at all (no existence oracle).
        shortcut = reverse("admin:view_on_site", args=[
            ContentType.objects.get_for_model(model).pk, theirs.pk])
        with CaptureQueriesContext(connection) as read:
            assert carol.get(shortcut).status_code == 404, model
        assert not [q for q in read.captured_queries
                    if f'"{model._meta.db_table}"."id" = {theirs.pk}' in q["sql"]], model
        history = carol.get(_url(mine, "history"))
        if history.status_code == 200:
            assert_clean(world, history.content.decode(), f"{model} history", side=side)
    assert_clean(world, carol.get(reverse("admin:index")).content.decode(), "index", side=side)


def test_every_action_result(world, carol_client):
    carol = carol_client
    """Each action run over org A's and org B's objects at once touches and names only B's."""
    for model, model_admin in admin.site._registry.items():
        if model not in world.pairs:
            continue
        obj_a, obj_b = world.pairs[model]
        listing = carol.get(_changelist(model))
        if listing.status_code != 200:
            continue
        actions = model_admin.get_actions(listing.wsgi_request)
        for name in actions:
            response = carol.post(_changelist(model), {
                "action": name, "_selected_action": [obj_a.pk, obj_b.pk], "index": 0,
                "days": ""}, follow=True)
            assert response.status_code < 500, (model, name)
            assert_clean(world, response.content.decode(), f"{model} action {name}")


def test_staff_viewers_and_analysts_are_refused(world, django_user_model, org_a):
    dave = make_member(django_user_model, "dave", org_a, Role.ANALYST, is_staff=True)
    for user in (world.users["bob"], dave):
        client = Client()
        client.force_login(user)
        assert client.get("/admin/").status_code == 403, user
        assert client.get(_changelist(model=type(world.env_a))).status_code == 403
        assert client.get(reverse("admin:autocomplete"), {
            "app_label": "portal", "model_name": "membership", "field_name": "organization",
            "term": ""}).status_code == 403


def readme_rights() -> dict[str, set[str]]:
    """`app.model` → what a staff owner/admin may do, from the admin table of docs/using.md."""
    text = USING.read_text()
    table = text[text.index("| model | staff owner / admin |"):]
    rights = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        allowed = {r.strip() for r in cells[1].split(",")} - {"—", ""}
        for label in re.findall(r"`([\w.]+)`", cells[0]):
            rights[label] = allowed
    return rights


def test_staff_rights_are_the_readme_table(world, carol_client):
    carol = carol_client
    rights = readme_rights()
    request = carol.get(reverse("admin:index")).wsgi_request
    assert set(rights) == {m._meta.label_lower for m in admin.site._registry}
    obj_b = {m: b for m, (_, b) in world.pairs.items()}
    for model, model_admin in admin.site._registry.items():
        obj = obj_b.get(model)
        module = model_admin.has_module_permission(request)
        actual = {verb for verb in ("view", "change", "delete")
                  if module and getattr(model_admin, f"has_{verb}_permission")(request, obj)}
        if module and model_admin.has_add_permission(request):
            actual.add("add")
        assert actual == rights[model._meta.label_lower], model
        # And the doors agree with the permissions.
        listing = carol.get(_changelist(model))
        assert listing.status_code == (200 if "view" in actual else 403), model
        add = carol.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add"))
        assert add.status_code == (200 if "add" in actual else 403), model
