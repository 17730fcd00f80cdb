"""Settings → Privacy: erase a caller, export a caller's calls, per-kind retention, the log.

Owners and admins open it (others 403, other organisations 404, through `org_page`); both
may erase and export (the API's rule); only owners change the retention, as only owners
change the call retention: nothing is anonymised by age without an owner's explicit setting.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from portal import audit
from portal.models import Role
from portal.pages.pages import render_org_page
from portal.tenancy.access import WRITE_METHODS, Tenant, org_page
from reports.privacy import service
from reports.privacy.forms import EraseForm, RetentionKindsForm
from sync.models import Erasure, PrivacyRetention

LOG_SIZE = 100


@org_page(Role.ADMIN, WRITE_METHODS)
def privacy(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    can_change_retention = tenant.has_role(Role.OWNER)
    policy = tenant.scoped(PrivacyRetention).first() or PrivacyRetention(
        organization=org)
    action = request.POST.get("action") if request.method == "POST" else None
    erase_form = EraseForm(request.POST if action == "erase" else None, organization=org)
    retention_form = RetentionKindsForm(request.POST if action == "retention" else None,
                                        instance=policy)
    if action == "erase" and erase_form.is_valid():
        erasure = service.erase(org, erase_form.cleaned_data["number"], actor=request.user,
                                source="portal", language=get_language())
        messages.success(request, ngettext(
            "The caller was erased: %(count)d call anonymised.",
            "The caller was erased: %(count)d calls anonymised.",
            erasure.calls) % {"count": erasure.calls})
        return redirect("privacy", org.slug)
    if action == "retention":
        if not can_change_retention:
            raise PermissionDenied(_("Only owners can change how long personal data is kept."))
        if retention_form.is_valid():
            before = policy.days() if policy.pk else {}
            saved = retention_form.save()
            audit.record("privacy.retention", actor=request.user, organization=org,
                         target=saved, before=before, after=saved.days())
            messages.success(request, _("Retention of personal data saved; the daily "
                                        "maintenance applies it."))
            return redirect("privacy", org.slug)
    erasures = list(tenant.scoped(Erasure).select_related("actor")
                    .order_by("-created_at", "-id")[:LOG_SIZE])
    invalid = bool(erase_form.errors or retention_form.errors)
    return render_org_page(request, org, "reports/privacy/settings.html", {
        "erase_form": erase_form, "retention_form": retention_form, "policy": policy,
        "can_change_retention": can_change_retention, "erasures": erasures,
    }, status=400 if invalid else 200)
