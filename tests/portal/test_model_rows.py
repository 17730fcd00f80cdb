"""`portal.model_rows.CompiledQuery`: a lookup's queryset compiled once per process, run with
each call's arguments — the queryset's own objects, whatever the tenant context when it was
first compiled, and a lookup whose argument never reaches its SQL refused."""
from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS

from portal.model_rows import CompiledQuery
from portal.models import Environment
from portal.tenancy import context as tenant_context
from portal.tenancy.context import TenantContext

pytestmark = pytest.mark.django_db


def fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_compiled_once_and_run_with_each_calls_arguments(org_a, org_b, env_a, env_b):
    built = []

    def by_organization(org_id: int):
        built.append(org_id)
        return (Environment.objects.across_organizations().filter(organization_id=org_id)
                .select_related("organization").order_by("name"))

    query = CompiledQuery(by_organization, int)
    # First compiled inside another organisation's context: the context adds nothing.
    with tenant_context.using(TenantContext(organizations=frozenset((org_b.pk,)))):
        in_a = query.objects(DEFAULT_DB_ALIAS, org_a.pk)
    in_b = query.objects(DEFAULT_DB_ALIAS, org_b.pk)
    assert len(built) == 1
    for found, org in ((in_a, org_a), (in_b, org_b)):
        expected = list(by_organization(org.pk))
        assert [fields(e) for e in found] == [fields(e) for e in expected] != []
        assert [fields(e.organization) for e in found] == [fields(org)] * len(found)
    assert query.objects(DEFAULT_DB_ALIAS, org_b.pk + org_a.pk + 1000) == []


def test_an_argument_that_never_reaches_the_sql_is_refused(org_a):
    query = CompiledQuery(lambda org_id: Environment.objects.across_organizations(), int)
    with pytest.raises(ValueError, match="does not reach"):
        query.objects(DEFAULT_DB_ALIAS, org_a.pk)


def test_rows_are_converted_as_the_orms_values_list(org_a, env_a):
    """A `values_list` query's rows pass through the columns' converters (kept with the
    compiled SQL): a JSON column is a dict, a timestamp an aware datetime, as the ORM gives."""
    env_a.provider_settings = {"plan": "standard", "limit": 100}
    env_a.save(update_fields=["provider_settings"])

    def settings_of(org_id: int):
        return (Environment.objects.across_organizations().filter(organization_id=org_id)
                .values_list("pk", "provider_settings", "created_at"))

    query = CompiledQuery(settings_of, int)
    for _ in range(2):  # compiled, then run from what was kept
        rows = query.rows(DEFAULT_DB_ALIAS, org_a.pk)
        assert [tuple(row) for row in rows] == list(settings_of(org_a.pk))
        assert rows[0][1] == {"plan": "standard", "limit": 100}
