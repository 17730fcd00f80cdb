"""Saved view pages: any member saves, opens, renames and deletes their own views; owners and
admins share a view with the organisation (and may rename, unshare or delete shared ones).

Every view is found through `request.tenant` (portal.tenancy.access): another organisation's view
and another member's private view are a 404.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from portal import audit
from portal.models import Role
from portal.pages.pages import render_org_page
from portal.tenancy.access import Tenant, org_page
from reports.saved_views.forms import RenameForm, SavedViewForm
from reports.saved_views.models import SavedView, visible_to

POST_ONLY = ("POST",)


def _visible(request: HttpRequest):
    return visible_to(request.tenant.scoped(SavedView), request.user)


def _get(request: HttpRequest, pk: int) -> SavedView:
    view = _visible(request).filter(pk=pk).select_related("organization").first()
    if view is None:
        raise Http404(_("Not found."))
    return view


def _managed(request: HttpRequest, pk: int) -> SavedView:
    """A view the caller may change: their own, or (owners and admins) a shared one."""
    view = _get(request, pk)
    if view.owner_id != request.user.pk and not (view.shared and request.tenant.can_admin):
        raise PermissionDenied(_("Only its author, or an owner or admin, can change this view."))
    return view


def _list(request: HttpRequest, form: SavedViewForm | None = None, status: int = 200):
    views = list(_visible(request).select_related("owner"))
    for view in views:
        view.mine = view.owner_id == request.user.pk
        view.manageable = view.mine or (view.shared and request.tenant.can_admin)
    return render_org_page(request, request.tenant.organization, "reports/saved_views/list.html",
                           {"views": views, "form": form}, status=status)


@org_page(Role.VIEWER)
def view_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _list(request)


@org_page(Role.VIEWER, POST_ONLY)
def view_save(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    shared = request.POST.get("shared") in ("1", "on", "true")
    if shared:
        tenant.require(Role.ADMIN)
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        return _list(request, form, status=400)
    view = form.save(commit=False)
    view.organization = tenant.organization
    view.owner = request.user
    view.shared = shared
    view.save()
    audit.record("saved_view.create", actor=request.user, organization=view.organization,
                 target=view, shared=shared)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(view.target_url())


@org_page(Role.VIEWER)
def view_open(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    return redirect(_get(request, pk).target_url())


@org_page(Role.VIEWER, POST_ONLY)
def view_rename(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    view = _managed(request, pk)
    form = RenameForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(form.errors.get("name", [])))
        return _list(request, status=400)
    view.name = form.cleaned_data["name"]
    view.save(update_fields=["name", "updated_at"])
    messages.success(request, _("View renamed to “%(name)s”.") % {"name": view.name})
    return redirect("saved-views", tenant.organization.slug)


@org_page(Role.VIEWER, POST_ONLY)
def view_share(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    tenant.require(Role.ADMIN)
    view = _managed(request, pk)
    view.shared = request.POST.get("shared") in ("1", "on", "true")
    view.save(update_fields=["shared", "updated_at"])
    audit.record("saved_view.share", actor=request.user, organization=view.organization,
                 target=view, shared=view.shared)
    if view.shared:
        messages.success(request, _("“%(name)s” is shared with the organisation.")
                         % {"name": view.name})
    else:
        messages.success(request, _("“%(name)s” is private again.") % {"name": view.name})
    return redirect("saved-views", tenant.organization.slug)


@org_page(Role.VIEWER, POST_ONLY)
def view_delete(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    view = _managed(request, pk)
    audit.record("saved_view.delete", actor=request.user, organization=view.organization,
                 target=view)
    view.delete()
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return redirect("saved-views", tenant.organization.slug)
