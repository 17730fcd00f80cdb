"""The base of every DRF viewset: tenant scoping that subclasses cannot bypass.

A subclass declares `queryset` (or `base_queryset`) and `organization_field`, the lookup path
from its model to `Organization`. It may not define `get_queryset`: that is enforced at class
creation, so forgetting tenant filtering is impossible rather than merely unlikely.
"""
from __future__ import annotations

from typing import ClassVar

from django.db.models import QuerySet
from rest_framework import permissions, viewsets

from portal.access import organizations_for_user
from portal.models import Membership, Role


class RoleWritePermission(permissions.BasePermission):
    """Reads for every member; writes need `write_role` (default admin) in the object's org."""

    message = "Your role in this organisation is read-only for this resource."

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        org = view.organization_of(obj)
        membership = Membership.objects.filter(user=request.user, organization=org).first()
        return membership is not None and membership.has_role(view.write_role)


class TenantScopedViewSet(viewsets.GenericViewSet):
    organization_field: ClassVar[str] = "organization"
    write_role: ClassVar[str] = Role.ADMIN
    permission_classes = [permissions.IsAuthenticated, RoleWritePermission]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} must not override get_queryset: tenant scoping lives in "
                "TenantScopedViewSet. Narrow the data with `queryset` or filter_queryset()."
            )

    def get_queryset(self) -> QuerySet:
        assert self.queryset is not None, f"{type(self).__name__} needs a queryset"
        orgs = organizations_for_user(self.request.user)
        return self.queryset.all().filter(**{f"{self.organization_field}__in": orgs})

    def organization_of(self, obj):
        for part in self.organization_field.split("__"):
            obj = getattr(obj, part)
        return obj
