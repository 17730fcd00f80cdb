"""Closed by construction: code written the careless way, behind the tenancy doors, still
fails closed (`portal/tenancy/context.py`, `portal/tenancy/query.py`).

Planted here, each through the real URL and the real door: a page (the portal's
`org_page`, then `Call.objects.get(pk=…)` / `get_object_or_404(Environment, pk=…)`), an API
viewset whose `list()` and `@action` read `Model.objects`, and a tenant admin whose form has
an unscoped foreign-key dropdown. Another organisation's id is a 404 (or no option), never
its row; the caller's own rows still answer (so these tests fail if the doors scope
nothing). Outside a request (a worker) nothing changes, and `across_organizations()` is the
one way to read across inside one.
"""
from __future__ import annotations

import pytest
from django import forms
from django.contrib import admin
from django.db.models import Exists
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import include, path
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.admin.base import TenantAdminMixin, TenantModelAdmin
from portal.admin.site import SwitchboardAdminSite
from portal.models import Environment, Organization
from portal.tenancy import context as tenant_context
from portal.tenancy.access import Tenant, org_page
from portal.tenancy.api import TenantScopedViewSet
from portal.tenancy.context import TenantContext
from reports.models import SavedView
from sync.models import Agent, Call, StreamState
from tests.support.factories import make_call

# --- the planted code ---------------------------------------------------------------------


@org_page()
def careless_call(request, tenant: Tenant, call_id: int) -> HttpResponse:
    call = Call.objects.get(pk=call_id)  # no organisation named: the context's
    return HttpResponse(f"{call.sid} {call.from_number}")


@org_page()
def careless_environment(request, tenant: Tenant, env_id: int) -> HttpResponse:
    env = get_object_or_404(Environment, pk=env_id)
    return HttpResponse(env.name)


@org_page()
def careless_listing(request, tenant: Tenant) -> HttpResponse:
    names = [e.name for e in Environment.objects.order_by("name")]
    calls = Call.objects.count()
    return HttpResponse(f"{'|'.join(names)} {calls}")


class CarelessViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    queryset = Environment.objects.all()

    def list(self, request, *args, **kwargs):
        return Response(sorted(Environment.objects.values_list("name", flat=True)))

    @action(detail=False, url_path=r"call/(?P<call_id>\d+)")
    def call(self, request, call_id: str):
        call = get_object_or_404(Call, pk=call_id)
        return Response({"sid": call.sid})


class CarelessForm(forms.ModelForm):
    environment = forms.ModelChoiceField(queryset=Environment.objects.all())

    class Meta:
        model = StreamState
        fields = ["environment", "stream"]


class CarelessAdmin(TenantModelAdmin):
    form = CarelessForm


careless_site = SwitchboardAdminSite(name="careless")
careless_site.register(StreamState, CarelessAdmin)

urlpatterns = [
    path("o/<slug:org_slug>/careless/calls/<int:call_id>/", careless_call),
    path("o/<slug:org_slug>/careless/envs/<int:env_id>/", careless_environment),
    path("o/<slug:org_slug>/careless/envs/", careless_listing),
    path("careless-api/", CarelessViewSet.as_view({"get": "list"})),
    path("careless-api/call/<int:call_id>/", CarelessViewSet.as_view({"get": "call"})),
    path("careless-admin/", careless_site.urls),
    path("", include("portal.urls")),
]


@pytest.fixture
def careless(settings):
    settings.ROOT_URLCONF = __name__


@pytest.fixture
def calls(env_a, env_b) -> tuple[Call, Call]:
    return (make_call(env_a, None, 1), make_call(env_b, None, 2))


def _client(client, user):
    client.force_login(user)
    return client


# --- pages ----------------------------------------------------------------------------------

def test_a_careless_page_answers_404_for_another_organisations_call(
        careless, client, cast, calls):
    call_a, call_b = calls
    carol = _client(client, cast["carol"])
    response = carol.get(f"/o/org-b/careless/calls/{call_a.pk}/")
    assert response.status_code == 404
    assert call_a.sid not in response.content.decode()
    assert call_b.sid in carol.get(f"/o/org-b/careless/calls/{call_b.pk}/").content.decode()


def test_a_careless_get_object_or_404_answers_404(careless, client, cast, env_a, env_b):
    alice = _client(client, cast["alice"])
    assert alice.get(f"/o/org-a/careless/envs/{env_b.pk}/").status_code == 404
    assert alice.get(f"/o/org-a/careless/envs/{env_a.pk}/").content.decode() == env_a.name


def test_a_careless_listing_lists_and_counts_only_the_organisation(
        careless, client, cast, calls, env_a, env_b):
    body = _client(client, cast["alice"]).get("/o/org-a/careless/envs/").content.decode()
    assert body == f"{env_a.name} 1"
    assert Call.objects.count() == 2  # outside a request: every row, as before


# --- the API ----------------------------------------------------------------------------------

def test_a_careless_viewset_list_and_action_stay_in_the_callers_organisations(
        careless, api_client_for, cast, calls, env_a, env_b):
    call_a, call_b = calls
    carol = api_client_for(cast["carol"])
    assert carol.get("/careless-api/").json() == [env_b.name]
    assert carol.get(f"/careless-api/call/{call_a.pk}/").status_code == 404
    assert carol.get(f"/careless-api/call/{call_b.pk}/").json() == {"sid": call_b.sid}
    assert api_client_for(cast["alice"]).get("/careless-api/").json() == [env_a.name]


def test_every_method_of_the_api_base_is_protected():
    for name in ("finalize_response", "_organizations", "initial", "get_object"):
        with pytest.raises(TypeError, match="must not override"):
            type("Sneaky", (TenantScopedViewSet,), {
                "queryset": Environment.objects.all(), name: lambda self, *a, **k: None})


# --- the admin ----------------------------------------------------------------------------------

def test_an_unscoped_dropdown_in_a_tenant_admin_offers_only_the_organisations_rows(
        careless, world):
    alice, env_a, env_b = world.client("alice"), world.env_a, world.env_b
    page = alice.get("/careless-admin/sync/streamstate/add/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f'value="{env_a.pk}"' in body and env_a.name in body
    assert f'value="{env_b.pk}"' not in body and env_b.name not in body
    # Posting the other organisation's id anyway is a form error, not a row in B.
    before = StreamState.objects.filter(environment=env_b).count()
    alice.post("/careless-admin/sync/streamstate/add/",
               {"environment": env_b.pk, "stream": "agents"})
    assert StreamState.objects.filter(environment=env_b).count() == before
    root = world.client("root").get("/careless-admin/sync/streamstate/add/").content.decode()
    assert env_b.name in root  # a superuser's admin reads every organisation


@pytest.mark.parametrize("name", ["formfield_for_foreignkey", "get_list_filter",
                                  "changeform_view", "get_object", "_scoped_choices"])
def test_every_method_of_the_admin_base_is_protected(name):
    with pytest.raises(TypeError, match="must not override"):
        type("Sneaky", (TenantAdminMixin, admin.ModelAdmin),
             {name: lambda self, *a, **k: None})


# --- the context itself ---------------------------------------------------------------------

def test_inside_a_context_every_read_is_the_organisations(org_a, org_b, env_a, env_b, calls,
                                                           alice):
    call_a, call_b = calls
    agent_b = Agent.objects.create(environment=env_b, external_id="ag-b", name="B agent")
    SavedView.objects.create(organization=org_b, owner=alice, name="B view", page="calls")
    with tenant_context.using(TenantContext(organizations=frozenset({org_a.pk}))):
        with pytest.raises(Call.DoesNotExist):
            Call.objects.get(pk=call_b.pk)
        assert list(Organization.objects.values_list("pk", flat=True)) == [org_a.pk]
        assert not Agent.objects.filter(pk=agent_b.pk).exists()
        assert SavedView.objects.count() == 0  # a strict model: scoped, not refused
        # Subqueries, unions, OR-ed querysets, updates and deletes are scoped too.
        assert not Environment.objects.for_organization(org_a).annotate(
            b=Exists(Call.objects.filter(pk=call_b.pk))).get().b
        union = Call.objects.filter(pk=call_a.pk).order_by().union(
            Call.objects.filter(pk=call_b.pk).order_by())
        assert [c.pk for c in union] == [call_a.pk]
        either = Call.objects.for_organization(org_a) | Call.objects.filter(pk=call_b.pk)
        assert [c.pk for c in either] == [call_a.pk]
        assert Call.objects.filter(pk=call_b.pk).update(duration=1) == 0
        assert Agent.objects.filter(pk=agent_b.pk).delete()[0] == 0
        # Asking for another organisation by name still reads nothing of it ...
        assert Call.objects.for_organization(org_b).count() == 0
        # ... the declared door does.
        assert Call.objects.across_organizations().count() == 2
    assert Call.objects.get(pk=call_b.pk).duration == 60
    assert Agent.objects.filter(pk=agent_b.pk).exists()


def test_a_member_of_two_organisations_still_sees_both_in_the_switcher(client, cast, org_b):
    from portal.models import Membership, Role

    Membership.objects.create(user=cast["alice"], organization=org_b, role=Role.VIEWER)
    body = _client(client, cast["alice"]).get("/o/org-a/settings/").content.decode()
    assert 'href="/o/org-b/"' in body  # organizations_for_user: declared across, by membership
