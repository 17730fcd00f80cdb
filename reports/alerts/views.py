"""Settings pages for alert rules: members read, owners and admins write (portal.tenancy.access)."""
from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from portal import audit
from portal.models import Role
from portal.pages.pages import render_org_page
from portal.tenancy.access import WRITE_METHODS, Tenant, org_page
from reports.alerts import actions, coverage, explain, preview
from reports.alerts.actions import SNOOZE_LABELS
from reports.alerts.evaluate import evaluate_rules
from reports.alerts.forms import AlertRuleForm
from reports.alerts.models import AlertEvent, AlertRule, BannerDismissal
from reports.alerts.quiet_hours import quiet_hours
from reports.holidays.models import holidays_of
from sync.models import Agent

HISTORY_SIZE = 50
log = logging.getLogger(__name__)


def calls_link(org_slug: str, rule: AlertRule, event: AlertEvent) -> str:
    """The calls explorer filtered to the calls behind an event's value (its local days)."""
    if event.window_start is None:
        return ""
    tz = rule.organization.tzinfo
    last = (event.window_end - timedelta(microseconds=1)).astimezone(tz).date()
    query = [("start", event.window_start.astimezone(tz).date().isoformat()),
             ("end", last.isoformat())]
    query += [("env", e.pk) for e in rule.environments.all()]
    if rule.agent_id:
        query.append(("agent", rule.agent_id))
    return reverse("calls", args=[org_slug]) + "?" + urlencode(query)


@org_page(Role.VIEWER)
def rule_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    rules = list(tenant.scoped(AlertRule).order_by("name", "pk")
                 .select_related("acknowledged_by").prefetch_related("environments"))
    return render_org_page(request, org, "reports/alerts/list.html",
                           {"rules": rules, "can_edit": tenant.can_admin,
                            "now": timezone.now()})


@org_page(Role.VIEWER)
def rule_detail(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    rule = tenant.get(AlertRule, pk=pk)
    events = list(rule.events.all()[:HISTORY_SIZE])
    for event in events:
        event.calls_url = calls_link(tenant.organization.slug, rule, event)
    env_ids = tuple(sorted(e.pk for e in rule.environments.all()))
    quiet = quiet_hours(rule, env_ids, coverage.calls_mirrored(env_ids),
                        timezone.localtime(timezone.now(), rule.organization.tzinfo).date())
    agent = Agent.objects.filter(environment__in=rule.environments.all(),
                                 external_id=rule.agent_id).first() if rule.agent_id else None
    return render_org_page(request, rule.organization, "reports/alerts/detail.html", {
        "rule": rule, "events": events, "can_edit": tenant.can_admin,
        "recipients": rule.recipient_emails(), "now": timezone.now(),
        "secret": request.session.pop(f"alert-secret-{rule.pk}", ""),
        "snooze_choices": list(SNOOZE_LABELS.items()),
        "agent_name": agent.name if agent else "",
        "band_chart": band_chart(rule, events), "quiet": quiet,
        "holiday_count": len(holidays_of(rule.organization)) if quiet else 0,
        "preview": replayed(rule, list(env_ids))
        if "preview" in request.GET and rule.condition == "anomaly" else None,
    })


def band_chart(rule: AlertRule, events: list[AlertEvent]) -> dict | None:
    """The small chart of the rule page: the latest firing's hour against its usual band,
    else the last evaluation's (anomaly rules only)."""
    for event in events:
        if event.state == "firing" and event.detail:
            return explain.chart(event.detail)
    return explain.chart(rule.last_reading or {})


def evaluate_saved(rule: AlertRule) -> None:
    """Judge a rule as soon as it is saved, so its page never says "OK" for a window that
    already breaches. A change is recorded here; its notification leaves with the next
    evaluation pass (beat, every 5 minutes), not inside this request. Should judging fail,
    the rule shows "not evaluated yet" until that pass."""
    try:
        evaluate_rules(rule_id=rule.pk, notify=False)
    except Exception:  # noqa: BLE001 - the save stands; the beat tick evaluates again
        log.exception("alert rule %s could not be evaluated on save", rule.pk)


PREVIEW_DAYS = 30


def form_preview(request: HttpRequest, form: AlertRuleForm) -> dict | None:
    """"Would have fired N times in the last 30 days" for a valid anomaly rule on the form
    (asked with the Preview button, or shown when editing such a rule); None otherwise."""
    wanted = request.method == "POST" and "preview" in request.POST
    if request.method == "GET" and form.instance.pk:
        wanted = form.instance.condition == "anomaly"
        rule, env_ids = form.instance, [e.pk for e in form.instance.environments.all()]
    elif not wanted or not form.is_valid() or form.cleaned_data["condition"] != "anomaly":
        return None
    else:
        rule, env_ids = form.save(commit=False), [e.pk for e in form.cleaned_data["environments"]]
    if not wanted or not env_ids:
        return None
    return replayed(rule, env_ids)


def replayed(rule: AlertRule, env_ids: list[int]) -> dict:
    """The last 30 days the mirror holds (today's, unless the mirror lags behind) replayed:
    the firings, each with its hours in the words of its sentence, and the chart."""
    edge = coverage.calls_mirrored(env_ids).end or timezone.now()
    tz = rule.organization.tzinfo
    last = min(edge, timezone.now()).astimezone(tz).date()
    first = last - timedelta(days=PREVIEW_DAYS - 1)
    found = preview.replay(rule, tuple(sorted(env_ids)), first, last, timezone.now())
    for firing in found["firings"]:  # the row names the hours as its sentence does
        firing["when"] = explain.when({"start": firing["start"], "end": firing["end"],
                                       "tz": tz.key})
    return {"days": PREVIEW_DAYS, "zone": tz.key, **found,
            "chart": {"series": found["series"], "value_label": str(rule.get_metric_display()),
                      "band_label": _("usual band"), "fired_label": _("would have fired")}}


def _save_form(request: HttpRequest, form: AlertRuleForm, action: str) -> HttpResponse | None:
    if request.method != "POST" or "preview" in request.POST or not form.is_valid():
        return None
    creating = form.instance.pk is None
    if creating:
        form.instance.created_by = request.user
    rule = form.save()
    evaluate_saved(rule)
    audit.record(f"alert_rule.{action}", actor=request.user, organization=rule.organization,
                 target=rule, changed=[] if creating else form.changed_data)
    if form.new_secret:
        # Shown once, on the next page; only its HMAC use remains afterwards.
        request.session[f"alert-secret-{rule.pk}"] = form.new_secret
    messages.success(request, _("Alert rule saved."))
    return redirect("alerts-rule", rule.organization.slug, rule.pk)


@org_page(Role.ADMIN, WRITE_METHODS)
def rule_create(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    form = AlertRuleForm(request.POST or None, organization=org,
                         initial={"members": [request.user],
                                  "environments": list(tenant.environments)})
    done = _save_form(request, form, "create")
    if done:
        return done
    return render_org_page(request, org, "reports/alerts/form.html",
                           {"form": form, "preview": form_preview(request, form)},
                           status=400 if form.errors else 200)


@org_page(Role.ADMIN, WRITE_METHODS)
def rule_edit(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    rule = tenant.get(AlertRule, pk=pk)
    form = AlertRuleForm(request.POST or None, instance=rule,
                         organization=tenant.organization)
    done = _save_form(request, form, "update")
    if done:
        return done
    return render_org_page(request, tenant.organization, "reports/alerts/form.html",
                           {"form": form, "rule": rule, "preview": form_preview(request, form)},
                           status=400 if form.errors else 200)


@org_page(Role.ADMIN, WRITE_METHODS)
def rule_delete(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    rule = tenant.get(AlertRule, pk=pk)
    if request.method == "POST":
        audit.record("alert_rule.delete", actor=request.user,
                     organization=tenant.organization, target=rule)
        rule.delete()
        messages.success(request, _("Alert rule deleted."))
        return redirect("alerts", tenant.organization.slug)
    return render_org_page(request, tenant.organization,
                           "reports/alerts/confirm_delete.html", {"rule": rule})


@org_page(Role.ADMIN, ("POST",))
def rule_action(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    """Acknowledge, snooze (for a period) or unsnooze a rule."""
    rule = tenant.get(AlertRule, pk=pk)
    action = request.POST.get("action", "")
    message = actions.apply(rule, action, request.POST.get("for"), timezone.now(), request.user)
    if message is None:
        return HttpResponseBadRequest(
            _("action must be acknowledge, snooze (with for = 1h, 4h, 24h or 7d) or unsnooze."))
    audit.record(f"alert_rule.{action}", actor=request.user,
                 organization=tenant.organization, target=rule)
    messages.success(request, message)
    return redirect("alerts-rule", tenant.organization.slug, rule.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@csrf_exempt  # opened from an email without a session; the signed token is the proof
def email_action(request: HttpRequest, token: str) -> HttpResponse:
    """Acknowledge or snooze from an alert email's signed link: GET asks, POST acts."""
    template = "reports/alerts/email_action.html"
    try:
        data = actions.read_token(token)
    except actions.Expired:
        return render(request, template, {"expired": True}, status=410)
    rule = None
    if data is not None:
        # The signed link is the credential, not a membership: the named door.
        rule = (AlertRule.objects.across_organizations().filter(pk=data[0])
                .select_related("organization").first())
    if rule is None:
        return render(request, template, {"invalid": True}, status=404)
    context = {"rule": rule, "email": data[1], "snooze_choices": list(SNOOZE_LABELS.items()),
               "now": timezone.now()}
    if request.method == "POST":
        action = request.POST.get("action", "")
        message = actions.apply(rule, action, request.POST.get("for"), timezone.now())
        if message is None:
            return render(request, template, {**context, "bad_action": True}, status=400)
        audit.record(f"alert_rule.{action}", organization=rule.organization, target=rule,
                     email=data[1])
        context["done"] = message
    return render(request, template, context)


@org_page(Role.VIEWER, ("POST",))
def banner_dismiss(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    """Hide a rule's banner for this member until the rule changes state again."""
    rule = tenant.get(AlertRule, pk=pk)
    tenant.scoped(BannerDismissal).update_or_create(
        rule=rule, user=request.user, defaults={"state_seq": rule.state_seq})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        back = reverse("dashboard", args=[tenant.organization.slug])
    return redirect(back)
