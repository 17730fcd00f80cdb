"""The portal's authentication backend: Django's `ModelBackend`, the signed-in user read by a
query compiled once per process.

Why: every signed-in request reads its user from the session (`get_user`), and the ORM
compiled that one-row lookup anew each time: about 1 ms of CPU, a quarter of a kept report
page's app time and the largest part of the page around a search that was not the search
(`bench/api_load.py`, docs/operations.md). Compiled once (`portal.model_rows`) it is the
same query, the same row and the same checks: signing in, permissions and
`user_can_authenticate` (an inactive user is nobody) stay Django's.

Sessions signed in before this backend named Django's; migration
`portal.0004_sessions_name_the_portal_backend` renamed theirs, so nobody signs in again.
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import router
from django.db.models import QuerySet

from portal.model_rows import CompiledQuery

# The path sessions store for this backend (`settings.AUTHENTICATION_BACKENDS` lists it).
USER_BACKEND = "portal.auth.backend.UserBackend"
# The backend sessions named before (`portal.0004_sessions_name_the_portal_backend`).
DJANGO_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _user(user_id: int) -> QuerySet:
    model = get_user_model()
    return model._default_manager.filter(pk=user_id)


_QUERY = CompiledQuery(_user, int)


class UserBackend(ModelBackend):
    """`ModelBackend` whose `get_user` runs its query compiled once per process."""

    def get_user(self, user_id):
        if type(user_id) is not int:  # not the session's key as the user model reads it
            return super().get_user(user_id)
        found = _QUERY.objects(router.db_for_read(get_user_model()), user_id)
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None
