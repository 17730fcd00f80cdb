"""One declaration per report, read by every face: the registry.

A report is declared once, as a `Report` (PostHog's `QueryRunner` is the model): its kind,
its parameters (the API's query serializer), `compute(scope)` returning a typed result, its
cache policy (`cache_params`, `time_dependent`), its tables (columns and rows: what
`?format=csv&table=` writes) and its named metrics (`Metric`: unit, definition, how to read
the figure from a result's totals, which calls it counts). Every face goes through it:

- the reports API: one action per declaration (`reports.api.reports`), its JSON schema the
  result's dataclass;
- CSV: `report.rows(result, table, names)` on the API and the pages alike;
- the pages and the dashboard's cards: `run(kind, scope)` and the metrics' labels, units and
  doors;
- the emailed summaries' figures and the alerts' metrics: `metric(name).read(totals)` over the
  same totals type the report computes.

So a figure has one definition and one value everywhere. Adding a metric is one `Metric` in
its report's declaration (plus its words in the catalogue); adding a report is one module in
`reports/declarations/` listed in `DECLARATIONS`, plus its page template.
"""
from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from django.utils import timezone
from django.utils.functional import Promise

from portal.replicas import reads_reports
from reports.cache import cached_rendering, cached_report
from sync import outcomes

if TYPE_CHECKING:
    from rest_framework import serializers

    from reports.scope import ReportScope

R = TypeVar("R")

# The report declarations, by module: each defines `REPORT`, a `Report` instance.
DECLARATIONS = (
    "reports.declarations.calls",
    "reports.declarations.callbacks",
    "reports.declarations.callback_funnel",
    "reports.declarations.outcomes",
    "reports.declarations.quality",
    "reports.declarations.kpis",
)


class Unit(enum.StrEnum):
    """How a metric's value is written: a count, a 0–1 share (shown as a percentage),
    seconds (shown as a duration), minutes, or money in the result's currency."""

    COUNT = "count"
    RATE = "rate"
    SECONDS = "seconds"
    MILLISECONDS = "milliseconds"
    MINUTES = "minutes"
    MONEY = "money"


@dataclasses.dataclass(frozen=True)
class Metric:
    """One named figure of a report.

    `read(totals)` takes the report's totals type (`Report.totals(result)`, or the same type
    computed over an alert's window) and returns the exact value, unrounded (None: nothing
    to compute it from). `drill`: the explorer's narrowing of the calls the figure counts
    (`reports.drill`), None when no list of calls is its count. `sample(totals)`: the count
    a share is judged on (an alert's `min_calls`)."""

    name: str
    label: str | Promise
    unit: Unit
    definition: str | Promise
    read: Callable[[Any], Any]
    sample: Callable[[Any], int | None] | None = None
    drill: Mapping[str, Any] | None = None
    higher_is_better: bool = True
    # The key of the result's `deltas` holding this figure's change (None: no comparison).
    delta: str | None = None

    def value(self, totals: Any) -> Any:
        """The figure over `totals`; None for a gap (no totals)."""
        return None if totals is None else self.read(totals)


@dataclasses.dataclass(frozen=True)
class Table:
    """One CSV table of a report: `rows(result, names)` yields the header, then the rows
    (`names`: environment id → name)."""

    name: str
    rows: Callable[[Any, Mapping[int, str]], Iterator[Sequence]]


def tables_of(writer: Callable[..., Iterator[Sequence]], *names: str,
              named: bool = False) -> tuple[Table, ...]:
    """Tables one CSV writer of `reports.exports` writes: `writer(result, table)`, or
    `writer(result, table, names)` when its rows name environments (`named`)."""
    def table(name: str) -> Table:
        if named:
            return Table(name, lambda result, envs: writer(result, name, envs))
        return Table(name, lambda result, _envs: writer(result, name))
    return tuple(table(name) for name in names)


class Report(Generic[R]):
    """A report's declaration. Subclasses set the class attributes and `compute`."""

    kind: ClassVar[str]
    # The API's path under /api/v1/reports/ and its query parameters.
    path: ClassVar[str]
    parameters: ClassVar[type[serializers.Serializer]]
    result: ClassVar[type]
    title: ClassVar[str | Promise]
    description: ClassVar[str]
    tables: ClassVar[tuple[Table, ...]]
    metrics: ClassVar[tuple[Metric, ...]] = ()
    # A result that depends on the time of reading (settled / pending): computed as of the
    # hour, which is part of its cache key, so every face asking within the hour agrees (the
    # kept pages, `reports.pages.page_cache`, are kept for the same UTC hour).
    time_dependent: ClassVar[bool] = False

    def compute(self, scope: ReportScope, now: datetime) -> R:
        raise NotImplementedError

    def totals(self, result: R) -> Any:
        """What the metrics read: the result's totals."""
        return result.totals  # type: ignore[attr-defined]

    def cache_params(self, scope: ReportScope) -> dict[str, Any]:
        """What a cached result depends on beyond the environments' data versions."""
        return scope.cache_params()

    def check(self, scope: ReportScope) -> None:
        """Refuse a scope the report cannot answer (`ScopeError`); default: any."""

    def as_of(self, now: datetime | None = None) -> datetime:
        """The moment a result is computed as of: `now`, to the hour for a report whose
        figures move with the time of reading."""
        return outcomes.as_of(now) if self.time_dependent else now or timezone.now()

    def key_params(self, scope: ReportScope, moment: datetime) -> dict[str, Any]:
        """The cache key's params of the result as of `moment` (`reports.cache`)."""
        params = self.cache_params(scope)
        return {**params, "as_of": moment.isoformat()} if self.time_dependent else params

    def run(self, scope: ReportScope, now: datetime | None = None) -> R:
        """The report of `scope`, cached until one of its environments syncs new data."""
        self.check(scope)
        moment = self.as_of(now)
        # A report only reads: its computing is report work, which the database router
        # sends to a healthy replica when there is one (`portal.replicas`).
        return cached_report(self.kind, scope.environments, self.key_params(scope, moment),
                             reads_reports()(lambda: self.compute(scope, moment)))

    def rendered(self, scope: ReportScope, variant: str, render: Callable[[datetime], bytes],
                 read: Callable[[str], object | None] | None = None,
                 now: datetime | None = None) -> bytes:
        """A rendering of the result (e.g. the API's JSON bytes: `render(as_of)`), cached
        under the result's own key plus `variant`, so a cached request sends the bytes as
        they are."""
        moment = self.as_of(now)
        return cached_rendering(self.kind, scope.environments, self.key_params(scope, moment),
                                variant, lambda: render(moment), read)

    @property
    def default_table(self) -> str:
        return self.tables[0].name

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)

    def rows(self, result: R, table: str, names: Mapping[int, str]) -> Iterator[Sequence]:
        """The header and rows of one of the report's tables."""
        return next(t for t in self.tables if t.name == table).rows(result, names)

    def metric_values(self, result: R) -> dict[str, Any]:
        """Every metric's exact value over the result's totals."""
        totals = self.totals(result)
        return {m.name: m.value(totals) for m in self.metrics}


@cache
def reports() -> dict[str, Report]:
    """Every declared report, by kind, in `DECLARATIONS`' order."""
    found: dict[str, Report] = {}
    for path in DECLARATIONS:
        report = import_module(path).REPORT
        if report.kind in found:
            raise ValueError(f"two reports declare the kind {report.kind!r}")
        found[report.kind] = report
    return found


def report(kind: str) -> Report:
    """The declaration of `kind` (KeyError for an unknown kind)."""
    return reports()[kind]


def run(kind: str, scope: ReportScope, now: datetime | None = None) -> Any:
    """The `kind` report of `scope` (cached): what every face reads."""
    return report(kind).run(scope, now)


@cache
def metrics() -> dict[str, tuple[Report, Metric]]:
    """Every declared metric by its name (names are unique across reports)."""
    found: dict[str, tuple[Report, Metric]] = {}
    for declared in reports().values():
        for m in declared.metrics:
            if m.name in found:
                raise ValueError(f"two reports declare the metric {m.name!r}")
            found[m.name] = (declared, m)
    return found


def metric(name: str) -> Metric:
    """The metric named `name` (KeyError when none is declared)."""
    return metrics()[name][1]


def metric_value(name: str, scope: ReportScope, now: datetime | None = None) -> Any:
    """The exact value of metric `name` over `scope`: its report's totals, read."""
    declared, m = metrics()[name]
    return m.value(declared.totals(declared.run(scope, now)))
