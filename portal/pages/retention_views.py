"""Settings → Call retention: how long the organisation keeps its mirrored calls.

Admins see it; only owners change it, after an honest warning: a shorter retention deletes
calls for good, a whole month at a time (PostgreSQL partitions, `sync.partitions.retention`), and
reports then name those days as not mirrored. The change is queued by task name
(`sync.apply_call_retention`); if the queue is down, the daily maintenance applies it.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import audit
from portal.models import CallRetention, Organization, Role
from portal.pages.pages import render_org_page
from portal.tasks_client import QueueUnavailable, TaskNotAvailable, enqueue
from portal.tenancy.access import WRITE_METHODS, Tenant, org_page


def shortens(old: int, new: int) -> bool:
    """Does going from tier `old` to `new` keep fewer months (0 = forever)?"""
    return bool(new) and (not old or new < old)


class RetentionForm(forms.Form):
    call_retention_months = forms.TypedChoiceField(
        label=gettext_lazy("Keep calls for"), choices=CallRetention.choices, coerce=int)
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that older calls are deleted for good."),
        required=False)

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, initial={
            "call_retention_months": organization.call_retention_months}, **kwargs)
        self.organization = organization

    def clean(self) -> dict:
        data = super().clean()
        new = data.get("call_retention_months")
        if new is not None and shortens(self.organization.call_retention_months, new) \
                and not data.get("confirm"):
            self.add_error("confirm", _("Tick this box to confirm: a shorter retention "
                                        "deletes the older calls for good."))
        return data


@org_page(Role.ADMIN, WRITE_METHODS)
def retention(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org, actor = tenant.organization, tenant.membership
    can_change = actor.has_role(Role.OWNER)
    if request.method == "POST" and not can_change:
        raise PermissionDenied(_("Only owners can change the call retention."))
    form = RetentionForm(request.POST or None, organization=org)
    if request.method == "POST" and form.is_valid():
        old, new = org.call_retention_months, form.cleaned_data["call_retention_months"]
        if old != new:
            Organization.objects.filter(pk=org.pk).update(call_retention_months=new,
                                                          call_retention_pending=True)
            audit.record("organization.call_retention", actor=request.user, organization=org,
                         target=org, before=old, after=new)
            try:
                enqueue("sync.apply_call_retention", org.pk)
                messages.success(request, _("Call retention changed."))
            except (QueueUnavailable, TaskNotAvailable):
                messages.warning(request, _("Call retention changed; the calls are moved "
                                            "by the next daily maintenance."))
        return redirect("settings-retention", org.slug)
    org.refresh_from_db()
    return render_org_page(request, org, "portal/settings/retention.html", {
        "form": form, "can_change": can_change,
        "dropped": org.environments.filter(calls_dropped_before__isnull=False).order_by(
            "name").values_list("name", "calls_dropped_before"),
    }, status=400 if form.errors else 200)
