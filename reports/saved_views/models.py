"""A saved view is a report page's query string under a name: opening it redirects to the
page with exactly those parameters, so it shows the same figures the member saved.

Private to its owner unless an owner or admin shares it with the organisation.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.models import Organization
from portal.models.base import Timestamped
from portal.tenancy.registry import StrictTenantModel


class ViewPage(models.TextChoices):
    """The report pages whose query string can be saved (their URL names)."""

    DASHBOARD = "dashboard", _("Dashboard")
    CALLS = "calls", _("Calls")
    AGENTS = "agents", _("Agents")
    CALLBACKS = "callbacks", _("Callbacks")


class SavedView(Timestamped, StrictTenantModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="saved_views", verbose_name=_("organization"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="saved_views", verbose_name=_("owner"))
    name = models.CharField(_("name"), max_length=100)
    page = models.CharField(_("page"), max_length=16, choices=ViewPage.choices)
    # The page's filters as a query string (no paging, no export), re-encoded on save.
    query = models.TextField(_("filters"), blank=True, default="")
    shared = models.BooleanField(_("shared with the organisation"), default=False)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["organization", "owner"])]

    def __str__(self) -> str:
        return self.name

    def target_url(self) -> str:
        """The page with the saved parameters (a path of this site: never an open redirect)."""
        url = reverse(self.page, args=[self.organization.slug])
        return f"{url}?{self.query}" if self.query else url


def visible_to(views: QuerySet[SavedView], user) -> QuerySet[SavedView]:
    """Of an organisation's views (already tenant-scoped), those `user` may open: their own
    and the shared ones. Another member's private view is not found (404)."""
    return views.filter(Q(owner=user) | Q(shared=True))
