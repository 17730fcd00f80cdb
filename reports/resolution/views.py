"""Settings → Resolution: the numbers the organisation leaves out of resolution.

Owners and admins see and change it, as they change the other organisation settings (others
403, other organisations 404, through `org_page`). The numbers with the most answered
contacts lately are suggested, each added in one click (`sync.excluded_numbers.suggestions`).
A change re-settles the numbers
added or removed (`sync.excluded_numbers.apply_change`).
"""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from portal import audit
from portal.models import Role
from portal.pages.pages import render_org_page
from portal.tenancy.access import WRITE_METHODS, Tenant, org_page
from reports.resolution.forms import ExcludedNumbersForm, as_lines
from sync.excluded_numbers import SUGGEST_DAYS, apply_change, change_list, suggestions
from sync.models import ExcludedNumber


@org_page(Role.ADMIN, WRITE_METHODS)
def resolution(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    current = dict(tenant.scoped(ExcludedNumber).values_list("digits", "label"))
    posted = request.POST or None
    if posted is not None and posted.get("action") == "add":
        # A suggestion's one-click add: the list as it is, and that number.
        posted = {"numbers": f"{as_lines(current)}\n{posted.get('number', '')}"}
    form = ExcludedNumbersForm(posted, initial={"numbers": as_lines(current)})
    if request.method == "POST" and form.is_valid():
        entries = form.cleaned_data["numbers"]
        changed = change_list(org, entries)
        if changed or entries != current:
            # Counts, not numbers: the audit log outlives an erasure of a caller.
            audit.record("organization.excluded_numbers", actor=request.user,
                         organization=org, target=org, before=len(current),
                         after=len(entries), changed=len(changed))
        apply_change(org.pk, changed)
        messages.success(request, _("Numbers left out of resolution saved; the figures "
                                    "follow within minutes."))
        return redirect("settings-resolution", org.slug)
    return render_org_page(request, org, "reports/resolution/settings.html", {
        "form": form, "count": len(current), "window": org.resolution_window_days,
        "suggestions": suggestions(org), "suggest_days": SUGGEST_DAYS,
    }, status=400 if form.errors else 200)
