"""The cast's makers: a user (password `<name>-pw-123`), a member of an organisation, and an
environment with its token.

The cast itself (alice owner of org A, bob viewer in A, carol owner of org B, and each org's
environment) is built once, by the fixtures in tests/conftest.py, from these.
"""
from __future__ import annotations

from portal.models import Environment, Membership, Organization


def make_user(django_user_model, username: str, **fields):
    return django_user_model.objects.create_user(
        username=username, email=f"{username}@example.com", password=f"{username}-pw-123",
        **fields,
    )


def make_member(django_user_model, username: str, org: Organization, role: str, **fields):
    """A user (`make_user`) with one membership: `role` in `org`."""
    user = make_user(django_user_model, username, **fields)
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def make_env(org: Organization, name: str, token: str, **fields) -> Environment:
    env = Environment(organization=org, name=name, **fields)
    env.set_token(token)
    env.save()
    return env
