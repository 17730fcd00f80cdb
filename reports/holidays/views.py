"""Settings → Holidays: the organisation's holidays, read by the anomaly alerts on calls (an
hour of a holiday is judged against past Sundays'; a past holiday is in no baseline).

Owners and admins see and change it, as they change the other organisation settings (others
403, other organisations 404, through `org_page`): a day added by hand, one removed, or a
country's public holidays of this year or the next added in one click (the `holidays`
package; days already listed are kept as they are).
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from portal import audit
from portal.models import Organization, Role
from portal.pages.pages import render_org_page
from portal.phone import region_of_timezone
from portal.tenancy.access import WRITE_METHODS, Tenant, org_page
from reports.holidays.calendar import countries, public_holidays
from reports.holidays.forms import DEFAULT_COUNTRY, HolidayForm, PublicHolidaysForm
from reports.holidays.models import MAX_HOLIDAYS, Holiday


def _default_country(org: Organization) -> str:
    """The organisation's country by its zone when the package knows it, else Brazil."""
    found = region_of_timezone(org.timezone)
    return found if found in dict(countries("en")) else DEFAULT_COUNTRY


def _add(request: HttpRequest, org: Organization, listed: set, form: forms.Form,
         days: dict) -> int | None:
    """Add `days` (day → name) not listed yet; None (a form error) past the cap."""
    new = {day: name for day, name in days.items() if day not in listed}
    if len(listed) + len(new) > MAX_HOLIDAYS:
        form.add_error(None, _("At most %(max)d holidays: remove past ones first.")
                       % {"max": MAX_HOLIDAYS})
        return None
    Holiday.objects.bulk_create([Holiday(organization=org, day=day, name=name)
                                 for day, name in new.items()], ignore_conflicts=True)
    if new:
        audit.record("organization.holidays", actor=request.user, organization=org,
                     target=org, before=len(listed), after=len(listed) + len(new))
    return len(new)


@org_page(Role.ADMIN, WRITE_METHODS)
def holidays(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    this_year = timezone.now().astimezone(org.tzinfo).year
    listed = {h.day: h for h in tenant.scoped(Holiday).order_by("day")}
    action = request.POST.get("action") if request.method == "POST" else None
    add_form = HolidayForm(request.POST if action == "add" else None)
    import_form = PublicHolidaysForm(
        request.POST if action == "import" else None, this_year=this_year,
        initial={"country": _default_country(org), "year": this_year})
    if action == "remove":
        pk = request.POST.get("holiday", "")
        if not (pk.isascii() and pk.isdigit() and len(pk) <= 18):  # a row's id, no more
            return HttpResponseBadRequest(_("Which holiday?"))
        holiday = tenant.get(Holiday, pk=int(pk))
        holiday.delete()
        audit.record("organization.holidays", actor=request.user, organization=org,
                     target=org, before=len(listed), after=len(listed) - 1)
        messages.success(request, _("Holiday removed: %(name)s.") % {"name": holiday.name})
        return redirect("settings-holidays", org.slug)
    if action == "add" and add_form.is_valid():
        day = add_form.cleaned_data["day"]
        if day in listed:
            add_form.add_error("day", _("This day is already listed as “%(name)s”.")
                               % {"name": listed[day].name})
        elif _add(request, org, set(listed), add_form,
                  {day: add_form.cleaned_data["name"]}) is not None:
            messages.success(request, _("Holiday added: %(name)s.")
                             % {"name": add_form.cleaned_data["name"]})
            return redirect("settings-holidays", org.slug)
    elif action == "import" and import_form.is_valid():
        code, year = import_form.cleaned_data["country"], import_form.cleaned_data["year"]
        language = get_language() or "en"
        days = public_holidays(code, year, language)
        added = _add(request, org, set(listed), import_form, days)
        if added is not None:
            messages.success(request, _(
                "%(added)d of the %(count)d public holidays of %(country)s in %(year)d added "
                "(the others were listed already).") % {
                "added": added, "country": dict(countries(language))[code], "count": len(days),
                "year": year})
            return redirect("settings-holidays", org.slug)
    elif action not in (None, "add", "import"):
        return HttpResponseBadRequest(_("Unknown action."))
    return render_org_page(request, org, "reports/holidays/settings.html", {
        "holidays": list(listed.values()), "add_form": add_form, "import_form": import_form,
        "max_holidays": MAX_HOLIDAYS,
    }, status=400 if add_form.errors or import_form.errors else 200)
