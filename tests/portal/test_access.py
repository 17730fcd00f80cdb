"""Access control lives in one place: the helpers and the tenant-scoped base viewset."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from portal.models import Environment, Role
from portal.tenancy.access import get_environment_for_user, get_organization_for_user
from portal.tenancy.api import TenantScopedViewSet
from tests.support.factories import field_values


def test_org_helper_matrix(cast, org_a, org_b):
    assert get_organization_for_user(cast["alice"], "org-a", Role.OWNER) == org_a
    assert get_organization_for_user(cast["bob"], "org-a") == org_a
    with pytest.raises(PermissionDenied):
        get_organization_for_user(cast["bob"], "org-a", Role.ADMIN)
    with pytest.raises(Http404):
        get_organization_for_user(cast["carol"], "org-a")
    with pytest.raises(Http404):
        get_organization_for_user(cast["alice"], "no-such-org")


def test_environment_helper_matrix(cast, env_a, env_b):
    assert get_environment_for_user(cast["alice"], env_a.pk, Role.ADMIN) == env_a
    assert get_environment_for_user(cast["bob"], env_a.pk) == env_a
    with pytest.raises(PermissionDenied):
        get_environment_for_user(cast["bob"], env_a.pk, Role.ANALYST)
    with pytest.raises(Http404):
        get_environment_for_user(cast["carol"], env_a.pk)
    with pytest.raises(Http404):
        get_environment_for_user(cast["alice"], env_b.pk)


def test_anonymous_sees_nothing(env_a, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(Http404):
        get_environment_for_user(AnonymousUser(), env_a.pk)


def test_subclass_cannot_override_get_queryset():
    with pytest.raises(TypeError, match="must not override get_queryset"):

        class Sneaky(TenantScopedViewSet):
            queryset = Environment.objects.all()

            def get_queryset(self):
                return Environment.objects.all()


@pytest.mark.parametrize("who,visible", [("alice", "a"), ("bob", "a"), ("carol", "b")])
def test_environment_list_is_scoped(who, visible, cast, env_a, env_b, api_client_for):
    response = api_client_for(cast[who]).get("/api/v1/environments/")
    assert response.status_code == 200
    expected = {"a": env_a.pk, "b": env_b.pk}[visible]
    assert [e["id"] for e in response.json()["results"]] == [expected]


@pytest.mark.parametrize("who,status", [("alice", 200), ("bob", 200), ("carol", 404)])
def test_environment_detail_other_tenant_is_404(who, status, cast, env_a, api_client_for):
    response = api_client_for(cast[who]).get(f"/api/v1/environments/{env_a.pk}/")
    assert response.status_code == status


def test_environment_list_query_count(alice, org_a, env_a, api_client_for, assert_max_queries):
    from tests.support.cast import make_env

    for i in range(5):
        make_env(org_a, f"extra {i}", f"talq_extra_token_{i:04d}xxxxxxxx")
    client = api_client_for(alice)
    with assert_max_queries(3):
        response = client.get("/api/v1/environments/")
    assert len(response.json()["results"]) == 6


def test_the_page_door_reads_the_membership_the_orm_reads(cast, org_a, org_b,
                                                           django_assert_num_queries):
    """`resolve_tenant` reads the membership by a query compiled once per process
    (`portal.tenancy.membership_lookup`; the ORM's compile cost 2.1 ms a page): the same
    membership and organisation, field by field and converted as the ORM converts them, the
    same restriction flag, and nothing for another organisation."""
    from portal.models import Membership
    from portal.models.teams import Team
    from portal.tenancy.membership_lookup import membership_in, memberships_of

    bob_in_a = Membership.objects.across_organizations().get(user=cast["bob"], organization=org_a)
    bob_in_a.teams.add(Team.objects.create(organization=org_a, name="North"))
    for user, org, restricted in ((cast["alice"], org_a, False), (cast["bob"], org_a, True),
                                  (cast["carol"], org_b, False)):
        with django_assert_num_queries(1):
            found = membership_in(memberships_of(user.pk), org.slug)
        orm = (Membership.objects.across_organizations().select_related("organization")
               .get(user=user, organization=org))
        assert field_values(found) == field_values(orm)
        assert field_values(found.organization) == field_values(orm.organization)
        assert found.restricted is restricted
    assert membership_in(memberships_of(cast["carol"].pk), org_a.slug) is None
    assert membership_in(memberships_of(cast["alice"].pk), "no-such-org") is None


def test_the_page_door_reads_the_switchers_organisations_with_the_membership(
        client, cast, org_a, org_b, env_a, assert_max_queries):
    """The membership's statement reads every membership of the caller, by organisation name
    (`memberships_of`): the frame's switcher lists the organisations `organizations_for_user`
    lists, in its order, and asks no query of its own."""
    from portal.models import Membership, Organization
    from portal.tenancy.access import organizations_for_user
    from portal.tenancy.membership_lookup import memberships_of

    alice = cast["alice"]
    early = Organization.objects.create(slug="org-0", name="Aardvark Org", timezone="UTC")
    Membership.objects.create(user=alice, organization=early, role=Role.VIEWER)
    expected = list(organizations_for_user(alice).order_by("name"))
    assert [o.slug for o in expected] == ["org-0", "org-a"]
    found = memberships_of(alice.pk)
    assert [field_values(m.organization) for m in found] == [field_values(o) for o in expected]
    assert [field_values(m) for m in found] == [field_values(Membership.objects
                                                             .across_organizations()
                                                             .get(user=alice, organization=o))
                                                for o in expected]
    client.force_login(alice)
    client.get("/o/org-a/sync/")
    with assert_max_queries(20) as queries:
        page = client.get("/o/org-a/sync/")
    assert [o.slug for o in page.context["user_orgs"]] == ["org-0", "org-a"]
    organizations = [q["sql"] for q in queries.captured_queries
                     if 'FROM "portal_organization"' in q["sql"]]
    assert not organizations, organizations
