"""The cast's makers: a user (password `<name>-pw-123`), a member of an organisation, and an
environment with its token.

The cast itself (alice owner of org A, bob viewer in A, carol owner of org B, and each org's
environment) is built once, by the fixtures in tests/conftest.py, from these.
"""
from __future__ import annotations

from django.conf import settings

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


def signed_in(client, user) -> None:
    """Sign `client` in as `user` unless its session is still there: a walk that may pass a
    logout URL calls this before each request. Signing in writes a new session and the user's
    `last_login` (~10 ms, more than most requests of a walk: 12 of the write walk's 27 s); a
    session a request ended (logout deletes the cookie) is signed in again. A request that
    ended the session some other way would make the walk's next requests anonymous, which
    the walks' expected answers (403/404/405, never a redirect to the login) catch."""
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if cookie is None or not cookie.value or getattr(client, "_signed_in_as", None) != user.pk:
        client.force_login(user)
        client._signed_in_as = user.pk
