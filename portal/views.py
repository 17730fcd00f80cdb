"""Portal pages owned by the tenancy app (the report pages live in reports/)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.access import environments_for_user, organizations_for_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    organizations = organizations_for_user(request.user).order_by("name")
    environments = environments_for_user(request.user).select_related("organization")
    return render(
        request,
        "portal/home.html",
        {"organizations": organizations, "environments": environments},
    )
