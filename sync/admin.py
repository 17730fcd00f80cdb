"""Admin for mirrored data: tenant-scoped and read-only for everyone (the upstream is the
source of truth). The calls changelist is built for a million rows: estimated counts, no
facets, no date-hierarchy aggregates, joins fetched with the page, exact-match search."""
from __future__ import annotations

import json
import re

from django.contrib import admin
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portal.admin.base import ReadOnlyTenantAdmin, administered_environment_ids
from portal.admin.paginator import EstimatedCountPaginator
from portal.durations import format_duration
from portal.models import Environment
from sync.models import (
    Agent,
    Call,
    CallbackDay,
    CallbackLink,
    CallbackSourceDay,
    CallRollup,
    QualityDayRollup,
    RejectedRecord,
    StreamState,
    SyncRun,
)
from sync.models.core import CallStatus, Direction
from sync.search_text import sid_q


def pretty_json(value: object) -> str:
    """A JSON value as an indented, escaped <pre> block."""
    # Wrapped, so a long URL or transcript line never makes the page scroll sideways.
    return format_html('<pre style="white-space: pre-wrap; overflow-wrap: anywhere;">{}</pre>',
                       json.dumps(value, indent=2, ensure_ascii=False))


class RawRecordAdmin(ReadOnlyTenantAdmin):
    """A mirrored row that keeps what the upstream sent (`raw`): shown indented, not edited."""

    exclude = ["raw"]
    readonly_fields = ["raw_pretty"]

    @admin.display(description=_lazy("raw"))
    def raw_pretty(self, obj: Agent | Call | CallbackDay) -> str:
        # A call's record as sent (`sync.stored_record`); the others keep it whole.
        return pretty_json(obj.record if isinstance(obj, Call) else obj.raw)


@admin.register(Agent)
class AgentAdmin(RawRecordAdmin):
    list_display = ["name", "environment", "external_id", "direction", "current_status",
                    "is_callback", "missing", "last_seen_at"]
    list_filter = ["direction", "is_callback", "missing", "environment"]
    search_fields = ["name", "=external_id"]
    list_select_related = ["environment"]


PHONE_LIKE = re.compile(r"\+?[\d\s().-]{4,}")


def number_variants(term: str) -> set[str]:
    """How a typed phone number may be stored: as typed, digits only, and E.164 with '+'."""
    digits = re.sub(r"\D", "", term)
    return {term, digits, f"+{digits}"} - {"", "+"}


# The calls changelist's default order: newest started first, ties by id.
NEWEST_STARTED = ("-started_at", "-id")


class TimeOrderedCallPaginator(EstimatedCountPaginator):
    """The calls changelist's pages newest started first without an index on the start
    alone (there is none: it cost every write): each environment's calls are walked
    newest first on its own `(environment, started_at DESC)` index, as far as the page's end
    (`ArraySubquery`, one query for every environment), merged here, and the page's rows read
    by key. Sorting every call by its start instead read every month whole (a Merge Append
    of sorts). Another order (a column header) is sliced as Django does."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self._slice(bottom, top), number, self)

    def _slice(self, bottom: int, top: int):
        calls = self.object_list
        if (not isinstance(calls, QuerySet) or top <= bottom
                or tuple(calls.query.order_by) != NEWEST_STARTED):
            return calls[bottom:top]
        walk = calls.filter(environment_id=OuterRef("pk")).order_by(*NEWEST_STARTED)
        heads = Environment.objects.annotate(
            starts=ArraySubquery(walk.values("started_at")[:top]),
            ids=ArraySubquery(walk.values("id")[:top])).values_list("starts", "ids")
        keys = sorted(((start, pk) for starts, ids in heads
                       for start, pk in zip(starts, ids, strict=True)), reverse=True)
        keys = keys[bottom:top]
        if not keys:
            return []
        rows = {c.pk: c for c in calls.filter(pk__in=[k[1] for k in keys],
                                              started_at__in={k[0] for k in keys})}
        return [rows[pk] for _start, pk in keys if pk in rows]


@admin.register(Call)
class CallAdmin(RawRecordAdmin):
    list_display = ["started_at", "environment", "agent", "direction", "status", "duration",
                    "is_testing", "from_number", "to_number", "sid"]
    list_filter = ["environment", "agent", "direction", "status", "is_testing",
                   ("started_at", admin.DateFieldListFilter)]
    search_fields = ["sid"]  # enables the box; the lookup itself is get_search_results
    search_help_text = _lazy("Exact SID, call id, or phone number (with or without +).")
    # Phone-number search reads every call of the scoped environments: from/to numbers have
    # no index yet (see the admin report); SID and call id searches use indexes.
    list_select_related = ["environment", "agent"]
    # Newest started first (a back-fill mirrors older calls after newer ones, so the id is
    # not time order), each environment walked on its own index (`TimeOrderedCallPaginator`).
    ordering = list(NEWEST_STARTED)
    paginator = TimeOrderedCallPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # Exact matches only: icontains over every call would scan the table on each search.
        term = search_term.strip()
        if not term:
            return queryset, False
        # Naming the environments lets PostgreSQL use the (environment, …) search and
        # natural-key indexes for superusers too, whose queryset is otherwise unfiltered.
        environments = administered_environment_ids(request)
        if environments is None:
            environments = list(Environment.objects.values_list("pk", flat=True))
        # The SID through the search's GIN index (`sid_q`), the call id by the natural key.
        query = sid_q([term], environments) | Q(external_id=term)
        if PHONE_LIKE.fullmatch(term):
            numbers = number_variants(term)
            query |= Q(from_number__in=numbers) | Q(to_number__in=numbers)
        return queryset.filter(query, environment__in=environments), False


@admin.register(CallbackDay)
class CallbackDayAdmin(RawRecordAdmin):
    list_display = ["day", "environment", "total_received", "answered", "unmatched",
                    "fetched_at"]
    list_filter = ["environment"]
    date_hierarchy = "day"
    list_select_related = ["environment"]


@admin.register(CallbackSourceDay)
class CallbackSourceDayAdmin(ReadOnlyTenantAdmin):
    list_display = ["day", "environment", "name", "source_agent_id", "count"]
    list_filter = ["environment"]
    date_hierarchy = "day"
    list_select_related = ["environment"]


@admin.register(CallbackLink)
class CallbackLinkAdmin(ReadOnlyTenantAdmin):
    """The callback funnel's links (sync.callback_links): read-only, as every mirrored row."""

    list_display = ["callback_started_at", "environment", "callback_external_id",
                    "source_external_id", "source_agent_external_id", "seconds_to_callback",
                    "callback_answered"]
    list_filter = ["environment", "callback_answered", "is_testing"]
    date_hierarchy = "callback_day"
    list_select_related = ["environment"]


def _labelled(choices: type, field: str, title) -> type[admin.SimpleListFilter]:
    """A list filter over a plain column holding `choices`' values, offered by their labels
    (the rollups store a status as text without choices: "no-answer" is no word to read)."""

    class Labelled(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            return choices.choices

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    Labelled.title = title
    return Labelled


def _label_of(choices: type, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "–"


@admin.register(CallRollup)
class CallRollupAdmin(ReadOnlyTenantAdmin):
    list_display = ["day", "environment", "agent_external_id", "direction_shown",
                    "status_shown", "is_testing", "count", "duration_sum", "duration_max"]
    list_filter = ["environment", _labelled(Direction, "direction", _lazy("direction")),
                   _labelled(CallStatus, "status", _lazy("status")), "is_testing"]

    @admin.display(description=_lazy("status"), ordering="status")
    def status_shown(self, obj: CallRollup) -> str:
        return _label_of(CallStatus, obj.status)

    @admin.display(description=_lazy("direction"), ordering="direction")
    def direction_shown(self, obj: CallRollup) -> str:
        return _label_of(Direction, obj.direction)
    date_hierarchy = "day"
    list_select_related = ["environment"]


@admin.register(QualityDayRollup)
class QualityDayRollupAdmin(ReadOnlyTenantAdmin):
    list_display = ["day", "environment", "agent_external_id", "calls", "latency_calls",
                    "billed_calls", "billed_seconds"]
    list_filter = ["environment"]
    date_hierarchy = "day"
    list_select_related = ["environment"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyTenantAdmin):
    list_display = ["started_at", "environment", "stream", "trigger", "status", "duration",
                    "pages", "requests", "created", "updated", "unchanged", "rejected",
                    "short_error", "warnings"]
    list_filter = ["status", "stream", "trigger", "environment"]
    date_hierarchy = "started_at"
    list_select_related = ["environment"]
    exclude = ["details"]
    readonly_fields = ["duration", "warnings", "details_pretty"]

    @admin.display(description=_lazy("warnings"))
    def warnings(self, obj: SyncRun) -> str:
        return "; ".join(obj.warnings)

    @admin.display(description=_lazy("duration"))
    def duration(self, obj: SyncRun) -> str:
        seconds = obj.duration_seconds
        return _("running") if seconds is None else format_duration(seconds)

    @admin.display(description=_lazy("error"))
    def short_error(self, obj: SyncRun) -> str:
        return obj.error if len(obj.error) <= 120 else obj.error[:119] + "…"

    @admin.display(description=_lazy("details"))
    def details_pretty(self, obj: SyncRun) -> str:
        return pretty_json(obj.details)


@admin.register(StreamState)
class StreamStateAdmin(ReadOnlyTenantAdmin):
    list_display = ["environment", "stream", "updated_at"]
    list_filter = ["stream", "environment"]
    list_select_related = ["environment"]


@admin.register(RejectedRecord)
class RejectedRecordAdmin(ReadOnlyTenantAdmin):
    """Upstream records the sync refused, whole, with why (see `sync.quarantine`)."""

    list_display = ["last_seen_at", "environment", "stream", "day", "upstream_id", "reason",
                    "first_seen_at"]
    list_filter = ["stream", "environment"]
    search_fields = ["=upstream_id"]
    date_hierarchy = "last_seen_at"
    list_select_related = ["environment"]
    exclude = ["payload", "fingerprint"]
    readonly_fields = ["payload_pretty"]

    @admin.display(description=_lazy("payload"))
    def payload_pretty(self, obj: RejectedRecord) -> str:
        # ASCII escapes kept: a NUL or control character shows as \u0000, never raw.
        try:
            text = json.dumps(json.loads(obj.payload), indent=2, ensure_ascii=True)
        except ValueError:
            text = obj.payload
        return format_html("<pre>{}</pre>", text)
