"""Sync status: per environment and stream, the last runs; "sync now" for owners/admins."""
from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import audit
from portal.access import get_environment_for_user, get_organization_for_user
from portal.models import Role
from portal.pages import render_org_page
from portal.tasks_client import enqueue
from sync.models import Stream, SyncRun

logger = logging.getLogger(__name__)
RUNS_PER_STREAM = 10


SYNC_TASK = "sync.sync_environment"


@login_required
def sync_status(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = get_organization_for_user(request.user, org_slug)
    runs = list(SyncRun.objects.filter(environment__organization=org).order_by(
        "environment_id", "stream", "-started_at").select_related(None)[:2000])
    grouped: dict[tuple[int, str], list[SyncRun]] = {}
    for run in runs:
        bucket = grouped.setdefault((run.environment_id, run.stream), [])
        if len(bucket) < RUNS_PER_STREAM:
            bucket.append(run)
    sections = []
    for env in org.environments.all():
        streams = [(label, grouped.get((env.pk, value), [])) for value, label in Stream.choices]
        sections.append((env, [s for s in streams if s[1]]))
    return render_org_page(request, org, "reports/sync_status.html", {"sections": sections})


@login_required
@require_POST
def sync_now(request: HttpRequest, org_slug: str, env_id: int) -> HttpResponse:
    env = get_environment_for_user(request.user, env_id, Role.ADMIN)
    if env.organization.slug != org_slug:
        raise Http404(_("No such environment."))
    try:
        enqueue(SYNC_TASK, env.id, trigger="manual")
    except Exception:  # noqa: BLE001 - any broker failure is reported to the user, not a 500
        logger.exception("could not queue a manual sync of environment %s", env.pk)
        messages.error(request, _("The sync could not be queued; try again in a minute."))
        return redirect("sync-status", org_slug)
    audit.record("environment.sync_requested", actor=request.user, organization=env.organization,
                 target=env)
    messages.success(request, _("Sync of “%(name)s” queued.") % {"name": env.name})
    return redirect("sync-status", org_slug)
