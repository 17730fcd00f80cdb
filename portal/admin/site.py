"""The admin site: only superusers and staff owners/admins of some organisation get in.

Django's default lets any active staff user open `/admin/`; here a staff viewer or analyst
(or a staff user with no organisation) gets a 403 on every admin page, the index included.
Installed through `portal.apps.PortalAdminConfig` (`default_site`), so `admin.site` is it.
Every admin view goes through `admin_view`, so input Django let through to an exception (an
action selection that is no id, a date drill-down to a day that cannot exist) is refused
here once with a 400 and a message, for every model admin (ours, Django's, django-axes').
The login form checks the username's length before authenticating (`portal.auth.login_forms`).
"""
from __future__ import annotations

from datetime import date

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponseBadRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portal.auth.login_forms import AdminLoginForm
from portal.bounds import ID_MAX
from portal.tenancy import context as tenant_context

# The largest primary key PostgreSQL's bigint holds; a larger "id" matches nothing.
_MAX_PK = 2**63 - 1


def invalid_selection(model: type[models.Model], selected: list[str]) -> bool:
    """True when a posted `_selected_action` value cannot be a primary key of `model`.

    Django filters `pk__in=selected` as posted, so `abc` (or `1.5`, or 10**20) raised a
    ValueError or an overflow in the database: a 500 for a harmless mistake.
    """
    pk = model._meta.pk
    for value in selected:
        try:
            converted = pk.to_python(value)
        except (ValidationError, ValueError, TypeError):
            return True
        if isinstance(converted, int) and not -_MAX_PK <= converted <= _MAX_PK:
            return True
    return False


# Date parts a changelist lookup may extract (`?created_at__year=2026`), with the values
# that can be a real part of a date PostgreSQL and Python both hold. Year 1 and 9999 are out:
# Django computes the period's other end (and moves it between timezones), which overflowed.
DATE_PARTS = {"year": (2, 9998), "iso_year": (2, 9998), "quarter": (1, 4), "month": (1, 12),
              "week": (1, 53), "day": (1, 31), "week_day": (1, 7), "iso_week_day": (1, 7),
              "hour": (0, 23), "minute": (0, 59), "second": (0, 59)}


def _impossible_part(part: str, raw: str) -> bool:
    low, high = DATE_PARTS[part]
    values = raw.split(",")
    return not all(v.strip().lstrip("-").isdigit() and len(v.strip()) <= 6
                   and low <= int(v) <= high for v in values)


def _date_part_of(model: type[models.Model], key: str) -> str | None:
    """The date part a lookup extracts (`created_at__year__gte`, `rule__created_at__day`:
    "year", "day"), following relations to the date field; None when it extracts none."""
    opts = model._meta
    parts = key.split("__")
    for i, name in enumerate(parts):
        try:
            field = opts.get_field(name)
        except FieldDoesNotExist:
            return None
        if isinstance(field, models.DateField):
            following = parts[i + 1] if i + 1 < len(parts) else None
            return following if following in DATE_PARTS else None
        if not field.is_relation or field.related_model is None:
            return None
        opts = field.related_model._meta
    return None


def invalid_date_lookup(model_admin: admin.ModelAdmin, params) -> bool:
    """True when a changelist lookup drills into a date part that cannot exist: any
    `<field>__year|__month|__day|…` (the date hierarchy's or one typed into the URL, on every
    changelist) whose value is no whole number in that part's range, or a hierarchy
    year/month/day that together are no real day (`?created_at__year=0`, `=-1`, `=10000`, a
    21-digit year: each was a 500, as Django computed the period's bounds)."""
    for key in params:
        part = _date_part_of(model_admin.model, key)
        if part and any(_impossible_part(part, value) for value in params.getlist(key)):
            return True
    field = model_admin.date_hierarchy
    if not field or f"{field}__year" not in params:
        return False
    try:
        day = date(*(int(params.get(f"{field}__{part}") or 1)
                     for part in ("year", "month", "day")))
    except (ValueError, OverflowError):
        return True
    return not 1 < day.year < 9999


def integer_beyond_columns(params) -> bool:
    """True when a changelist filter (not the search box) carries a whole number past the
    64-bit range every integer column and id has: `?environment__exact=1e20` written out.
    Refused before the query: no row can match it, and the page says why."""
    for key in params:
        if key == SEARCH_VAR:
            continue
        for value in params.getlist(key):
            for token in value.split(","):
                token = token.strip().removeprefix("-")
                if token.isascii() and token.isdigit() and int(token) > ID_MAX:
                    return True
    return False


class SwitchboardAdminSite(admin.AdminSite):
    site_header = _lazy("Switchboard admin")
    site_title = _lazy("Switchboard admin")
    login_form = AdminLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        from portal.admin.base import administered_organization_ids

        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        ids = administered_organization_ids(request)
        return ids is None or bool(ids)

    def admin_view(self, view, cacheable: bool = False):
        """Every admin page: staff without an owner/admin role refused, bad input a 400, and
        the rest served (and rendered) inside the admin's tenant context
        (`portal.admin.base.admin_context`)."""
        from portal.admin.base import admin_context
        from portal.tenancy.access import not_found_outside_the_tenant

        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args, **kwargs):
            user = request.user
            # Logged-in staff without an owner/admin role: refused, not sent to the login form.
            if user.is_active and user.is_staff and not self.has_permission(request) \
                    and request.path != reverse("admin:logout", current_app=self.name):
                raise PermissionDenied(_("Only organisation owners and admins use the admin."))
            model_admin = getattr(view, "__self__", None)
            if isinstance(model_admin, admin.ModelAdmin):
                message = self.input_problem(model_admin, request)
                if message:
                    return HttpResponseBadRequest(message,
                                                  content_type="text/plain; charset=utf-8")
            ctx = admin_context(request)
            with tenant_context.using(ctx), not_found_outside_the_tenant():
                return tenant_context.finish(ctx, inner(request, *args, **kwargs))

        guarded.__dict__.update(inner.__dict__)
        return guarded

    def _build_app_dict(self, request: HttpRequest, label: str | None = None):
        """Django's, with the app and model names translated once: they are lazy strings,
        and `get_app_list` sorts them (on every admin page, for the sidebar) by comparing
        the lazy objects, which translated both sides again at each comparison: half of the
        sidebar's cost (3.3 → 1.6 ms a page, docs/rendering.md). Same names, same order."""
        app_dict = super()._build_app_dict(request, label)
        for app in app_dict.values():
            app["name"] = str(app["name"])
            for model in app["models"]:
                model["name"] = str(model["name"])
        return app_dict

    def get_urls(self):
        """Django's own, but "view on site" (`r/<content type>/<id>/`): it reads the object
        through the base manager, past the tenant context, and answered a different 404 for
        an object that exists; staff get one 404 for any id (superusers: Django's view)."""
        from django.contrib.contenttypes.views import shortcut
        from django.urls import path

        def view_on_site(request: HttpRequest, content_type_id, object_id):
            if not (request.user.is_active and request.user.is_superuser):
                raise Http404(_("Not found."))
            return shortcut(request, content_type_id, object_id)

        urls = [u for u in super().get_urls() if getattr(u, "name", None) != "view_on_site"]
        return [path("r/<path:content_type_id>/<path:object_id>/",
                     self.admin_view(view_on_site), name="view_on_site"), *urls]

    @staticmethod
    def input_problem(model_admin: admin.ModelAdmin, request: HttpRequest) -> str | None:
        """Why the request's own input cannot be served by `model_admin` (a 400), if so.

        Django answers most bad changelist input itself (an unknown filter is `?e=1`); these
        are the inputs it let through to an exception.
        """
        if request.method == "POST" and invalid_selection(
                model_admin.model, request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)):
            return _("The selected items are not ids of this list; nothing was changed.")
        if invalid_date_lookup(model_admin, request.GET):
            return _("Choose a year, month and day that exist.")
        if integer_beyond_columns(request.GET):
            return _("A filter names a number no column holds.")
        return None
