"""Admin actions on environments and API tokens; each one is written to the audit log.

Sync work is queued by task name through `portal.tasks_client.enqueue`, so the admin does
not import the sync code and the same action works with a worker or in process.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from portal import audit
from portal.models import Environment, EnvironmentStatus
from portal.tasks_client import QueueUnavailable, TaskNotAvailable, enqueue

MAX_BACKFILL_DAYS = 3650


class EnvironmentActionForm(helpers.ActionForm):
    """The changelist's action bar, with the number of days for "back-fill"."""

    days = forms.CharField(
        required=False,
        label=_lazy("Back-fill days"),
        widget=forms.TextInput(attrs={"size": 4, "inputmode": "numeric"}),
        help_text=_lazy("Empty: each environment's own back-fill window."),
    )


def progress_links(environments: list[Environment]) -> str:
    """Where to watch queued work: each environment's sync page and its SyncRun list."""
    runs = reverse("admin:sync_syncrun_changelist")
    return format_html_join(
        "; ",
        '{}: <a href="/o/{}/sync/">{}</a>, <a href="{}?environment__id__exact={}">{}</a>',
        ((env.name, env.organization.slug, _("sync status page"), runs, env.pk,
          _("sync runs")) for env in environments),
    )


def _queue_for_each(
    request: HttpRequest, modeladmin: admin.ModelAdmin, queryset: QuerySet,
    task: str, action: str, what: str, **kwargs_for,
) -> None:
    """Queue `task` for each usable environment; report what was queued and what was not."""
    queued: list[Environment] = []
    for env in queryset.select_related("organization"):
        if env.status == EnvironmentStatus.AUTH_FAILED:
            modeladmin.message_user(
                request,
                _("%(name)s: its token was rejected; save a new token and use “Mark token "
                  "as replaced” first. Nothing was queued for it.") % {"name": env.name},
                messages.WARNING,
            )
            continue
        kwargs = {key: value(env) for key, value in kwargs_for.items()}
        try:
            enqueue(task, env.pk, **kwargs)
        except TaskNotAvailable:
            modeladmin.message_user(
                request, _("The task %(task)s is not installed here; nothing was queued.")
                % {"task": task},
                messages.ERROR,
            )
            return
        except QueueUnavailable:
            modeladmin.message_user(
                request, _("%(what)s could not be queued: the task queue is not answering. "
                           "Try again in a minute.") % {"what": what}, messages.ERROR,
            )
            break
        audit.record(action, actor=request.user, organization=env.organization, target=env,
                     **kwargs)
        queued.append(env)
    if queued:
        modeladmin.message_user(
            request,
            format_html(ngettext("{} queued for {} environment. Watch progress: {}.",
                                 "{} queued for {} environments. Watch progress: {}.",
                                 len(queued)),
                        what, len(queued), progress_links(queued)),
            messages.SUCCESS,
        )


@admin.action(description=_lazy("Sync now"), permissions=["change"])
def sync_now(modeladmin, request: HttpRequest, queryset: QuerySet) -> None:
    _queue_for_each(request, modeladmin, queryset, "sync.sync_environment",
                    "environment.sync_requested", _("Sync"), trigger=lambda env: "manual")


def parse_backfill_days(raw: str | None) -> int | None:
    """The days typed in the action bar; None when empty. ValueError says what to fix."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_BACKFILL_DAYS:
        raise ValueError(
            _("Back-fill days must be a whole number from 1 to %(max)d (got “%(got)s”). "
              "Nothing was queued.") % {"max": MAX_BACKFILL_DAYS, "got": raw[:20]}
        )
    return int(raw)


@admin.action(description=_lazy("Back-fill N days (type N next to the action)"),
              permissions=["change"])
def backfill(modeladmin, request: HttpRequest, queryset: QuerySet) -> None:
    try:
        days = parse_backfill_days(request.POST.get("days"))
    except ValueError as error:
        modeladmin.message_user(request, str(error), messages.ERROR)
        return
    _queue_for_each(request, modeladmin, queryset, "sync.backfill_environment",
                    "environment.backfill_requested", _("Back-fill"),
                    days=lambda env: days or env.backfill_days)


def _set_state(request: HttpRequest, queryset: QuerySet, action: str, **fields) -> int:
    changed = 0
    for env in queryset.select_related("organization"):
        values = {key: value(env) if callable(value) else value for key, value in fields.items()}
        before = {key: getattr(env, key) for key in values}
        for key, value in values.items():
            setattr(env, key, value)
        env.save(update_fields=list(values))
        audit.record(action, actor=request.user, organization=env.organization, target=env,
                     before={k: str(v) for k, v in before.items() if k != "next_sync_at"})
        changed += 1
    return changed


def _paused_status(env: Environment) -> str:
    # A rejected token stays visible as such: pausing must not hide it.
    return env.status if env.status == EnvironmentStatus.AUTH_FAILED else EnvironmentStatus.PAUSED


def _resumed_status(env: Environment) -> str:
    return env.status if env.status == EnvironmentStatus.AUTH_FAILED else EnvironmentStatus.ACTIVE


@admin.action(description=_lazy("Pause scheduled sync"), permissions=["change"])
def pause_sync(modeladmin, request: HttpRequest, queryset: QuerySet) -> None:
    count = _set_state(request, queryset, "environment.sync_paused", sync_enabled=False,
                       status=_paused_status)
    modeladmin.message_user(request, ngettext(
        "Paused sync of %(n)d environment.", "Paused sync of %(n)d environments.", count)
        % {"n": count})


@admin.action(description=_lazy("Resume scheduled sync"), permissions=["change"])
def resume_sync(modeladmin, request: HttpRequest, queryset: QuerySet) -> None:
    rejected = list(queryset.filter(status=EnvironmentStatus.AUTH_FAILED)
                    .values_list("name", flat=True))
    count = _set_state(request, queryset, "environment.sync_resumed", sync_enabled=True,
                       status=_resumed_status, next_sync_at=lambda env: timezone.now())
    modeladmin.message_user(request, ngettext(
        "Resumed sync of %(n)d environment.", "Resumed sync of %(n)d environments.", count)
        % {"n": count})
    if rejected:
        modeladmin.message_user(
            request,
            _("Still waiting for a new token: %(names)s. Save the new token, then use “Mark "
              "token as replaced”.") % {"names": ", ".join(rejected)},
            messages.WARNING,
        )


@admin.action(description=_lazy("Mark token as replaced (clears “token rejected”)"),
              permissions=["change"])
def mark_token_replaced(modeladmin, request: HttpRequest, queryset: QuerySet) -> None:
    count = _set_state(
        request, queryset.filter(status=EnvironmentStatus.AUTH_FAILED),
        "environment.token_marked_replaced",
        status=lambda env: EnvironmentStatus.ACTIVE if env.sync_enabled
        else EnvironmentStatus.PAUSED,
        status_reason="", next_sync_at=lambda env: timezone.now(),
    )
    modeladmin.message_user(
        request,
        ngettext("Cleared “token rejected” on %(n)d environment; it syncs at the next tick "
                 "unless paused.",
                 "Cleared “token rejected” on %(n)d environments; they sync at the next tick "
                 "unless paused.", count) % {"n": count} if count
        else _("None of the selected environments had a rejected token."),
        messages.SUCCESS if count else messages.WARNING,
    )


@admin.action(description=_lazy("Revoke selected API tokens"), permissions=["change"])
def revoke_tokens(modeladmin, request: HttpRequest, queryset: QuerySet) -> None:
    count = 0
    for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
        token.revoke()
        # A personal token belongs to its owner, not to an organisation (superusers only).
        audit.record("api_token.revoked", actor=request.user, target=token, organization=None,
                     owner=token.user.username)
        count += 1
    modeladmin.message_user(request, ngettext(
        "Revoked %(n)d API token.", "Revoked %(n)d API tokens.", count) % {"n": count})

