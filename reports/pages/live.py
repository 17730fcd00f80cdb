"""The live wallboard's pages: the board (`/o/<slug>/live/`), its JSON feed for the page's
poll, and its thresholds (admins). The figures are `reports.wallboard.board`'s.

The page polls `live/data/` (the figures already written the reader's way) and redraws
itself: no build step, no page reload; without JavaScript it reloads itself every minute.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.models import Role
from portal.pages.pages import render_org_page
from portal.replicas import reads_reports
from portal.tenancy.access import WRITE_METHODS, Tenant, org_page
from reports.wallboard.board import Board, board
from reports.wallboard.models import WallboardThresholds

# How often the page asks for new figures (seconds); the mirror itself syncs every minute
# at best, so a faster poll would show nothing new.
POLL_SECONDS = 30
# How long each page of agents' tiles stays on the screen when they do not all fit.
PAGE_SECONDS = 12


def now():
    """The board's clock (one place, so a test can hold it at a moment of its world)."""
    return timezone.now()


def _board_for(tenant: Tenant) -> Board:
    org = tenant.organization
    envs = list(tenant.environments.select_related("organization").order_by("pk"))
    return board(org, envs, now())


@reads_reports()
@org_page()
def live(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """The wallboard page (figures rendered at once; `live.js` keeps them current)."""
    org = tenant.organization
    return render_org_page(request, org, "reports/live.html", {
        "board": _board_for(tenant), "poll_seconds": POLL_SECONDS,
        "page_seconds": PAGE_SECONDS,
        "thresholds": WallboardThresholds.of(org)})


@reads_reports()
@org_page()
def live_data(request: HttpRequest, tenant: Tenant) -> JsonResponse:
    """The wallboard's figures as JSON, for the page's poll."""
    return JsonResponse(_board_for(tenant).as_json())


class ThresholdsForm(forms.ModelForm):
    class Meta:
        model = WallboardThresholds
        fields = ["answer_rate_amber", "answer_rate_red", "waiting_amber", "waiting_red",
                  "oldest_wait_amber", "oldest_wait_red", "min_calls"]


@org_page(Role.ADMIN, WRITE_METHODS)
def live_thresholds(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """Where the board's tiles turn amber and red, for the whole organisation."""
    org = tenant.organization
    form = ThresholdsForm(request.POST or None, instance=WallboardThresholds.of(org))
    if request.method == "POST" and form.is_valid():
        form.save()
        audit.record("wallboard.thresholds", actor=request.user, organization=org,
                     target=form.instance)
        messages.success(request, _("Wallboard thresholds saved."))
        return redirect("live", org.slug)
    return render_org_page(request, org, "reports/live_thresholds.html", {"form": form},
                           status=400 if form.errors else 200)
