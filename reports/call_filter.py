"""The one call filter: which calls a set of criteria means, whichever face lists them.

Four faces list raw calls, and each used to write its own filter (and they disagreed):

- the calls explorer reads its page parameters with `CallFilter` (a FilterSet: validation,
  labels and choices only) and lists `filter_calls(filterset.criteria())`;
- the Talkover-compatible listing (`reports.talkover.listing`) checks Talkover's parameters
  its own way (its names, envelope and 422 words) and lists `filter_calls(...)`;
- the report queries' drill-down (`reports.queries.calls_in_range`, the one-day hours of
  `reports.queries.hourly`) and the alerts' hour windows (`reports.alerts.metrics`);
- the drill links of every report figure (`reports.drill`) are explorer URLs whose
  parameters the explorer reads here, with the meaning the rollups give them.

What the criteria mean (`CallCriteria`): days and hours are the organisation's local ones
(`local_day_bounds`); an outcome is one of the report's status groups (`OUTCOMES`: answered
= answered + completed); an agent id is the upstream's ("" = calls without an agent; the
explorer's `-` is that); test calls are left out unless `include_testing` (the compatible
listing includes them, as Talkover lists them); `search` is the one search rule of
`reports.call_search` (the call id by any part, or exactly on the compatible listing);
`judgement` is the vendor's normalised success judgement (`sync.analysis`) and `kpi` the calls
a KPI counts (`reports.kpi_groups`).
The callback funnel's steps (`callback`, `callback_of`) read the sync's stored links
(`sync.callback_links`: the rule); `utc` makes the days UTC days, as the funnel and the
vendor's callback stats count them.
"""
from __future__ import annotations

import copy
import functools
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.bounds import IdsFilter
from portal.form_renderer import KeptSelect
from portal.models import Environment, Organization
from reports.cache import cached_report
from reports.call_search import (
    CALL_ID_PARTS,
    MAX_SEARCH,
    CallId,
    index_cores,
    is_whole_id,
    search_calls,
)
from reports.days import (
    DEFAULT_PRESET,
    PRESETS,
    DayFilter,
    local_day_bounds,
    preset_range,
    range_problems,
)
from reports.kpi_groups import JUDGEMENT_LABELS, KPI_CALLS, KPI_LABELS, WITH_NUMBER
from reports.provider_fields import any_sends
from reports.transcript_search import filter_transcripts
from reports.vocabulary import AGENT, END, ENV, RANGE, START, common_names
from sync import outcomes
from sync.models import Agent, Call, CallbackLink
from sync.models.core import CallStatus, Direction
from sync.search_text import environment_q

# The report's status groups, as the explorer's `outcome` filter names them.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "answered": (CallStatus.ANSWERED, CallStatus.COMPLETED),
    "no_answer": (CallStatus.NO_ANSWER,),
    "busy": (CallStatus.BUSY,),
    "failed": (CallStatus.FAILED,),
    # Everything else (initiated, ringing, queued, values kept as sent): `other` in CallTotals.
    "other": (),
}
KNOWN_STATUSES = tuple(s for group in OUTCOMES.values() for s in group)
# The callback funnel's steps, as the explorer's `callback` filter names them.
CALLBACK_LABELS = {
    "unanswered_outbound": _("Outbound, not answered"),
    "called_back": _("Not answered, then called back"),
    "called_back_answered": _("Not answered, then reached by a callback"),
    "received": _("Callback"),
    "matched": _("Callback of an outbound call"),
    "unmatched": _("Unmatched callback"),
}
# The explorer's `agent` value of the calls that have no agent (an empty agent id).
NO_AGENT = "-"
# The outcome report's resolution groups (`reports.queries.outcomes`, the rule in
# `sync.outcomes`), as the explorer's `resolution` filter names them: answered phone calls
# with a number to match (`answered`), those older than the organisation's window
# (`settled`: `resolved` or `repeat`) and those younger (`pending`); the answered calls with
# no number to match (`no_number`: web calls) are neither.
RESOLUTION_LABELS = {"answered": _("Answered, with a number to match"),
                     "no_number": _("Answered, with no number to match"),
                     "settled": _("Settled (older than the window)"),
                     "resolved": pgettext_lazy("calls", "Resolved"),
                     "repeat": _("Repeat contact"),
                     "pending": _("Pending (younger than the window)")}
OUTCOME_LABELS = {"answered": _("Answered (incl. completed)"), "no_answer": _("No answer"),
                  "busy": _("Busy"), "failed": _("Failed"), "other": _("Other (no final status)")}
WEEKDAY_LABELS = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"),
                  _("Saturday"), _("Sunday")]
WEEKDAY_CHOICES = [(str(i + 1), label) for i, label in enumerate(WEEKDAY_LABELS)]
HOUR_CHOICES = [(str(h), f"{h:02d}:00–{h:02d}:59") for h in range(24)]
# The explorer opens on the reports' default period (the last 30 local days).
PRESET_KEYS = tuple(key for key, label in PRESETS if key != "custom")


@dataclass(frozen=True)
class CallCriteria:
    """Which calls: of these environments (ids of one organisation, from its tenant door),
    on these local days / in this instant window, narrowed by the rest (None = any)."""

    environment_ids: Sequence[int]
    timezone: zoneinfo.ZoneInfo = zoneinfo.ZoneInfo("UTC")  # of the days, weekday and hour
    start: date | None = None
    end: date | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None
    agent_ids: Sequence[str] | None = None
    direction: Sequence[str] | None = None
    status: Sequence[str] | None = None
    outcome: str | None = None
    weekday: int | None = None  # ISO, Monday = 1
    hour: int | None = None
    include_testing: bool = False
    search: str | None = None
    call_id: CallId = CALL_ID_PARTS
    transcript: str | None = None
    callback: str | None = None  # a CALLBACK_LABELS key
    callback_of: str | None = None  # the callbacks linked to this outbound call (its id)
    resolution: str | None = None  # a RESOLUTION_LABELS key
    window_days: int = 7  # the organisation's resolution window (for `resolution`)
    judgement: str | None = None  # a JUDGEMENT_LABELS key
    kpi: str | None = None  # a KPI_LABELS key
    now: datetime | None = None  # the instant the window is measured to (None: this hour)


def _linked(criteria: CallCriteria, qs: QuerySet) -> QuerySet:
    """The callback funnel's narrowing: calls by their stored links. The environment ids
    came through the tenant door (`CallCriteria`), so the links are read by them."""
    links = CallbackLink.objects.across_organizations().filter(
        environment_id=OuterRef("environment_id"))
    as_callback = links.filter(callback_external_id=OuterRef("external_id"))
    step = criteria.callback
    if step in ("unanswered_outbound", "called_back", "called_back_answered"):
        qs = qs.filter(direction=Direction.OUTBOUND).exclude(status__in=OUTCOMES["answered"])
    if step in ("called_back", "called_back_answered"):
        back = links.filter(source_external_id=OuterRef("external_id"), is_testing=False)
        if step == "called_back_answered":
            back = back.filter(callback_answered=True)
        qs = qs.filter(Exists(back))
    elif step == "received":
        qs = qs.filter(Exists(as_callback))
    elif step == "matched":
        qs = qs.filter(Exists(as_callback.exclude(source_external_id="")))
    elif step == "unmatched":
        qs = qs.filter(Exists(as_callback.filter(source_external_id="")))
    if criteria.callback_of:
        qs = qs.filter(Exists(as_callback.filter(source_external_id=criteria.callback_of)))
    return qs


def _resolution(criteria: CallCriteria, qs: QuerySet) -> QuerySet:
    """The outcome report's groups, with its meaning (`reports.queries.outcomes`): answered
    calls of a direction whose other party's number has digits (its `PHONE`), settled when
    older than the window, a repeat when their kept next contact falls within it."""
    window = timedelta(days=criteria.window_days)
    step = criteria.resolution
    if step == "no_number":
        return qs.filter(status__in=OUTCOMES["answered"]).exclude(WITH_NUMBER)
    qs = qs.filter(WITH_NUMBER, status__in=OUTCOMES["answered"])
    if step == "answered":
        return qs
    settled_before = (criteria.now or outcomes.as_of()) - window
    if step == "pending":
        return qs.filter(started_at__gt=settled_before)
    qs = qs.filter(started_at__lte=settled_before)
    repeat = Q(next_contact_at__lt=F("started_at") + window)
    if step == "repeat":
        return qs.filter(repeat)
    if step == "resolved":
        return qs.exclude(repeat & Q(next_contact_at__isnull=False))
    return qs


def filter_calls(criteria: CallCriteria, calls: QuerySet | None = None) -> QuerySet[Call]:
    """The calls `criteria` mean (unordered: each face has its own order).

    The plain conditions are one `filter()` call: each call clones the query and all it holds
    (a search page's four were ~0.1 ms of its CPU); the SQL is the same, in the same order."""
    ids = list(criteria.environment_ids)
    qs = calls if calls is not None else Call.objects.all()
    # Environment ids, not a join on the organisation: the (environment, …) indexes then
    # serve both the filters and the newest-first order; the search's GIN index reads only
    # these environments' postings, unless the needle's cores narrow alone (`environment_q`).
    conditions = [environment_q(ids, index_cores(criteria.search))]
    tz = criteria.timezone
    if criteria.start is not None:
        conditions.append(Q(started_at__gte=local_day_bounds(criteria.start, tz)[0]))
    if criteria.end is not None:
        conditions.append(Q(started_at__lt=local_day_bounds(criteria.end, tz)[1]))
    if criteria.started_from is not None:
        conditions.append(Q(started_at__gte=criteria.started_from))
    if criteria.started_before is not None:
        conditions.append(Q(started_at__lt=criteria.started_before))
    for field, values in (("agent_external_id", criteria.agent_ids),
                          ("direction", criteria.direction), ("status", criteria.status)):
        if values:
            conditions.append(Q(**{field: values[0]}) if len(values) == 1
                              else Q(**{f"{field}__in": list(values)}))
    if criteria.outcome == "other":
        conditions.append(~Q(status__in=KNOWN_STATUSES))
    elif criteria.outcome:
        conditions.append(Q(status__in=OUTCOMES[criteria.outcome]))
    for name, part, value in (("local_isodow", ExtractIsoWeekDay, criteria.weekday),
                              ("local_hour", ExtractHour, criteria.hour)):
        if value is not None:  # the local weekday or hour, annotated after what came before
            qs = qs.filter(*conditions).annotate(**{name: part("started_at", tzinfo=tz)})
            conditions = [Q(**{name: value})]
    if not criteria.include_testing:
        conditions.append(Q(is_testing=False))
    if criteria.judgement:
        conditions.append(Q(judgement="" if criteria.judgement == "not_evaluated"
                            else criteria.judgement))
    if criteria.kpi:
        conditions.append(KPI_CALLS[criteria.kpi])
    qs = qs.filter(*conditions)
    if criteria.transcript:
        qs = filter_transcripts(qs, criteria.transcript)
    if criteria.callback or criteria.callback_of:
        qs = _linked(criteria, qs)
    if criteria.resolution:
        qs = _resolution(criteria, qs)
    return search_calls(qs, criteria.search, criteria.call_id)


def agent_choices(organization: Organization, extra: str = "", *, no_agent: bool = True,
                  environments: Sequence[Environment] | None = None) -> list[tuple[str, str]]:
    """Agents of the organisation as (external id, label); the label names the environment
    when the organisation has more than one, so two "Callback Desk"s can be told apart.
    `environments`: the organisation's, when the caller has already read them: no query
    counts them, and the agents' rows are kept in the report cache under their data versions
    (a sync that changes an agent bumps it) and names, so a page asks for them once per
    sync rather than on every request (a query compiled and run on every explorer page)."""
    if environments is None:
        rows = _agent_rows(organization)
        named = len({env for _, _, env in rows})
        count = named if named > 1 else organization.environments.count()
    else:
        rows = cached_report("agent-choices", environments, {
            "organization": organization.pk, "names": sorted(e.name for e in environments)},
            lambda: _agent_rows(organization))
        count = len(environments)
    several = max(len({env for _, _, env in rows}), count) > 1
    choices = [(ext, f"{name or ext} ({env})" if several else (name or ext))
               for ext, name, env in rows]
    if no_agent:
        choices.append((NO_AGENT, str(_("(no agent)"))))
    known = {ext for ext, _ in choices}
    if extra and extra not in known and len(extra) <= 64:
        choices.append((extra, extra))  # calls of an agent that is not mirrored (any more)
    return choices


def _agent_rows(organization: Organization) -> list[tuple[str, str, str]]:
    """(external id, name, environment's name) of the organisation's agents, by name."""
    return list(Agent.objects.for_organization(organization).order_by(
        "name", "environment__name").values_list("external_id", "name", "environment__name"))


class ExplorerForm(forms.Form):
    """The explorer's period: the report pages' range rules and words (`reports.days`),
    without a maximum length (a listing)."""

    def clean(self) -> dict:
        data = super().clean()
        problems = range_problems(data.get(START), data.get(END), start_field=START,
                                  end_field=END, max_days=None)
        for field, (_code, message) in problems.items():
            if field not in self.errors:
                self.add_error(field, message)
        return data


class KeptChoiceFilter(django_filters.ChoiceFilter):
    """A choice filter drawn as a `KeptSelect` (its HTML kept per process for its inputs)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", KeptSelect)
        super().__init__(*args, **kwargs)


class FreshFilters(dict):
    """A FilterSet class's filters, copied for each instance one level deep.

    django-filter deep-copies every filter per instance (choices, lazy labels and widget
    classes included: ~1 ms of every explorer page), though a filter's own state is only its
    attributes and `extra` (a model filter writes its queryset there when it builds its
    field). A copy of each with its own `extra` and no built field is as independent.

    A filter in `shared` keeps one built field for every instance: its field is a function
    of the class's declaration alone (labels stay lazy: each page translates them), and
    neither checking a value nor drawing the field changes it. Building the explorer's
    fields anew was ~0.5 ms of every search."""

    def __init__(self, filters: dict, shared: frozenset[str] = frozenset()) -> None:
        super().__init__(filters)
        self.shared = shared

    def __deepcopy__(self, memo) -> dict:
        fresh = {}
        for name, base in self.items():
            instance = copy.copy(base)
            instance.extra = dict(base.extra)
            if name in self.shared:
                instance._field = base.field  # built on the class's filter, once
            else:
                instance.__dict__.pop("_field", None)
            fresh[name] = instance
        return fresh


class CallFilter(django_filters.FilterSet):
    """The calls explorer's parameters (`reports.vocabulary`'s names; Talkover's old names
    are aliases), checked and labelled; `qs` is `filter_calls` of `criteria()`.

    `range` is the report pages' period preset, `env` narrows to some of the organisation's
    environments and `testing` brings back test calls, which are hidden by default.
    """

    range = KeptChoiceFilter(label=_("Period"), choices=PRESETS, empty_label=None)
    start = DayFilter(label=_("From"))
    end = DayFilter(label=_("To"))
    env = IdsFilter(field_name="environment", label=_("Environments"),
                    queryset=Environment.objects.none())
    direction = KeptChoiceFilter(label=_("Direction"), choices=Direction.choices,
                                 empty_label=_("Any direction"))
    status = KeptChoiceFilter(label=_("Status"), choices=CallStatus.choices,
                              empty_label=_("Any status"))
    outcome = KeptChoiceFilter(label=_("Outcome"), choices=list(OUTCOME_LABELS.items()),
                               empty_label=_("Any outcome"))
    weekday = KeptChoiceFilter(label=_("Weekday"), empty_label=_("Any weekday"),
                               choices=WEEKDAY_CHOICES)
    hour = KeptChoiceFilter(label=_("Hour"), empty_label=_("Any hour"),
                            choices=HOUR_CHOICES)
    search = django_filters.CharFilter(label=_("Number, SID or summary"), max_length=MAX_SEARCH)
    # Origins AI transcripts (full-text on PostgreSQL): see reports/transcript_search.py.
    transcript = django_filters.CharFilter(label=_("Transcript contains"), max_length=200)
    testing = django_filters.BooleanFilter(label=_("Include test calls"),
                                           widget=forms.CheckboxInput)
    callback = KeptChoiceFilter(label=_("Callbacks"), empty_label=_("Any call"),
                                choices=list(CALLBACK_LABELS.items()))
    callback_of = django_filters.CharFilter(label=_("Callback of"), max_length=255)
    resolution = KeptChoiceFilter(label=_("Resolution"), empty_label=_("Any resolution"),
                                  choices=list(RESOLUTION_LABELS.items()))
    utc = django_filters.BooleanFilter(label=_("Days in UTC"), widget=forms.CheckboxInput)
    judgement = KeptChoiceFilter(label=_("Success"), empty_label=_("Any judgement"),
                                 choices=list(JUDGEMENT_LABELS.items()))
    kpi = KeptChoiceFilter(label=_("KPI"), empty_label=_("Any call"),
                           choices=list(KPI_LABELS.items()))
    ORDER = (RANGE, START, END, ENV, AGENT, "direction", "status", "outcome", "resolution",
             "judgement", "kpi", "weekday", "hour", "search", "transcript", "callback",
             "callback_of", "utc", "testing")

    class Meta:
        model = Call
        fields: list[str] = []
        form = ExplorerForm

    @property
    def form(self) -> ExplorerForm:
        """The form of this instance's filters' fields as they are: each filter built its
        field for this instance, so the form takes them without django-filter's new form
        class per instance and Django's deep copy of every field (choices included)."""
        if not hasattr(self, "_form"):
            self._form = self._meta.form(self.data if self.is_bound else None,
                                         prefix=self.form_prefix)
            self._form.fields = {name: f.field for name, f in self.filters.items()}
        return self._form

    def __init__(self, data, *, organization: Organization,
                 environments: list[Environment] | None = None) -> None:
        data = self.with_default_period(common_names(data), organization)
        data.setdefault("testing", "")
        data.setdefault("utc", "")
        # Whole rows: the explorer's page names its calls' environments from them (no
        # prefetch query of its own); `environments`: the organisation's, already read
        # (`sync.health.org_environments`, which the page's frame shows).
        if environments is None:
            environments = list(Environment.objects.for_organization(organization))
        self.environments = {env.pk: env for env in environments}
        self.environment_ids = list(self.environments)
        self.timezone = organization.tzinfo
        self.window_days = organization.resolution_window_days
        super().__init__(data, Call.objects.all())
        self.filters[ENV].queryset = Environment.objects.for_organization(organization)
        # Read when first iterated (Django keeps callable choices lazy): by the frame that
        # draws the select, or to check an agent asked for. A search sent in a kept frame
        # (`reports.pages.page_cache.PagePart`) asks for neither and reads none.
        self.filters[AGENT] = KeptChoiceFilter(
            field_name="agent_external_id", label=_("Agent"), empty_label=_("All agents"),
            choices=functools.cache(functools.partial(
                agent_choices, organization, data.get(AGENT, ""), environments=environments)))
        self.filters[AGENT].parent = self  # added after FilterSet.__init__ set the others'
        providers = {env.provider for env in self.environments.values()}
        # Offered only where a provider sends transcripts; a transcript in the query is
        # still applied (and matches nothing) rather than silently dropped.
        order = [name for name in self.ORDER if name != "transcript"
                 or data.get("transcript") or any_sends(providers, "transcript")]
        self.filters = {name: self.filters[name] for name in order}

    @staticmethod
    def with_default_period(data, organization: Organization):
        """`data` (common names) with its period resolved as on the report pages: a preset
        sets the days (in the organisation's timezone); explicit days are a custom period
        (an explicitly emptied date field means "all time"); nothing at all is the default
        preset."""
        preset = data.get(RANGE) or ""
        if preset not in PRESET_KEYS:
            if preset or any(key in data for key in (START, END)):
                data.setdefault(RANGE, "custom")
                return data
            preset = DEFAULT_PRESET
        today = timezone.localdate(timezone=organization.tzinfo)
        first, last = preset_range(preset, today)
        data[RANGE], data[START], data[END] = preset, first.isoformat(), last.isoformat()
        return data

    def criteria(self) -> CallCriteria:
        """The validated parameters as the one filter's criteria (after `is_valid()`); built
        once per instance (the explorer asks for them for its rows and for its export's
        name)."""
        if getattr(self, "_criteria", None) is None:
            self._criteria = self._built_criteria()
        return self._criteria

    def _built_criteria(self) -> CallCriteria:
        data = self.form.cleaned_data
        # No environment picked is the field's `queryset.none()`: asked as such, since
        # testing its truth compiles it (~0.7 ms of every explorer page); a pick is the
        # queryset the field's check already read.
        chosen = data.get(ENV)
        if chosen is not None and chosen.query.is_empty():
            chosen = None
        agent = data.get(AGENT)
        # A whole SID or UUID names one call: it is found whatever the period.
        every_date = is_whole_id(data.get("search"))
        return CallCriteria(
            environment_ids=[e.pk for e in chosen] if chosen else self.environment_ids,
            timezone=UTC if data.get("utc") else self.timezone,
            start=None if every_date else data.get(START),
            end=None if every_date else data.get(END),
            agent_ids=["" if agent == NO_AGENT else agent] if agent else None,
            direction=[data["direction"]] if data.get("direction") else None,
            status=[data["status"]] if data.get("status") else None,
            outcome=data.get("outcome") or None,
            weekday=int(data["weekday"]) if data.get("weekday") else None,
            hour=int(data["hour"]) if data.get("hour") else None,
            include_testing=bool(data.get("testing")), search=data.get("search") or None,
            transcript=data.get("transcript") or None,
            callback=data.get("callback") or None,
            callback_of=data.get("callback_of") or None,
            resolution=data.get("resolution") or None, window_days=self.window_days,
            judgement=data.get("judgement") or None, kpi=data.get("kpi") or None)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """Every parameter at once, through the one filter (no per-filter methods)."""
        return filter_calls(self.criteria(), queryset)


# Every declared filter's field is shared but the environments' (its queryset is the
# organisation's, set per instance).
CallFilter.base_filters = FreshFilters(
    CallFilter.base_filters, shared=frozenset(CallFilter.base_filters) - {ENV})
