"""Sync status: per environment and stream, the last runs; "sync now" for owners/admins."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.models import Environment, Role
from portal.pages.pages import render_org_page
from portal.tasks_client import QueueUnavailable, TaskNotAvailable, enqueue
from portal.tenancy.access import Tenant, org_page
from reports.pages.rejection_words import reason_text
from sync.models import CallbackDay, CallbackFunnelDay, RejectedRecord, SyncRun
from sync.providers.registry import ADAPTERS
from sync.stream_names import Stream
from sync.webhooks import rejections as webhook_rejections
from sync.write import ledger

logger = logging.getLogger(__name__)
RUNS_PER_STREAM = 10
# Rejected records listed per environment (newest first); the admin lists them all.
REJECTED_SHOWN = 20
# Days of the completeness ledger searched for disagreements.
LEDGER_DAYS = 400


SYNC_TASK = "sync.sync_environment"


@org_page()
def sync_status(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    runs = list(tenant.scoped(SyncRun).order_by(
        "environment_id", "stream", "-started_at").select_related(None)[:2000])
    grouped: dict[tuple[int, str], list[SyncRun]] = {}
    for run in runs:
        bucket = grouped.setdefault((run.environment_id, run.stream), [])
        if len(bucket) < RUNS_PER_STREAM:
            bucket.append(run)
    rejected: dict[int, list[RejectedRecord]] = {}
    for record in tenant.scoped(RejectedRecord).order_by("-last_seen_at", "-id")[:500]:
        shown = rejected.setdefault(record.environment_id, [])
        if len(shown) < REJECTED_SHOWN:
            # The stream in the reader's language ("chamadas"), as the headings name it.
            labels = dict(Stream.choices)
            record.stream_label = labels.get(record.stream, record.stream)
            record.reason_text = reason_text(record.reason)
            shown.append(record)
    counts = dict(tenant.scoped(RejectedRecord).values_list("environment_id")
                  .annotate(n=Count("id")).values_list("environment_id", "n"))
    envs = list(org.environments.all())
    disagree = ledger.disagreeing(envs, timezone.now().date() - timedelta(days=LEDGER_DAYS),
                                  timezone.now().date() + timedelta(days=1))
    reconciled = ledger.last_reconciled(envs)
    now = timezone.now()
    # A team's scope (a restricted member, `?team=`) sees each run's status and freshness but
    # not its counts: a run's pages, created, updated, unchanged and rejected records, and the
    # webhook deliveries refused, are the whole environment's — other teams' agents included.
    counts_shown = not request.tenant.restricted
    sections = []
    for env in envs:
        # The completeness ledger, in words: which days are being re-read, else when the
        # calls were last read whole, and until when each day of the lookback may change.
        env.calls_disagree = disagree.get(env.pk, [])
        env.calls_reconciled_at = reconciled.get(env.pk)
        env.calls_plan = reconciliation_plan(env, now) if env.pk in reconciled else []
        env.day_counts = day_counts(env, now) if counts_shown else []
        # Webhook deliveries the receiver refused: how many, the latest.
        env.hooks_refused, env.hooks_refused_latest = (
            webhook_rejections.summary(env.pk) if counts_shown else (0, []))
        streams = [(label, grouped.get((env.pk, value), [])) for value, label in Stream.choices]
        sections.append((env, [s for s in streams if s[1]], rejected.get(env.pk, []),
                         counts.get(env.pk, 0)))
    return render_org_page(request, org, "reports/sync_status.html",
                           {"sections": sections, "counts_shown": counts_shown})


def reconciliation_plan(env: Environment, now: datetime) -> list[Any]:
    """The environment's lookback days with their last and next whole read, when its provider
    keeps a plan (`ProviderAdapter.reconciliation_plan`); none otherwise."""
    adapter = ADAPTERS.get(env.provider)
    if adapter is None or adapter.reconciliation_plan is None:
        return []
    return adapter.reconciliation_plan(env, now)


@dataclass(frozen=True)
class DayCounts:
    """One lookback day, as the last run's evidence says: the upstream's count of calls and
    of callbacks, what the mirror holds, and when each count was taken (None: not yet)."""

    day: date
    calls_upstream: int | None
    calls_mirrored: int
    calls_at: datetime | None
    callbacks_upstream: int | None
    callbacks_mirrored: int
    callbacks_at: datetime | None


def day_counts(env: Environment, now: datetime) -> list[DayCounts]:
    """The lookback's days, newest first: calls (the completeness ledger) and callbacks (the
    upstream's stats day against the callbacks the mirror's calls link)."""
    days = ledger.lookback(now.date(), env.lookback_days)
    rows = ledger.rows(env, days)
    stats = {c.day: c for c in CallbackDay.objects.filter(environment=env, day__in=days)}
    linked = dict(CallbackFunnelDay.objects.filter(environment=env, day__in=days)
                  .values_list("day", "callbacks_received"))
    out = []
    for day in reversed(days):
        row, stat = rows.get(day), stats.get(day)
        if row is None and stat is None:
            continue
        out.append(DayCounts(
            day, row.upstream if row else None, row.mirrored + row.rejected if row else 0,
            row.checked_at if row else None, stat.total_received if stat else None,
            linked.get(day, 0), stat.fetched_at if stat else None))
    return out


@org_page(Role.ADMIN, ("POST",))
def sync_now(request: HttpRequest, tenant: Tenant, env_id: int) -> HttpResponse:
    env = tenant.get(Environment, pk=env_id)
    env.organization = tenant.organization
    try:
        enqueue(SYNC_TASK, env.id, trigger="manual")
    except (QueueUnavailable, TaskNotAvailable) as exc:
        # Reported to the user, not a 500; tasks_client logged the broker's failure.
        logger.warning("could not queue a manual sync of environment %s: %s", env.pk,
                       type(exc).__name__)
        messages.error(request, _("The sync could not be queued; try again in a minute."))
        return redirect("sync-status", tenant.organization.slug)
    audit.record("environment.sync_requested", actor=request.user, organization=env.organization,
                 target=env)
    messages.success(request, _("Sync of “%(name)s” queued.") % {"name": env.name})
    return redirect("sync-status", tenant.organization.slug)
