"""`member_environment`: the API base's `get_object` scope in one statement — the same
environment and organisation, field by field, and None wherever the ORM finds no row."""
from __future__ import annotations

import pytest

from portal.models import Environment
from portal.tenancy import registry as tenancy
from portal.tenancy.access import organizations_for_user
from portal.tenancy.environment_lookup import MAX_ID, member_environment

pytestmark = pytest.mark.django_db


def fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_the_statement_gives_the_scoped_querysets_objects(env_a, alice):
    found = member_environment(env_a.pk, alice.pk)
    expected = tenancy.scope(Environment.objects.select_related("organization"),
                             organizations_for_user(alice)).get(pk=env_a.pk)
    assert fields(found) == fields(expected)
    assert fields(found.organization) == fields(expected.organization)
    assert found.get_token() == expected.get_token()  # the encrypted column decrypts alike


def test_no_environment_outside_the_users_organisations(env_a, env_b, alice, carol):
    assert member_environment(env_b.pk, alice.pk) is None
    assert member_environment(env_a.pk, carol.pk) is None
    assert member_environment(env_b.pk + env_a.pk + 1000, alice.pk) is None
    assert member_environment(MAX_ID + 1, alice.pk) is None
