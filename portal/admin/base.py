"""Tenant scoping for the Django admin: one mixin every ModelAdmin and inline derives from.

Who may use the admin:
- superusers see and change everything (Django's own checks);
- active staff users see only the organisations where their membership role is owner or
  admin. Their rights come from that role, not from Django model permissions: a staff org
  admin needs no `auth.Permission` rows, and granting Django permissions gives nothing more;
- everyone else (including staff viewers/analysts) is refused: 403 on every admin page.

Scoping covers querysets (changelist, search, actions, change/delete/history views),
foreign-key and many-to-many choices, autocomplete (Django asks the related model's admin,
which also derives from the mixin), and related-object filters. Another organisation's object
URL is a 404. Mirrored data sets `read_only = True`: viewable, never added, changed or deleted,
not even by superusers.

Using it (e.g. in `reports/admin.py`): `class ReportSubscriptionAdmin(TenantAdminMixin,
admin.ModelAdmin)`. How a model reaches its organisation is the tenancy registry's
(`portal.tenancy.registry`, filled by each app), as for pages and the API. The mixin's
methods are its own — every name it defines but the permission and audit hooks (`HOOKS`),
checked when a subclass is created (a mixin listed first cannot win either): an admin
narrows or annotates its rows with `safely_narrow_queryset(request, queryset)`, and the
scope is applied after it.

Every admin view runs inside the admin's tenant context (`admin_context`, set by the site's
view wrapper, `portal.admin.site`): a form field, filter or template that reads
`Model.objects` itself still gets only the administered organisations' rows.
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path, unquote
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.admin.times import Zones, local_time_columns
from portal.bounds import validate_storable
from portal.models import Environment, Membership, Organization, Role
from portal.tenancy import registry as tenancy
from portal.tenancy.context import TenantContext
from portal.tenancy.protect import refuse_overrides

# Roles whose holders may use the admin for their organisation.
ADMIN_ROLES = (Role.OWNER, Role.ADMIN)
_CACHE_ATTR = "_switchboard_admin_org_ids"
_ENV_CACHE_ATTR = "_switchboard_admin_env_ids"
# What an admin may set or define itself (narrowing permissions, audit details); every
# other name TenantAdminMixin defines is its own (see the module docstring).
HOOKS = ("read_only", "superuser_adds", "superuser_deletes", "secret_fields",
         "dangerously_override", "has_tenant_access", "has_module_permission",
         "has_view_permission", "has_change_permission", "has_add_permission",
         "has_delete_permission", "save_model", "delete_model", "save_formset",
         "_changed_fields")


def administered_organization_ids(request: HttpRequest) -> list[int] | None:
    """Ids of the organisations the request's user administers; None means all (superuser)."""
    user = request.user
    if user.is_active and user.is_superuser:
        return None
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        cached = []
        if user.is_active and user.is_staff:
            cached = list(
                Membership.objects.filter(user=user, role__in=ADMIN_ROLES)
                .order_by("organization_id")
                .values_list("organization_id", flat=True)
            )
        setattr(request, _CACHE_ATTR, cached)
    return cached


def administered_environment_ids(request: HttpRequest) -> list[int] | None:
    """Ids of the environments in the organisations the user administers; None means all."""
    organization_ids = administered_organization_ids(request)
    if organization_ids is None:
        return None
    cached = getattr(request, _ENV_CACHE_ATTR, None)
    if cached is None:
        cached = list(
            Environment.objects.for_organizations(organization_ids)
            .order_by("pk").values_list("pk", flat=True)
        )
        setattr(request, _ENV_CACHE_ATTR, cached)
    return cached


def admin_context(request: HttpRequest) -> TenantContext:
    """The admin's tenant context: the organisations the user administers (none for
    anyone else, every one for a superuser), with their environment ids once read."""
    organization_ids = administered_organization_ids(request)
    return TenantContext(
        organizations=None if organization_ids is None else frozenset(organization_ids),
        known_environment_ids=lambda: getattr(request, _ENV_CACHE_ATTR, None), door="admin")


def scope_queryset(queryset: QuerySet, request: HttpRequest) -> QuerySet:
    """`queryset` limited to the rows of the organisations `request.user` administers (the
    tenancy registry's door); a superuser's is every organisation's, through the named door."""
    organization_ids = administered_organization_ids(request)
    if organization_ids is None:
        return tenancy.across_organizations(queryset)
    if queryset.model not in tenancy.registered():
        # Not tenant data (e.g. Django's own models): only superusers see it.
        return queryset.none()
    # Mirrored rows filter on their own environment_id column with literal ids: the
    # planner then estimates row counts from that column's statistics and uses the
    # (environment, …) indexes, where a join to Environment would be guessed blindly.
    return tenancy.scope(queryset, organization_ids,
                         environment_ids=lambda: administered_environment_ids(request))


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related-object filter whose choices are only the staff user's organisations' rows."""

    def field_choices(self, field, request, model_admin) -> list[tuple[object, str]]:
        related = scope_queryset(field.related_model._default_manager.all(), request)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            related = related.order_by(*ordering)
        # Rows of an environment (agents) name it: two environments' "Callback Desk" differ.
        if any(f.name == "environment" for f in field.related_model._meta.fields):
            related = related.select_related("environment")
            return [(obj.pk, f"{obj} ({obj.environment.name})") for obj in related]
        return [(obj.pk, str(obj)) for obj in related]


class TenantAdminMixin:
    """Scope a ModelAdmin or InlineModelAdmin to the organisations the user administers."""

    # Mirrored data: nobody adds, changes or deletes it here.
    read_only: bool = False
    # Creating/deleting these objects is for superusers only (organisations, environments).
    superuser_adds: bool = False
    superuser_deletes: bool = False

    # {protected name: why this admin must define it}: the rare, named exception.
    dangerously_override: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        refuse_overrides(cls, TenantAdminMixin, HOOKS,
                         "; list TenantAdminMixin first): tenant scoping lives in "
                         "TenantAdminMixin. Use safely_narrow_queryset(request, queryset) (or, "
                         "for the rare exception, dangerously_override = {name: why}).")

    def safely_narrow_queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Narrow or annotate the rows (e.g. counts for a column); scoped again after it."""
        return queryset

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        scoped = scope_queryset(super().get_queryset(request), request)
        if type(self).safely_narrow_queryset is TenantAdminMixin.safely_narrow_queryset:
            return scoped
        return scope_queryset(self.safely_narrow_queryset(request, scoped), request)

    # --- permissions: from membership roles, not Django model permissions ---------------
    def has_tenant_access(self, request: HttpRequest) -> bool:
        ids = administered_organization_ids(request)
        return ids is None or bool(ids)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_tenant_access(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_tenant_access(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return not self.read_only and self.has_tenant_access(request)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        if self.read_only or (self.superuser_adds and not request.user.is_superuser):
            return False
        return self.has_tenant_access(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if self.read_only or (self.superuser_deletes and not request.user.is_superuser):
            return False
        return self.has_tenant_access(request)

    # --- times in the organisation's timezone, the zone named (portal/admin/times.py) -----
    def get_list_display(self, request: HttpRequest):
        zones = Zones(administered_organization_ids(request))
        return local_time_columns(self.model, super().get_list_display(request), zones)

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="",
                        extra_context=None):
        """An object's page shows its times in its organisation's zone, named under the
        title (a new object's page: the zone of the user's only organisation, if one)."""
        organization = None
        if object_id:
            obj = self.get_object(request, unquote(object_id))
            organization = tenancy.organization_of(obj)
            subtitle = str(obj)
        else:
            ids = administered_organization_ids(request)
            if ids and len(ids) == 1:
                organization = Organization.objects.filter(pk=ids[0]).first()
            subtitle = None
        if organization is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        note = _("times in %(tz)s") % {"tz": organization.timezone}
        extra_context = {**(extra_context or {}),
                         "subtitle": f"{subtitle} · {note}" if subtitle else note}
        with timezone.override(organization.tzinfo):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()  # a TemplateResponse renders late: render it in the zone
            return response

    # --- choices and filters ---------------------------------------------------------------
    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        """Every date an admin form stores stays within what the pages render
        (`portal.bounds`): a form error, never a value that breaks its pages later."""
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(db_field, models.DateField):
            formfield.validators = [*formfield.validators, validate_storable]
        return formfield

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        kwargs.setdefault("queryset", self._scoped_choices(db_field, request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        kwargs.setdefault("queryset", self._scoped_choices(db_field, request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _scoped_choices(self, db_field, request: HttpRequest) -> QuerySet:
        base = self.get_field_queryset(None, db_field, request)
        if base is None:
            base = db_field.remote_field.model._default_manager.all()
        return scope_queryset(base, request)

    def get_list_filter(self, request: HttpRequest) -> list:
        return [self._scoped_filter(spec) for spec in super().get_list_filter(request)]

    def _scoped_filter(self, spec):
        """Every related-object filter, direct or across relations (`subscription__
        organization`), lists only the user's organisations' rows."""
        if not isinstance(spec, str):
            return spec
        field = get_fields_from_path(self.model, spec)[-1]
        if field.is_relation and field.related_model is not None:
            return (spec, ScopedRelatedFieldListFilter)
        return spec

    def get_object(self, request: HttpRequest, object_id: str, from_field=None):
        """The object if it is in the user's scope, else 404 — before any permission check,
        so another organisation's id is a 404 on every object URL (change, delete, history),
        never a 403 that would confirm it exists."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No object with this id.")
        return obj

    # --- audit: every change made through the admin -------------------------------------
    # Form fields whose values must never reach the audit log (write-only secrets).
    secret_fields: tuple[str, ...] = ("token",)

    def _audit(self, request: HttpRequest, verb: str, obj: models.Model, **details) -> None:
        audit.record(f"{obj._meta.model_name}.{verb}", actor=request.user,
                     organization=tenancy.organization_of(obj), target=obj, **details)

    def _changed_fields(self, form) -> list[str]:
        return sorted(f for f in form.changed_data if f not in self.secret_fields)

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        self._audit(request, "changed" if change else "created", obj,
                    fields=self._changed_fields(form))

    def delete_model(self, request: HttpRequest, obj) -> None:
        self._audit(request, "deleted", obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            self._audit(request, "deleted", obj)
        super().delete_queryset(request, queryset)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            self._audit(request, "created", obj)
        for obj, fields in formset.changed_objects:
            self._audit(request, "changed", obj, fields=sorted(fields))
        for obj in formset.deleted_objects:
            self._audit(request, "deleted", obj)

    # Django answers an unknown object id with a redirect and "doesn't exist" message; for
    # another tenant's object we answer 404 like everywhere else, confirming nothing.
    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404(f"No {opts.verbose_name} with this id.")


class TenantModelAdmin(TenantAdminMixin, admin.ModelAdmin):
    """A tenant-scoped ModelAdmin."""


class ReadOnlyTenantAdmin(TenantModelAdmin):
    """Mirrored data: scoped, view-only for everyone; the upstream is the source of truth."""

    read_only = True


class ReadOnlyTenantInline(TenantAdminMixin, admin.TabularInline):
    """A made-by-the-app history under its parent (deliveries, alert events): scoped, view-only,
    each row a link to its own page. Subclasses name `model`, `fields` and `readonly_fields`."""

    read_only = True
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at"]
    show_change_link = True
