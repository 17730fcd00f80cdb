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

from portal.models import ApiToken, Invitation, Membership
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


def _admin_object(world, route: str):
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if match:
        for model, (obj_a, _) in world.pairs.items():
            if (model._meta.app_label, model._meta.model_name) == match.groups():
                return obj_a
    return world.env_a


def sample_values(world, route: Route) -> dict[str, str]:
    """Org A's id or slug for each parameter of `route`."""
    a = world.sample
    name = route.name or ""
    by_param = {
        "org_slug": "org-a", "env_id": a["env"], "environment_pk": a["env"],
        "environment_id": a["env"], "call_id": a["call"], "member_id": a["member"],
        "token_id": a["token"], "invitation_id": a["invitation"], "agent_id": a["agent_ext"],
        "uidb64": "MQ", "token": "forged-token", "format": "json", "app_label": "portal",
        "content_type_id": "1", "url": "x",
    }
    values = {}
    for param in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route.path):
        param = param[0] or param[1]
        if param == "pk":
            if "subscription" in name:
                values[param] = a["subscription"]
            elif name == "call-detail" and route.path.startswith("api/"):
                values[param] = a["call"]
            else:
                values[param] = a["env"]
        elif param == "object_id":
            values[param] = _admin_object(world, route.path).pk
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


def enrich(world: World) -> World:
    """The admin world plus org A's invitation, subscription markers and a calls page (the
    `rich_world` fixture)."""
    org_a = world.env_a.organization
    invitation = Invitation.objects.create(organization=org_a, email="zed-a@example.com")
    sub_a = world.pairs[ReportSubscription][0]
    sub_a.members.add(world.users["alice"])
    world.sample = {
        "env": world.env_a.pk, "call": world.pairs[Call][0].pk,
        "member": Membership.objects.get(user=world.users["bob"]).pk,
        "token": world.pairs[ApiToken][0].pk, "invitation": invitation.pk,
        "agent_ext": world.pairs[Agent][0].external_id, "subscription": sub_a.pk,
    }
    world.markers = [org_a.name, world.env_a.name, world.pairs[Agent][0].name,
                     world.pairs[Call][0].sid,
                     sub_a.name, "alice@example.com", "zed-a@example.com"]
    return world
