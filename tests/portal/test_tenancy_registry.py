"""Tenancy by construction: one registry (`portal.tenancy.registry`) says how each model reaches its
organisation, and every door reads it.

- every model of the apps, every API viewset, every admin and every URL pattern is known to
  it (a new one that is not fails here), and every model derives from `TenantModel`;
- the API base and the admin mixin cannot be bypassed by a subclass, whatever the order of
  its bases; what a view may add goes through `safely_…` hooks, scoped again after them,
  and the one escape hatch is spelled `dangerously_override`;
- `for_organization` fails closed, and the strict default manager refuses to be read
  without a door;
- no request-serving module filters by organisation by hand.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from rest_framework import mixins
from rest_framework.permissions import AllowAny

from portal.admin.base import TenantAdminMixin
from portal.models import Environment, Invitation, Organization
from portal.tenancy import registry as tenancy
from portal.tenancy.api import TenantScopedViewSet
from reports.models import AlertEvent, AlertRule, ReportDelivery, ReportSubscription, SavedView
from sync.models import Agent
from tests.support.factories import make_agents
from tests.support.routes import all_routes

ROOT = Path(__file__).resolve().parent.parent.parent

# Pages that belong to no organisation: signing in, signed links (the token is the
# credential), health, the API's index and schema, the upstream's webhook.
PUBLIC_ROUTES = {
    "favicon", "home", "login", "logout", "password_reset", "password_change",
    "password_change_done", "password_reset_done", "password_reset_confirm",
    "password_reset_complete", "invitation-accept", "set_language", "api-root", "api-schema",
    "api-docs", "webhook", "healthz", "readyz", "subscription-unsubscribe",
    "alerts-email-action",
}
# Admins of no organisation's data: superusers only (staff org admins get a 403).
SUPERUSER_ADMINS = {"auth.group", "auth.user", "axes.accessattempt", "axes.accesslog",
                    "axes.accessfailurelog"}


def test_every_model_of_the_apps_is_registered():
    registry = tenancy.registered()
    missing = [m._meta.label for app in ("portal", "sync", "reports")
               for m in apps.get_app_config(app).get_models() if m not in registry]
    assert missing == []


def test_every_model_of_the_apps_takes_the_tenant_manager_from_its_base():
    """`TenantModel` declares the door once; a model declaring another default manager (or
    deriving from `models.Model` alone) would answer every organisation's rows."""
    plain = [m._meta.label for app in ("portal", "sync", "reports")
             for m in apps.get_app_config(app).get_models()
             if not issubclass(m, tenancy.TenantModel)
             or not isinstance(m._default_manager, tenancy.TenantManager)]
    assert plain == []


def test_every_route_is_an_org_page_a_tenant_viewset_the_admin_or_public():
    strays = []
    for route in all_routes():
        cls = getattr(route.callback, "cls", None)
        if route.path.startswith("admin/") or route.name in PUBLIC_ROUTES:
            continue
        if getattr(route.callback, "org_page", False):
            continue
        if cls is not None and issubclass(cls, TenantScopedViewSet):
            assert cls.queryset.model in tenancy.registered(), cls
            continue
        strays.append((route.name, route.path))
    assert strays == []


def test_every_admin_is_tenant_scoped_or_for_superusers():
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower in SUPERUSER_ADMINS:
            assert not isinstance(model_admin, TenantAdminMixin)
            continue
        assert isinstance(model_admin, TenantAdminMixin), model
        assert model in tenancy.registered(), model


# --- the API base ------------------------------------------------------------------------

class SneakyMixin:
    def get_queryset(self):
        return Environment.objects.all()


@pytest.mark.parametrize("body", [
    {"get_queryset": lambda self: Environment.objects.all()},
    {"get_object": lambda self: Environment.objects.first()},
    {"filter_queryset": lambda self, qs: Environment.objects.all()},
    {"check_object_permissions": lambda self, request, obj: None},
    {"get_permissions": lambda self: []},
    {"initial": lambda self, request, *a, **k: None},
    {"permission_classes": [AllowAny]},
])
def test_a_viewset_cannot_override_what_scopes_it(body):
    with pytest.raises(TypeError, match="must not override"):
        type("Sneaky", (TenantScopedViewSet,), {"queryset": Environment.objects.all(), **body})


def test_a_mixin_listed_first_cannot_win_either():
    with pytest.raises(TypeError, match="SneakyMixin defines it"):
        type("Sneaky", (SneakyMixin, mixins.ListModelMixin, TenantScopedViewSet),
             {"queryset": Environment.objects.all()})


def test_the_escape_hatch_is_named():
    cls = type("Exception", (SneakyMixin, TenantScopedViewSet), {
        "queryset": Environment.objects.all(),
        "dangerously_override": {"get_queryset": "a test of the hatch"}})
    assert cls.get_queryset is SneakyMixin.get_queryset


def test_hooks_are_scoped_again(cast, env_a, env_b, api_client_for, settings):
    """A hook that swaps in every row still answers only the caller's organisations."""
    from django.urls import path

    class Everything(mixins.ListModelMixin, TenantScopedViewSet):
        queryset = Environment.objects.order_by("pk")
        pagination_class = None
        filter_backends: list = []

        def safely_narrow_queryset(self, queryset):
            return Environment.objects.all()

        def safely_filter_queryset(self, queryset):
            return Environment.objects.all()

        def list(self, request, *args, **kwargs):
            from rest_framework.response import Response
            return Response([e.pk for e in self.filter_queryset(self.get_queryset())])

    urls = type("urls", (), {"urlpatterns": [path("x/", Everything.as_view({"get": "list"}))]})
    settings.ROOT_URLCONF = urls
    assert api_client_for(cast["alice"]).get("/x/").json() == [env_a.pk]
    assert api_client_for(cast["carol"]).get("/x/").json() == [env_b.pk]


# --- the admin mixin ----------------------------------------------------------------------

def test_an_admin_cannot_override_its_scoping():
    with pytest.raises(TypeError, match="must not override get_queryset"):
        type("Sneaky", (TenantAdminMixin, admin.ModelAdmin),
             {"get_queryset": lambda self, request: Environment.objects.all()})
    with pytest.raises(TypeError, match="ModelAdmin defines it"):
        type("Backwards", (admin.ModelAdmin, TenantAdminMixin), {})


# --- managers -----------------------------------------------------------------------------

def test_for_organization_fails_closed(org_a):
    with pytest.raises(tenancy.TenantRequired):
        Environment.objects.for_organization(None)
    with pytest.raises(tenancy.TenantRequired):
        Environment.objects.for_organization(Organization(slug="unsaved"))


def test_the_strict_default_refuses_to_be_read_without_a_door(alice, org_a, org_b):
    SavedView.objects.create(organization=org_a, owner=alice, name="A", page="dashboard")
    SavedView.objects.create(organization=org_b, owner=alice, name="B", page="dashboard")
    for read in (list, len, lambda qs: qs.count(), lambda qs: qs.exists(),
                 lambda qs: qs.first(), lambda qs: qs.update(name="x"),
                 lambda qs: qs.delete()):
        with pytest.raises(tenancy.TenantRequired):
            read(SavedView.objects.filter(name="A"))
    for model in (Invitation, AlertRule, AlertEvent, ReportSubscription, ReportDelivery):
        with pytest.raises(tenancy.TenantRequired):
            model.objects.filter(pk=1).first()
        assert model.objects.across_organizations().filter(pk=1).first() is None
    assert [v.name for v in SavedView.objects.for_organization(org_a)] == ["A"]
    assert SavedView.objects.across_organizations().count() == 2
    assert [v.name for v in org_b.saved_views.all()] == ["B"]  # through its parent row


def test_mirrored_rows_are_scoped_by_their_environment_column(org_a, env_a, env_b):
    make_agents(env_a, 2)
    make_agents(env_b, 1)
    mine = Agent.objects.for_organization(org_a)
    assert 'JOIN "portal_environment"' not in str(mine.query)
    assert {a.environment_id for a in mine} == {env_a.pk}
    assert tenancy.organization_of(mine.first()) == org_a


# --- no hand-written organisation filters -----------------------------------------------

# Request-serving modules: views, API, forms, context processors, the call filter.
REQUEST_MODULES = ["portal/pages/views.py", "portal/pages/member_views.py", "portal/pages/forms.py",
                   "portal/pages/pages.py", "portal/auth/invitations.py", "portal/tenancy/api.py",
                   "reports/pages/*.py", "reports/*/views.py",
                   "reports/*/forms.py", "reports/api/*.py", "reports/talkover/views.py",
                   "reports/*/api.py", "reports/*/context.py", "reports/call_filter.py",
                   "sync/health.py"]
_BY_HAND = re.compile(r"^organization(_id)?(__|$)|__organization(_id)?(__|$)")
_QUERY_METHODS = {"filter", "exclude", "get", "get_or_create", "update_or_create",
                  "get_object_or_404", "get_list_or_404"}


def hand_filters(paths, root: Path = ROOT) -> list[str]:
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in _QUERY_METHODS:
                found += [f"{path.relative_to(root)}:{node.lineno} {name}({kw.arg}=…)"
                          for kw in node.keywords if kw.arg and _BY_HAND.search(kw.arg)]
    return found


def test_no_view_filters_by_organisation_by_hand():
    paths = sorted({p for pattern in REQUEST_MODULES for p in ROOT.glob(pattern)})
    assert len(paths) > 25
    assert hand_filters(paths) == []


def test_the_hand_filter_check_sees_them(tmp_path):
    sneaky = tmp_path / "views.py"
    sneaky.write_text("Agent.objects.filter(environment__organization=org)\n"
                      "get_object_or_404(Membership, pk=1, organization=org)\n"
                      "audit.record('x', organization=org)\n")
    assert hand_filters([sneaky], tmp_path) == [
        "views.py:1 filter(environment__organization=…)",
        "views.py:2 get_object_or_404(organization=…)"]
