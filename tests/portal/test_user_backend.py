"""The portal's authentication backend (`portal.auth.backend.UserBackend`): Django's
`ModelBackend` with its signed-in user read by a query compiled once per process, and the
migration that renames the sessions signed in under Django's backend."""
from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal.auth.backend import DJANGO_BACKEND, USER_BACKEND, UserBackend

pytestmark = pytest.mark.django_db

PASSWORD = "alice-backend-pw-123"
renaming = importlib.import_module("portal.migrations.0004_sessions_name_the_portal_backend")


def signed_in(user) -> Client:
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    assert client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}
                       ).status_code == 302
    return client


def session_of(client: Client):
    store = importlib.import_module(settings.SESSION_ENGINE).SessionStore
    return store(client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_signing_in_names_the_portal_backend_and_pages_read_the_users_row(alice, org_a):
    client = signed_in(alice)
    assert session_of(client)["_auth_user_backend"] == USER_BACKEND
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/o/org-a/sync/")
    assert page.status_code == 200 and page.context["user"] == alice
    reads = [q["sql"] for q in ctx.captured_queries if 'FROM "auth_user"' in q["sql"]]
    assert len(reads) == 1 and f'"auth_user"."id" = {alice.pk}' in reads[0]


def test_the_compiled_lookup_is_djangos(alice, bob):
    backend = UserBackend()
    model = get_user_model()
    for user in (alice, bob):
        found, read = backend.get_user(user.pk), model.objects.get(pk=user.pk)
        assert found.__dict__.keys() == read.__dict__.keys()
        assert {f.attname: getattr(found, f.attname) for f in model._meta.concrete_fields} == {
            f.attname: getattr(read, f.attname) for f in model._meta.concrete_fields}
        assert found._state.db == read._state.db and not found._state.adding
    assert backend.get_user(999_999) is None
    assert backend.get_user(str(alice.pk)) == alice  # not an int: Django's own lookup


def test_a_user_deactivated_or_deleted_is_signed_out_at_the_next_request(alice, bob, org_a):
    client = signed_in(alice)
    assert client.get("/o/org-a/sync/").status_code == 200
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert client.get("/o/org-a/sync/").status_code == 302  # to the login page
    other = signed_in(bob)
    bob.delete()
    assert other.get("/o/org-a/sync/").status_code == 302


def test_a_session_signed_in_under_djangos_backend_stays_signed_in_once_migrated(alice, org_a):
    client = signed_in(alice)
    store = session_of(client)
    store["_auth_user_backend"] = DJANGO_BACKEND  # as signed in before this backend
    store.save()
    assert client.get("/o/org-a/sync/").status_code == 302  # Django no longer lists it
    renaming.to_portal_backend(apps, None)
    assert session_of(client)["_auth_user_backend"] == USER_BACKEND
    assert client.get("/o/org-a/sync/").status_code == 200
    renaming.to_django_backend(apps, None)
    assert session_of(client)["_auth_user_backend"] == DJANGO_BACKEND
