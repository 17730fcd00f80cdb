"""The URL resolver walked: every pattern as a `Route`, and org A's ids and slugs to fill it in.

Used by the resolver walks (tests/portal/test_access_urls.py, test_bad_input.py,
test_pt_br_complete.py, test_redis_degrade.py, test_tenancy_registry.py); `enrich` makes the
`rich_world` fixture (tests/conftest.py) from the admin world.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

from portal.models import ApiToken, Invitation, Membership, Team
from reports.models import ReportSubscription
from sync.models import Agent, Call
from tests.support.admin_world import World


@dataclass(frozen=True)
class Route:
    path: str  # e.g. "o/<slug:org_slug>/calls/<int:call_id>/" or a regex for re_path
    name: str | None
    is_regex: bool
    callback: object


def _routes(patterns, prefix: str = "", regex: bool = False) -> Iterator[Route]:
    for p in patterns:
        is_regex = regex or isinstance(p.pattern, RegexPattern)
        text = str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + text, is_regex)
        elif isinstance(p, URLPattern):
            yield Route(prefix + text, p.name, is_regex, p.callback)


def all_routes() -> list[Route]:
    return list(_routes(get_resolver().url_patterns))


def org_routes() -> list[Route]:
    return [r for r in all_routes() if "<slug:org_slug>" in r.path]


def _admin_object(world, route: str, side: int = 0):
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if match:
        for model, pair in world.pairs.items():
            if (model._meta.app_label, model._meta.model_name) == match.groups():
                return pair[side]
    return (world.env_a, world.env_b)[side]


# Path parameters that name an object (the ids the walk swaps for another organisation's).
ID_PARAMS = {"env_id", "environment_pk", "environment_id", "call_id", "member_id", "token_id",
             "invitation_id", "agent_id", "pk", "object_id", "team_id"}


def params_of(route: Route) -> list[str]:
    return [p[0] or p[1] for p in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route.path)]


def _pk_sample(name: str, route: Route, a: dict) -> object:
    """Which object a route's `pk` names, by the route's name."""
    if "subscription" in name:
        return a["subscription"]
    if name.startswith("saved-view"):
        return a.get("saved_view", a["env"])
    if name.startswith("alerts-") or name == "alert-rule-detail":
        return a.get("rule", a["env"])
    if name.startswith("team-"):
        return a.get("team", a["env"])
    if name == "alert-event-detail":
        return a.get("event", a["env"])
    if name == "call-detail" and route.path.startswith("api/"):
        return a["call"]
    return a["env"]


def sample_values(world, route: Route, side: int = 0, slug: str | None = None
                  ) -> dict[str, str]:
    """Org A's ids (side 1: org B's) for each parameter of `route`, in org A's slug (or
    `slug`: a member's own organisation, with the other organisation's ids)."""
    a = world.samples[side] if hasattr(world, "samples") else world.sample
    name = route.name or ""
    by_param = {
        "org_slug": slug or ("org-a", "org-b")[side], "env_id": a["env"],
        "environment_pk": a["env"], "environment_id": a["env"], "call_id": a["call"],
        "member_id": a["member"], "token_id": a["token"], "invitation_id": a["invitation"],
        "agent_id": a["agent_ext"], "team_id": a.get("team", "1"),
        "uidb64": "MQ", "token": "forged-token", "format": "json",
        "app_label": "portal", "content_type_id": "1", "url": "x",
    }
    values = {}
    for param in params_of(route):
        if param == "pk":
            values[param] = _pk_sample(name, route, a)
        elif param == "object_id":
            values[param] = _admin_object(world, route.path, side).pk
        else:
            values[param] = by_param.get(param, "1")
    return {k: str(v) for k, v in values.items()}


def fill(route: Route, values: dict[str, str]) -> str:
    """The route's path with each parameter replaced by its value."""
    path = route.path
    if route.is_regex:
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], path)
        path = path.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")
    else:
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], path)
    return "/" + path


def concrete(world, route: Route) -> str:
    return fill(route, sample_values(world, route))


def _side(world: World, side: int, user: str, email: str) -> tuple[dict, list[str]]:
    """One organisation's sample ids and markers (names and numbers only it has)."""
    from reports.models import AlertEvent, AlertRule, SavedView

    pair = {model: objs[side] for model, objs in world.pairs.items()}
    org = pair[Call].environment.organization
    invitation = Invitation.objects.create(organization=org, email=email)
    sub = pair[ReportSubscription]
    sub.members.add(world.users[user])
    team = Team.objects.create(organization=org, name=f"Team {org.slug}")
    sample = {
        "env": pair[Call].environment_id, "call": pair[Call].pk,
        "member": Membership.objects.get(user=world.users[("bob", "carol")[side]]).pk,
        "token": pair[ApiToken].pk, "invitation": invitation.pk,
        "agent_ext": pair[Agent].external_id, "subscription": sub.pk,
        "saved_view": pair[SavedView].pk, "rule": pair[AlertRule].pk,
        "event": pair[AlertEvent].pk, "team": team.pk,
    }
    markers = [org.name, pair[Call].environment.name, pair[Agent].name, pair[Call].sid,
               sub.name, f"{user}@example.com", email, pair[SavedView].name,
               pair[AlertRule].name, team.name]
    return sample, markers


def enrich(world: World) -> World:
    """The admin world plus each organisation's invitation, subscription markers and sample
    ids (`samples[0]` org A's, `samples[1]` org B's; `sample` / `markers` are A's), the
    `rich_world` fixture."""
    a, b = _side(world, 0, "alice", "zed-a@example.com"), _side(world, 1, "carol",
                                                               "zed-b@example.com")
    world.samples = (a[0], b[0])
    world.markers_of = (a[1], b[1])
    world.sample, world.markers = a
    return world
