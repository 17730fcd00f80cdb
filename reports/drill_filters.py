"""The calls explorer's filters that report figures drill into: outcome, weekday, hour, agent.

They mean what the report figures mean (see `reports.drill`): an outcome is one of the
report's status groups, weekday and hour are the organisation's local ones, and an agent
may be "no agent" (`-`) or an agent that is not (or no longer) mirrored. Kept apart from the
Talkover-named filters of `reports.filters`, which the API shares.
"""
from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Organization
from reports.drill import KNOWN_STATUSES, NO_AGENT, OUTCOMES
from reports.views.params import DEFAULT_PRESET, PRESETS, preset_range
from reports.vocabulary import END, RANGE, START
from sync.models import Agent

OUTCOME_LABELS = {"answered": _("Answered (incl. completed)"), "no_answer": _("No answer"),
                  "busy": _("Busy"), "failed": _("Failed"), "other": _("Other (no final status)")}
WEEKDAY_LABELS = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"),
                  _("Saturday"), _("Sunday")]
# The explorer opens on the reports' default period (the last 30 local days).
PRESET_KEYS = tuple(key for key, label in PRESETS if key != "custom")


def agent_choices(organization: Organization, extra: str = "", *,
                  no_agent: bool = True) -> list[tuple[str, str]]:
    """Agents of the organisation as (external id, label); the label names the environment
    when the organisation has more than one, so two "Callback Desk"s can be told apart."""
    rows = list(Agent.objects.filter(environment__organization=organization).order_by(
        "name", "environment__name").values_list("external_id", "name", "environment__name"))
    several = len({env for _, _, env in rows}) > 1 or organization.environments.count() > 1
    choices = [(ext, f"{name or ext} ({env})" if several else (name or ext))
               for ext, name, env in rows]
    if no_agent:
        choices.append((NO_AGENT, str(_("(no agent)"))))
    known = {ext for ext, _ in choices}
    if extra and extra not in known and len(extra) <= 64:
        choices.append((extra, extra))  # calls of an agent that is not mirrored (any more)
    return choices


class DrillFilters(django_filters.FilterSet):
    """Mixed into the explorer's FilterSet; needs `self.timezone` (the organisation's)."""

    outcome = django_filters.ChoiceFilter(label=_("Outcome"), method="filter_outcome",
                                          choices=list(OUTCOME_LABELS.items()),
                                          empty_label=_("Any outcome"))
    weekday = django_filters.ChoiceFilter(
        label=_("Weekday"), method="filter_weekday", empty_label=_("Any weekday"),
        choices=[(str(i + 1), label) for i, label in enumerate(WEEKDAY_LABELS)])
    hour = django_filters.ChoiceFilter(
        label=_("Hour"), method="filter_hour", empty_label=_("Any hour"),
        choices=[(str(h), f"{h:02d}:00–{h:02d}:59") for h in range(24)])

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

    def agent_filter(self, organization: Organization, chosen: str) -> django_filters.Filter:
        agent = django_filters.ChoiceFilter(
            field_name="agent_external_id", label=_("Agent"), empty_label=_("All agents"),
            method="filter_agent", choices=agent_choices(organization, chosen))
        agent.parent = self  # added after FilterSet.__init__, which sets it for the others
        return agent

    def filter_agent(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(agent_external_id="" if value == NO_AGENT else value)

    def filter_outcome(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        if value == "other":
            return qs.exclude(status__in=KNOWN_STATUSES)
        return qs.filter(status__in=OUTCOMES[value])

    def filter_weekday(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.annotate(local_isodow=ExtractIsoWeekDay("started_at", tzinfo=self.timezone)
                           ).filter(local_isodow=int(value))

    def filter_hour(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.annotate(local_hour=ExtractHour("started_at", tzinfo=self.timezone)
                           ).filter(local_hour=int(value))

