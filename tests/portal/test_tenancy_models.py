"""Tenancy models: validated timezone, unique membership, role ranks, environment defaults."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.models import Environment, Membership, Organization, Role


def test_timezone_is_validated(db):
    with pytest.raises(ValidationError):
        Organization.objects.create(slug="x", name="X", timezone="Nowhere/City")
    org = Organization.objects.create(slug="y", name="Y", timezone="America/Sao_Paulo")
    assert org.tzinfo.key == "America/Sao_Paulo"


def test_membership_is_unique_per_pair(alice, org_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=alice, organization=org_a, role=Role.VIEWER)


def test_role_ranks(alice, bob, org_a):
    owner = Membership.objects.get(user=alice)
    viewer = Membership.objects.get(user=bob)
    assert owner.has_role(Role.ADMIN) and owner.has_role(Role.VIEWER)
    assert viewer.has_role(Role.VIEWER) and not viewer.has_role(Role.ANALYST)


def test_environment_defaults(env_a):
    assert env_a.provider == "talkover"
    assert env_a.status == "active" and env_a.sync_enabled
    assert env_a.sync_interval_minutes == 15 and env_a.lookback_days == 2
    assert env_a.requests_per_minute == 90
    assert env_a.effective_base_url == "https://app.talkover.ai/api/v1"


def test_empty_token_is_refused(org_a):
    env = Environment(organization=org_a, name="x")
    with pytest.raises(ValidationError):
        env.set_token("   ")
