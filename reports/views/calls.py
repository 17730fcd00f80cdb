"""Calls explorer (Talkover's filters, sortable, paginated, CSV) and the call detail page."""
from __future__ import annotations

import json

import django_filters
from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from portal.access import org_page
from portal.bounds import IdsFilter
from portal.models import Environment, Organization
from portal.pages import render_org_page
from reports import csv
from reports.drill_filters import DrillFilters
from reports.filters import CallFilterForm, CallFilterSet
from reports.page_cache import kept_page
from reports.provider_fields import any_sends, not_sent
from reports.scope import range_problems
from reports.transcript_search import filter_transcripts, highlight
from reports.views.params import PRESETS
from reports.vocabulary import AGENT, END, ENV, RANGE, START, common_names
from sync.models import Call

PAGE_SIZE = 50
# Counting every match of a broad filter over millions of calls costs seconds; beyond this
# many the page says "more than" and suggests narrowing (the CSV export has them all).
COUNT_LIMIT = 10_000
# Ascending order of each sortable column, with tie-breakers chosen so that the call
# indexes ((environment, -started_at), (environment, status, -started_at), …) serve them.
SORTS = {"started": ("started_at", "id"), "duration": ("duration", "id"),
         "status": ("status", "-started_at"), "agent": ("agent__name", "agent_external_id",
                                                         "-started_at"),
         "environment": ("environment__name", "-started_at"),
         "direction": ("direction", "-started_at")}
CSV_COLUMNS = ["environment", "external_id", "sid", "agent_id", "agent", "direction", "status",
               "provider_status", "from", "to", "started_at", "answered_at", "ended_at",
               "duration", "billed_duration", "is_testing", "hangup_cause", "hangup_source"]


class ExplorerForm(CallFilterForm):
    """The explorer's period: the report pages' range rules and words (`reports.scope`)."""

    def clean(self) -> dict:
        data = super().clean()
        problems = range_problems(data.get(START), data.get(END), start_field=START,
                                  end_field=END, max_days=None)
        for field, (_code, message) in problems.items():
            if field not in self.errors:
                self.add_error(field, message)
        return data


class CallFilter(DrillFilters, CallFilterSet):
    """The API's Talkover filters (same validation) plus the page's extras, under the
    report pages' parameter names (`reports.vocabulary`; the Talkover names are aliases).

    Labels are translated here; `range` is the report pages' period preset, `env` narrows to
    some of the organisation's environments and `testing` brings back test calls, which are
    hidden by default.
    """

    range = django_filters.ChoiceFilter(label=_("Period"), choices=PRESETS, empty_label=None,
                                        method="filter_range")
    start = django_filters.DateFilter(label=_("From"), method="filter_date_from")
    end = django_filters.DateFilter(label=_("To"), method="filter_date_to")
    env = IdsFilter(
        field_name="environment", label=_("Environments"), queryset=Environment.objects.none())
    testing = django_filters.BooleanFilter(label=_("Include test calls"), method="filter_testing",
                                           widget=forms.CheckboxInput)
    # Origins AI transcripts (full-text on PostgreSQL): see reports/transcript_search.py.
    transcript = django_filters.CharFilter(label=_("Transcript contains"), max_length=200,
                                           method="filter_transcript")
    ORDER = (RANGE, START, END, ENV, AGENT, "direction", "status", "outcome", "weekday",
             "hour", "search", "transcript", "testing")
    LABELS = {"status": _("Status"), "direction": _("Direction"), "search": _("Number or SID")}

    class Meta(CallFilterSet.Meta):
        form = ExplorerForm

    def __init__(self, data, *, organization: Organization) -> None:
        data = self.with_default_period(common_names(data), organization)
        data.setdefault("testing", "")
        # Environment ids, not a join on the organisation: the (environment, …) indexes then
        # serve both the filters and the newest-first order.
        environments = list(Environment.objects.filter(organization=organization).values_list(
            "pk", "provider"))
        env_ids = [pk for pk, _provider in environments]
        super().__init__(data, Call.objects.filter(environment_id__in=env_ids),
                         timezone=organization.tzinfo)
        for name, label in self.LABELS.items():
            self.filters[name].label = label
        self.filters[ENV].queryset = Environment.objects.filter(
            organization=organization)
        self.filters["status"].extra["empty_label"] = _("Any status")
        self.filters["direction"].extra["empty_label"] = _("Any direction")
        for name in (START, END):
            self.filters[name].extra["widget"] = forms.DateInput(attrs={"type": "date"})
        self.filters[AGENT] = self.agent_filter(organization, data.get(AGENT, ""))
        providers = {provider for _pk, provider in environments}
        # Offered only where a provider sends transcripts; a transcript in the query is
        # still applied (and matches nothing) rather than silently dropped.
        order = [name for name in self.ORDER if name != "transcript"
                 or data.get("transcript") or any_sends(providers, "transcript")]
        self.filters = {name: self.filters[name] for name in order}

    def filter_range(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs  # the preset has set `start` / `end` (with_default_period), which filter

    def filter_testing(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        return qs if value else qs.filter(is_testing=False)

    def filter_transcript(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return filter_transcripts(qs, value)


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

    yield CSV_COLUMNS
    for c in qs.select_related("agent", "environment").iterator(chunk_size=2000):
        yield [c.environment.name, c.external_id, c.sid, c.agent_external_id,
               c.agent.name if c.agent else "", c.direction, c.status, c.provider_status,
               c.from_number, c.to_number, local(c.started_at), local(c.answered_at),
               local(c.ended_at), c.duration, c.billed_duration,
               c.is_testing, c.hangup_cause, c.hangup_source]


# What a filter with no match keeps when it offers to widen: the period and environments.
KEPT_WHEN_CLEARING = (START, END, RANGE, ENV, "testing", "sort")


def widen_queries(query: QueryDict) -> dict[str, str]:
    """Query strings that widen a search with no match: every date ("all dates": the dates
    emptied explicitly, which the explorer reads as all time) and, when other filters are
    set, the same period without them. Empty when there is nothing to widen. Old parameter
    names are read as their common ones (`reports.vocabulary`)."""
    query = common_names(query)
    out = {}
    if query.get(START, "x") or query.get(END, "x"):
        every_date = query.copy()
        every_date.pop("page", None)
        every_date.pop(RANGE, None)  # a preset would set the dates again
        every_date[START] = every_date[END] = ""
        out["all_dates"] = every_date.urlencode()
    narrowed = [k for k, v in query.lists() if k not in (*KEPT_WHEN_CLEARING, "page")
                and any(v)]
    if narrowed:
        kept = QueryDict(mutable=True)
        for key in KEPT_WHEN_CLEARING:
            if key in query:
                kept.setlist(key, query.getlist(key))
        out["other_filters"] = kept.urlencode()
    return out


@org_page()
@kept_page("calls", passes=("format", "search", "transcript"))
def call_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = request.tenant.organization
    filterset = CallFilter(request.GET, organization=org)
    if not filterset.is_valid():
        return render_org_page(request, org, "reports/calls.html",
                               {"filter": filterset, "page": None}, status=400)
    qs, sort = _sorted(filterset.qs, request.GET.get("sort", "-started"))
    if request.GET.get("format") == "csv":
        return csv.stream_csv(_csv_rows(qs, org.tzinfo), "calls.csv")
    # Prefetch (not join) the agent and environment, and leave the raw JSON behind: the sort
    # then runs over the calls table alone.
    listing = qs.defer("raw", "transcript").prefetch_related("agent", "environment")
    page = CappedPaginator(listing, PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render_org_page(request, org, "reports/calls.html", {
        "filter": filterset, "page": page, "sort": sort,
        "widen": widen_queries(request.GET) if not page.object_list else {},
        # Carried to each call's page so that its "All calls" link returns to this list.
        "list_query": request.GET.urlencode()})


def _as_list(value) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [{"name": k, "value": v} for k, v in value.items()]
    return []


def _turns(raw: dict, search: str = "") -> list[dict]:
    """Transcript turns of an Origins call as {speaker, text, at, html, hit}, tolerant of
    shapes; `html` is the text with the words of `search` highlighted."""
    turns = []
    for item in _as_list(raw.get("call_transcription")):
        if not isinstance(item, dict):
            turns.append({"speaker": "", "text": str(item), "at": ""})
            continue
        speaker = item.get("role") or item.get("speaker") or item.get("from") or ""
        text = item.get("text") or item.get("content") or item.get("message") or ""
        at = item.get("timestamp") or item.get("time") or item.get("start") or ""
        turns.append({"speaker": speaker, "text": text or json.dumps(item), "at": at})
    for turn in turns:
        turn["html"] = highlight(str(turn["text"]), search)
        turn["hit"] = "<mark>" in turn["html"]
    return turns


def recording_url(raw: dict) -> str:
    """The recording's URL when it is a plain http(s) link (anything else is not linked)."""
    url = raw.get("call_recording_url")
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return url
    return ""


@org_page()
def call_detail(request: HttpRequest, org_slug: str, call_id: int) -> HttpResponse:
    org = request.tenant.organization
    call = get_object_or_404(request.tenant.scoped(Call).select_related("agent", "environment"),
                             pk=call_id)
    raw = call.raw if isinstance(call.raw, dict) else {}
    search = request.GET.get("transcript", "")[:200]
    turns = _turns(raw, search)
    return render_org_page(request, org, "reports/call_detail.html", {
        "call": call,
        "not_sent": not_sent(call.environment.provider),
        "provider": call.environment.get_provider_display(),
        "turns": turns,
        "search": search, "search_hits": sum(1 for t in turns if t["hit"]),
        "list_query": request.GET.urlencode(),
        "recording_url": recording_url(raw),
        "timeline": _as_list(raw.get("call_timeline") or raw.get("call_state_changes")),
        "quality": raw.get("call_quality") if isinstance(raw.get("call_quality"), dict) else {},
        "insights": raw.get("call_insights"),
        "raw_json": json.dumps(raw, indent=2, ensure_ascii=False, sort_keys=True),
    })
