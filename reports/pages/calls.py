"""Calls explorer (Talkover's filters, sortable, paginated, CSV) and the call detail page."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.core.paginator import Paginator
from django.db import router
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property

from portal.bounds import as_id
from portal.model_rows import AnyOf, CompiledQuery
from portal.pages.pages import render_org_page, render_org_part
from portal.phone import region_of_timezone, shown_numbers
from portal.replicas import reads_reports
from portal.tenancy.access import Tenant, org_page
from reports import exports
from reports.call_analysis import call_analysis
from reports.call_filter import CallFilter
from reports.call_search import Probed, clean_needle, is_whole_id, phone_digits, probed
from reports.drill import AT
from reports.pages import call_record
from reports.pages.call_links import call_links
from reports.pages.page_cache import (
    BODY_SLOT,
    PagePart,
    PagePartResponse,
    kept_page,
    page_part,
)
from reports.provider_fields import not_sent
from reports.queries.outcomes import call_costs
from reports.transcript_search import highlight
from reports.vocabulary import AGENT, END, ENV, RANGE, START, common_names
from sync.health import org_environments
from sync.models import Agent, Call, CallbackLink, PrivacyRetention

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


class CappedPaginator(Paginator):
    """A paginator that counts at most COUNT_LIMIT + 1 rows (`capped` says it stopped); a
    probed search's count is the probe's (`ProbedCalls`)."""

    capped = False

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, ProbedCalls):
            found = len(self.object_list)
        else:
            found = self.object_list.order_by().values("pk")[: COUNT_LIMIT + 1].count()
        self.capped = found > COUNT_LIMIT
        return min(found, COUNT_LIMIT)


def _probed_listing(ids: list[int], first: datetime, last: datetime, sort: str) -> QuerySet:
    """The explorer's listing of these calls, which started from `first` to `last`, in the
    order of `sort`: their agent joined, the raw JSON and transcript left behind. The bounds
    keep the other months' partitions out of the plan (by id alone PostgreSQL planned and
    searched every month's: db time per search +40 %, `bench/api_load.py`)."""
    return _sorted(Call.objects.across_organizations().filter(
        AnyOf(F("pk"), ids), started_at__gte=first, started_at__lte=last,
    ).defer("raw", "transcript").select_related("agent"), sort)


# The probed listing of each sort, compiled once per process (`ProbedCalls`).
_PROBED_LISTINGS: dict[str, CompiledQuery] = {}


class ProbedCalls:
    """A probed search's calls as the paginator's list: its page is read by id, the query
    compiled once per process and sort (`portal.model_rows`), not the search's conditions
    compiled again for the ids the probe read (about a tenth of a search's CPU).

    Across organisations on purpose: the ids were read through the tenant door, by the probe
    of the filter's query (`reports.call_search.search_calls`), the member's teams included.
    """

    def __init__(self, found: Probed, sort: str) -> None:
        self.found, self.sort = found, sort

    def __len__(self) -> int:
        return len(self.found.ids)

    def __getitem__(self, part: slice) -> list[Call]:
        start, stop, found = part.start or 0, part.stop, self.found
        if not found.ids or stop <= start:
            return []
        query = _PROBED_LISTINGS.get(self.sort)
        if query is None:
            query = _PROBED_LISTINGS[self.sort] = CompiledQuery(
                lambda ids, first, last, sort=self.sort: _probed_listing(ids, first, last, sort),
                list, datetime, datetime)
        return query.objects(router.db_for_read(Call), found.ids, found.first_started,
                             found.last_started, limit=stop - start, offset=start)


def _asks_unreadable_environment(query: QueryDict, readable: dict) -> bool:
    """Whether the query names, by a well-formed id, an environment the member cannot read
    (another team's, another organisation's, none): a 404, as the API answers for it —
    not a 400 that would tell such an environment apart from one that does not exist."""
    ids = (as_id(value) for value in common_names(query).getlist(ENV))
    return any(pk is not None and pk not in readable for pk in ids)


def _checked_sort(sort: str) -> str:
    """The sort asked for, or the newest first when it names no column."""
    return sort if sort.lstrip("-") in SORTS else "-started"


def _sorted(qs: QuerySet, sort: str) -> QuerySet:
    """`qs` in the order of `sort` (a checked one)."""
    fields = SORTS[sort.lstrip("-")]
    if sort.startswith("-"):
        fields = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in fields)
    return qs.order_by(*fields)


# What a filter with no match keeps when it offers to widen: the period, environments and
# the search itself (clearing "the other filters" never drops what was searched for).
KEPT_WHEN_CLEARING = (START, END, RANGE, ENV, "testing", "sort", "search", "transcript")


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
        out["keeps_search"] = bool(query.get("search") or query.get("transcript"))
    return out


def search_help(query: QueryDict, org, calls_found: bool) -> dict | None:
    """For a search that found nothing: what the box searches, and the agents whose name
    holds the needle (the box does not search names; the agent filter does), each with the
    same period's link."""
    needle = clean_needle(query.get("search"))
    if calls_found or not needle or phone_digits(needle):
        return None
    agents = (Agent.objects.for_organization(org).filter(name__icontains=needle[:64])
              .order_by("name").values_list("name", "external_id")[:3])
    links = []
    for name, external_id in agents:
        by_agent = QueryDict(mutable=True)
        for key in (START, END, RANGE, ENV, "testing"):
            if key in query:
                by_agent.setlist(key, query.getlist(key))
        by_agent[AGENT] = external_id
        links.append((name, by_agent.urlencode()))
    return {"needle": needle, "agents": links}


@reads_reports()
@org_page()
@kept_page("calls", passes=("format", "transcript"), placeheld="search")
def call_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """The explorer: the filter form (the frame) around the matching calls (the results). A
    search's frame is kept around a placeholder and its results rendered every time
    (`reports.pages.page_cache.PagePart`)."""
    org = tenant.organization
    filterset = CallFilter(request.GET, organization=org,
                           environments=org_environments(request, org))
    if not filterset.is_valid():
        if _asks_unreadable_environment(request.GET, filterset.environments):
            raise Http404("no such environment")
        return render_org_page(request, org, "reports/calls.html", {"filter": filterset},
                               status=400)
    sort = _checked_sort(request.GET.get("sort", "-started"))
    part = page_part(request)
    if part == PagePart.FRAME:  # the placeholder's frame: no search is run for it
        return render_org_page(request, org, "reports/calls.html", {
            "filter": filterset, "sort": sort, "results": BODY_SLOT})
    qs = _sorted(filterset.qs, sort)
    criteria = filterset.criteria()
    # Named like every other export: switchboard-calls-list-<slug>-<start>_<end>.csv.
    name = exports.filename("calls", org.slug, criteria.start, criteria.end, "list")
    exported = exports.export(request, ("calls",), "calls", lambda _table: exports.stream_csv(
        exports.call_rows(qs, org.tzinfo), name))
    if exported is not None:
        return exported
    # Prefetch (not join) the agent, and leave the raw JSON behind: the sort then runs over
    # the calls table alone. A probed search's few calls (listed by id) join it instead: one
    # query less. The environments are the filter's own rows.
    found = probed(qs)
    listing = (qs.defer("raw", "transcript").prefetch_related("agent") if found is None
               else ProbedCalls(found, sort))
    page = CappedPaginator(listing, PAGE_SIZE).get_page(
        request.GET.get("page"))
    for call in page.object_list:
        call.environment = filterset.environments[call.environment_id]
    timed = _time_to_callback(request, page.object_list, criteria.callback)
    show_numbers(org, page.object_list)
    results = render_org_part(request, org, "reports/includes/call_results.html", {
        "page": page, "sort": sort, "callback_times": timed,
        "widen": widen_queries(request.GET) if not page.object_list else {},
        "search_help": search_help(common_names(request.GET), org, bool(page.object_list)),
        "whole_id": is_whole_id(request.GET.get("search")),
        # Carried to each call's page so that its "All calls" link returns to this list.
        "list_query": request.GET.urlencode()})
    if part == PagePart.BODY:
        return PagePartResponse(results)
    return render_org_page(request, org, "reports/calls.html", {
        "filter": filterset, "sort": sort, "results": results})


# The funnel's steps whose calls have a time to callback: an outbound call not answered that
# was called back (its first callback's wait), and a callback of an outbound call not answered
# (its own; a callback after an answered call waited for nobody).
TIMED_STEPS = {"called_back": "source", "called_back_answered": "source", "matched": "callback"}


def _time_to_callback(request: HttpRequest, calls, step: str | None) -> bool:
    """Set `time_to_callback` (seconds) on the page's calls when the list is a funnel step
    that has one (one query for the page); whether the column shows."""
    side = TIMED_STEPS.get(step or "")
    calls = list(calls)
    if side is None or not calls:
        return False
    links = request.tenant.scoped(CallbackLink).filter(
        environment_id__in={c.environment_id for c in calls}, is_testing=False)
    ids = [c.external_id for c in calls]
    seconds: dict[tuple[int, str], int] = {}
    if side == "source":
        rows = links.filter(source_external_id__in=ids).values_list(
            "environment_id", "source_external_id", "seconds_to_callback")
    else:
        rows = links.filter(callback_external_id__in=ids, source_answered=False).values_list(
            "environment_id", "callback_external_id", "seconds_to_callback")
    for env_id, external_id, wait in rows:
        if wait is not None:
            key = (env_id, external_id)
            seconds[key] = min(wait, seconds.get(key, wait))
    for call in calls:
        call.time_to_callback = seconds.get((call.environment_id, call.external_id))
    return True


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


def _find_call(calls: QuerySet, call_id: int, at: str | None) -> Call:
    """The call by id, through its month when `at` names its start; a wrong or missing `at`
    costs one more query, never a wrong answer."""
    moment = parse_datetime(at) if at and len(at) <= 40 else None
    if moment is not None and moment.tzinfo is not None:
        found = calls.filter(pk=call_id, started_at=moment).first()
        if found is not None:
            return found
    return get_object_or_404(calls, pk=call_id)


def show_numbers(org, calls, *, international: bool = False) -> None:
    """Set `from_shown` and `to_shown` on the calls of one page: national numbers while
    they are all of the organisation's country, international once they span countries
    or when `international` (`portal.phone.shown_numbers`); a value that is no number as
    stored."""
    calls = [c for c in calls if c is not None]
    shown = shown_numbers([n for c in calls for n in (c.from_number, c.to_number)],
                          region_of_timezone(org.timezone), international=international)
    for call in calls:
        call.from_shown = shown.get(call.from_number) or call.from_formatted or call.from_number
        call.to_shown = shown.get(call.to_number) or call.to_formatted or call.to_number


@reads_reports()
@org_page()
def call_detail(request: HttpRequest, tenant: Tenant, call_id: int) -> HttpResponse:
    org = tenant.organization
    call = _find_call(tenant.scoped(Call).select_related("agent", "environment"),
                      call_id, request.GET.get(AT))
    record = call.record
    raw = record if isinstance(record, dict) else {}
    search = request.GET.get("transcript", "")[:200]
    turns = _turns(raw, search)
    back = request.GET.copy()
    back.pop(AT, None)
    # One call's page has no neighbour to share a country with: its numbers carry their
    # country code, as a list spanning countries writes them.
    show_numbers(org, [call], international=True)
    missing = not_sent(call.environment.provider)
    return render_org_page(request, org, "reports/call_detail.html", {
        "call": call,
        "not_sent": missing,
        "analysis": call_analysis(call, missing),
        "provider": call.environment.get_provider_display(),
        "turns": turns,
        "search": search, "search_hits": sum(1 for t in turns if t["hit"]),
        "list_query": back.urlencode(),
        "recording_url": recording_url(raw),
        **_record_parts(org, raw),
        "insights_text": raw.get("call_insights") if isinstance(
            raw.get("call_insights"), str) else "",
        "raw_json": json.dumps(raw, indent=2, ensure_ascii=False, sort_keys=True),
        "links": call_links(request, call),
        "record_fields": record_fields(call.environment.spec.call_page_fields, raw),
        "retained": aged_out(org, call),
        # The outcome report's price rule, for this one call (vendor / estimate / none).
        "cost": call_costs([call])[call.pk],
    })


def _record_parts(org, raw: dict) -> dict:
    """The record's timeline, quality and insights as the page shows them, its times in the
    organisation's zone (the page's one)."""
    with timezone.override(org.tzinfo):
        return {
            "timeline": call_record.timeline(
                _as_list(raw.get("call_timeline") or raw.get("call_state_changes"))),
            "quality": call_record.fields(raw.get("call_quality")),
            "insights": call_record.fields(raw.get("call_insights"))}


def aged_out(org, call: Call) -> dict[str, int]:
    """{kind: days} of the organisation's privacy retention (`PrivacyRetention`) that this
    call is older than: its transcript or recording, gone, was removed by the policy."""
    policy = PrivacyRetention.objects.for_organization(org).first()
    age = timezone.now() - call.started_at
    return {kind: days for kind, days in (policy.days() if policy else {}).items()
            if age > timedelta(days=days)}


def record_fields(paths: tuple[tuple[str, str], ...], raw: dict) -> list[tuple[str, str]]:
    """(label, value as sent) of the record's fields the provider's spec names for the call
    page (`ProviderSpec.call_page_fields`: dotted paths); absent or null ones are left out."""
    shown = []
    for label, path in paths:
        value: object = raw
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None and value != "":
            shown.append((label, value if isinstance(value, str) else json.dumps(value)))
    return shown
