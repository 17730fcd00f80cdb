"""Calls explorer (Talkover's filters, sortable, paginated, CSV) and the call detail page."""
from __future__ import annotations

import json

import django_filters
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from portal.access import get_organization_for_user
from portal.models import Environment, Organization
from portal.pages import render_org_page
from reports.filters import CallFilterSet
from reports.views.export import csv_response
from sync.models import Agent, Call

PAGE_SIZE = 50
# Counting every match of a broad filter over millions of calls costs seconds; beyond this
# many the page says "more than" and suggests narrowing (the CSV export has them all).
COUNT_LIMIT = 10_000
# Ascending order of each sortable column, with tie-breakers chosen so that the call
# indexes ((environment, -started_at), (environment, status, -started_at), …) serve them.
SORTS = {"started": ("started_at", "id"), "duration": ("duration", "id"),
         "status": ("status", "-started_at"), "agent": ("agent_external_id", "-started_at")}
CSV_COLUMNS = ["environment", "external_id", "sid", "agent_id", "agent", "direction", "status",
               "provider_status", "from", "to", "started_at", "answered_at", "ended_at",
               "duration", "billed_duration", "is_testing", "hangup_cause", "hangup_source"]


class CallFilter(CallFilterSet):
    """The API's Talkover filters (same names, same validation) plus the page's extras.

    Labels are translated here; `environment` narrows to some of the organisation's
    environments and `testing` brings back test calls, which are hidden by default.
    """

    environment = django_filters.ModelMultipleChoiceFilter(
        label=_("Environments"), queryset=Environment.objects.none())
    testing = django_filters.BooleanFilter(label=_("Include test calls"), method="filter_testing",
                                           widget=forms.CheckboxInput)
    LABELS = {"status": _("Status"), "direction": _("Direction"), "agent_id": _("Agent"),
              "date_from": _("From"), "date_to": _("To"), "search": _("Number or SID")}

    def __init__(self, data, *, organization: Organization) -> None:
        data = data.copy()
        data.setdefault("testing", "")
        # Environment ids, not a join on the organisation: the (environment, …) indexes then
        # serve both the filters and the newest-first order.
        env_ids = list(Environment.objects.filter(organization=organization).values_list(
            "pk", flat=True))
        super().__init__(data, Call.objects.filter(environment_id__in=env_ids),
                         timezone=organization.tzinfo)
        for name, label in self.LABELS.items():
            self.filters[name].label = label
        self.filters["environment"].queryset = Environment.objects.filter(
            organization=organization)
        self.filters["status"].extra["empty_label"] = _("Any status")
        self.filters["direction"].extra["empty_label"] = _("Any direction")
        for name in ("date_from", "date_to"):
            self.filters[name].extra["widget"] = forms.DateInput(attrs={"type": "date"})
        agents = Agent.objects.filter(environment__organization=organization).order_by(
            "name").values_list("external_id", "name")
        agent = django_filters.ChoiceFilter(
            field_name="agent_external_id", label=_("Agent"), empty_label=_("All agents"),
            choices=[(e, n or e) for e, n in agents])
        self.filters["agent_id"] = agent

    def filter_testing(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        return qs if value else qs.filter(is_testing=False)


class CappedPaginator(Paginator):
    """A paginator that counts at most COUNT_LIMIT + 1 rows (`capped` says it stopped)."""

    capped = False

    @cached_property
    def count(self) -> int:
        found = self.object_list.order_by().values("pk")[: COUNT_LIMIT + 1].count()
        self.capped = found > COUNT_LIMIT
        return min(found, COUNT_LIMIT)


def _sorted(qs: QuerySet, sort: str) -> tuple[QuerySet, str]:
    key = sort.lstrip("-")
    if key not in SORTS:
        sort, key = "-started", "started"
    fields = SORTS[key]
    if sort.startswith("-"):
        fields = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in fields)
    return qs.order_by(*fields), sort


def _csv_rows(qs: QuerySet, tz):
    def local(moment):
        return moment.astimezone(tz).isoformat() if moment else ""

    for c in qs.select_related("agent", "environment").iterator(chunk_size=2000):
        yield [c.environment.name, c.external_id, c.sid, c.agent_external_id,
               c.agent.name if c.agent else "", c.direction, c.status, c.provider_status,
               c.from_number, c.to_number, local(c.started_at), local(c.answered_at),
               local(c.ended_at), c.duration, c.billed_duration,
               c.is_testing, c.hangup_cause, c.hangup_source]


@login_required
def call_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = get_organization_for_user(request.user, org_slug)
    filterset = CallFilter(request.GET, organization=org)
    if not filterset.is_valid():
        return render_org_page(request, org, "reports/calls.html",
                               {"filter": filterset, "page": None}, status=400)
    qs, sort = _sorted(filterset.qs, request.GET.get("sort", "-started"))
    if request.GET.get("format") == "csv":
        return csv_response("calls.csv", CSV_COLUMNS, _csv_rows(qs, org.tzinfo))
    # Prefetch (not join) the agent and environment, and leave the raw JSON behind: the sort
    # then runs over the calls table alone.
    listing = qs.defer("raw").prefetch_related("agent", "environment")
    page = CappedPaginator(listing, PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render_org_page(request, org, "reports/calls.html",
                           {"filter": filterset, "page": page, "sort": sort})


def _as_list(value) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [{"name": k, "value": v} for k, v in value.items()]
    return []


def _turns(raw: dict) -> list[dict]:
    """Transcript turns of an Origins call as {speaker, text, at}, tolerant of shapes."""
    turns = []
    for item in _as_list(raw.get("call_transcription")):
        if not isinstance(item, dict):
            turns.append({"speaker": "", "text": str(item), "at": ""})
            continue
        speaker = item.get("role") or item.get("speaker") or item.get("from") or ""
        text = item.get("text") or item.get("content") or item.get("message") or ""
        at = item.get("timestamp") or item.get("time") or item.get("start") or ""
        turns.append({"speaker": speaker, "text": text or json.dumps(item), "at": at})
    return turns


@login_required
def call_detail(request: HttpRequest, org_slug: str, call_id: int) -> HttpResponse:
    org = get_organization_for_user(request.user, org_slug)
    call = get_object_or_404(Call.objects.select_related("agent", "environment"),
                             pk=call_id, environment__organization=org)
    raw = call.raw if isinstance(call.raw, dict) else {}
    return render_org_page(request, org, "reports/call_detail.html", {
        "call": call,
        "turns": _turns(raw),
        "timeline": _as_list(raw.get("call_timeline") or raw.get("call_state_changes")),
        "quality": raw.get("call_quality") if isinstance(raw.get("call_quality"), dict) else {},
        "insights": raw.get("call_insights"),
        "raw_json": json.dumps(raw, indent=2, ensure_ascii=False, sort_keys=True),
    })
