"""Sessions signed in before `portal.auth.backend.UserBackend` name Django's `ModelBackend`,
which `AUTHENTICATION_BACKENDS` no longer lists: Django would read them as signed out. Each
live one is renamed to the portal's backend (the same user and checks), and its cached copy
(the Redis session store, `portal.auth.sessions`) dropped, so that nobody signs in again.
Reversed: renamed back."""
from importlib import import_module

from django.conf import settings
from django.db import migrations
from django.utils import timezone

DJANGO_BACKEND = "django.contrib.auth.backends.ModelBackend"
USER_BACKEND = "portal.auth.backend.UserBackend"
BACKEND_KEY = "_auth_user_backend"  # django.contrib.auth.BACKEND_SESSION_KEY


def _rename(apps, old: str, new: str) -> None:
    session_model = apps.get_model("sessions", "Session")
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    for session in session_model.objects.filter(expire_date__gt=timezone.now()).iterator():
        store = store_class(session.session_key)
        data = store.decode(session.session_data)  # {} when it does not decode
        if data.get(BACKEND_KEY) != old:
            continue
        data[BACKEND_KEY] = new
        session.session_data = store.encode(data)
        session.save(update_fields=["session_data"])
        if hasattr(store, "cache_key"):
            store._cache.delete(store.cache_key)


def to_portal_backend(apps, schema_editor) -> None:
    _rename(apps, DJANGO_BACKEND, USER_BACKEND)


def to_django_backend(apps, schema_editor) -> None:
    _rename(apps, USER_BACKEND, DJANGO_BACKEND)


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0003_leads_restricted_to_their_teams"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(to_portal_backend, to_django_backend),
    ]
