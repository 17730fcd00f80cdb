"""The Talkover-compatible calls listing: Talkover's validation, exact totals, cheap deep pages.

Why not `queryset.count()` and `OFFSET`: at a million calls an exact count of a filtered
environment reads every matching row (0.6 s), and `OFFSET 99,900` walks 99,900 rows first, so
a client paging a whole history pays a quadratic price. Instead, without `search`:

- the total comes from the daily rollups (`AgentDayRollup`, one row per agent, local day and
  direction, with a count per status), which the sync keeps exact in the same transaction as
  the calls; `date_from` / `date_to` are local days, the rollups' own unit;
- the same per-day counts say which local days hold the requested page, so the page query
  reads only those days through an index that matches the filters and the order (newest
  `created_at` first, ties by upstream id descending, as Talkover orders them).

If a page read that way is not what the rollups promised (a rollup out of step with its
calls), the listing answers from the calls alone (exact count, plain offset) rather than
serve a wrong page. With `search` the matches come from the trigram indexes (PostgreSQL) with
only their order columns, are counted and top-N sorted there, and only the page's calls are
read whole (`_search_page`): a broad search may match 10,000 calls of a million.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import CharField, Func, QuerySet, Sum
from django.db.models.expressions import RawSQL

from portal.model_rows import CompiledQuery
from portal.models import Environment
from portal.tenancy import context as tenant_context
from portal.tenancy import registry as tenancy
from reports.cache import cached_report
from reports.call_filter import CallCriteria, filter_calls
from reports.call_search import CALL_ID_EXACT, MAX_SEARCH
from reports.days import local_day_bounds
from reports.talkover.compat import (
    TalkoverValidationError,
    day_param,
    page_params,
    range_errors,
)
from sync.models import Agent, AgentDayRollup, Call
from sync.models.core import STATUS_COLUMNS
from sync.providers.talkover.envelope import pagination

log = logging.getLogger(__name__)

DIRECTIONS = ("inbound", "outbound")
# A cache read by key (`portal.throttling.DeferredHit.read`).
Read = Callable[[str], object | None]
# Larger than any environment: only there to make the search subquery a planning fence.
MAX_MATCHES = 10**12
ORDER = ("-started_at", "-external_id")


@dataclass(frozen=True)
class CallQuery:
    """A validated listing request."""

    page: int
    per_page: int
    agent_id: str | None = None
    status: str | None = None
    direction: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    search: str | None = None


def _value(params: Mapping[str, str], name: str) -> str | None:
    """Laravel's reading: the last value wins, an empty (or blank) value means absent."""
    raw = params.get(name)
    if raw is None:
        return None
    raw = raw.strip()
    return raw or None


def _choice(params: Mapping[str, str], name: str, options: tuple[str, ...],
            errors: dict[str, list[str]]) -> str | None:
    raw = _value(params, name)
    if raw is not None and raw not in options:
        errors[name] = [f"The selected {name.replace('_', ' ')} is invalid."]
        return None
    return raw


def agent_known(env: Environment, agent_id: str) -> bool:
    return (Agent.objects.filter(environment=env, external_id=agent_id).exists()
            or Call.objects.filter(environment=env, agent_external_id=agent_id).exists())


def parse_call_query(params: Mapping[str, str], env: Environment, *,
                     agent_id: str | None = None) -> CallQuery:
    """The listing's parameters checked as Talkover checks them (422 with its wording).

    `agent_id` is the agent of `/agents/{agent_id}/calls` (already known to exist); on
    `/calls` it may come from the query, and an agent the environment never had is invalid.
    """
    errors: dict[str, list[str]] = {}
    statuses = env.spec.statuses  # the provider's status words (`portal.providers`)
    status = _choice(params, "status", statuses, errors)
    direction = _choice(params, "direction", DIRECTIONS, errors)
    first = day_param(params, "date_from", errors)
    last = day_param(params, "date_to", errors)
    if "date_from" not in errors and "date_to" not in errors:
        # The scope's range rules under Talkover's names; a listing has no maximum length.
        errors.update(range_errors(first, last, start_field="date_from", end_field="date_to",
                                   max_days=None))
    search = _value(params, "search")
    if search is not None and len(search) > MAX_SEARCH:
        errors["search"] = [f"The search must not be greater than {MAX_SEARCH} characters."]
    page, per_page = page_params(params, errors)
    if agent_id is None:
        agent_id = _value(params, "agent_id")
        if agent_id is not None and not agent_known(env, agent_id):
            errors["agent_id"] = ["The selected agent id is invalid."]
    if errors:
        raise TalkoverValidationError(errors)
    return CallQuery(page=page, per_page=per_page, agent_id=agent_id, status=status,
                     direction=direction, date_from=first, date_to=last, search=search)


def _scoped(model, env_id: int) -> QuerySet:
    """`model`'s rows of environment `env_id`, which was read in the caller's scope: inside a
    tenant context they are scoped by its id (the registry's door), so the context adds no
    subquery of the organisations' environments (a compilation, and in PostgreSQL a plan of
    its own)."""
    ctx = tenant_context.current()
    rows = model.objects.filter(environment_id=env_id)
    if ctx is None or ctx.every_organization:
        return rows
    return tenancy.scope(rows, ctx.organizations, environment_ids=[env_id])


def _calls(env: Environment, query: CallQuery) -> QuerySet:
    """The listing's calls before paging (see `_filtered`)."""
    return _filtered(env.pk, env.organization.tzinfo, query)


def _filtered(env_id: int, tz: tzinfo, query: CallQuery) -> QuerySet:
    """The one call filter (`reports.call_filter`) with Talkover's meaning: test calls
    included, the call id matched exactly by `search`."""
    return filter_calls(CallCriteria(
        environment_ids=[env_id], timezone=tz, start=query.date_from, end=query.date_to,
        agent_ids=[query.agent_id] if query.agent_id is not None else None,
        direction=[query.direction] if query.direction else None,
        status=[query.status] if query.status else None,
        include_testing=True, search=query.search, call_id=CALL_ID_EXACT),
        _scoped(Call, env_id))


def _day_counts(env: Environment, query: CallQuery, read: Read | None
                ) -> list[tuple[date, int]]:
    """(local day, matching calls) newest day first, from the rollups (testing calls too).

    Cached under the environment's data version, like a report: every page of one listing
    reads the same counts, and a sync that changes the mirror makes them unreachable."""
    params = {"agent": query.agent_id, "status": query.status, "direction": query.direction,
              "from": query.date_from, "to": query.date_to}
    return cached_report("talkover-days", [env], params, lambda: _day_counts_now(env, query),
                         read)


def _day_counts_now(env: Environment, query: CallQuery) -> list[tuple[date, int]]:
    rows = _scoped(AgentDayRollup, env.pk)
    if query.agent_id is not None:
        rows = rows.filter(agent_external_id=query.agent_id)
    if query.direction:
        rows = rows.filter(direction=query.direction)
    if query.date_from:
        rows = rows.filter(day__gte=query.date_from)
    if query.date_to:
        rows = rows.filter(day__lte=query.date_to)
    column = STATUS_COLUMNS[query.status] if query.status else "calls"
    per_day = rows.values("day").annotate(n=Sum(column)).order_by("-day").values_list("day", "n")
    return [(day, n) for day, n in per_day if n]


def _window(days: list[tuple[date, int]], offset: int, limit: int
            ) -> tuple[date, date, int] | None:
    """(oldest day, newest day, offset within them) of the rows [offset, offset + limit)."""
    before, newest, skip = 0, None, 0
    for day, n in days:
        if newest is None and before + n > offset:
            newest, skip = day, offset - before
        before += n
        if newest is not None and before >= offset + limit:
            return day, newest, skip
    return (days[-1][0], newest, skip) if newest is not None else None


class TalkoverInstant(Func):
    """An instant as Talkover writes it ("2024-01-01T00:00:00Z"), formatted by the database:
    turning 200 timestamps a page into datetimes and back was a fifth of a page's time.

    Fractional seconds the upstream sent are kept ("…00.123456Z", "…00.5Z"): the mirror
    stores them, and a compatible client must read back what the upstream said.
    """

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template=(
            "(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
            "CASE WHEN date_trunc('second', %(expressions)s) = %(expressions)s "
            "THEN '' ELSE rtrim(to_char(%(expressions)s AT TIME ZONE 'UTC', '.US'), '0') END "
            "|| 'Z')"), **extra)


_FIELDS = ("external_id", "sid", "to_number", "to_formatted", "from_number", "from_formatted",
           "is_testing", "direction", "status", "duration", "talkover_created",
           "talkover_updated")
_AGENT_FIELDS = ("agent__external_id", "agent__name", "agent__label")


def _rows(qs: QuerySet, with_agent: bool, extra: tuple[str, ...] = ()) -> QuerySet:
    """The tuples `_items` reads, in `_FIELDS` order (then the agent's, then `extra`)."""
    fields = _FIELDS + (_AGENT_FIELDS if with_agent else ()) + extra
    return qs.annotate(talkover_created=TalkoverInstant("started_at"),
                       talkover_updated=TalkoverInstant("upstream_updated_at")
                       ).values_list(*fields)


def _items(qs: QuerySet, with_agent: bool, extra: tuple[str, ...] = ()) -> list[dict]:
    """Rows as Talkover's call objects (see `TalkoverCallSerializer`), built from tuples:
    a serializer per field per call was most of a page's time. `extra` values are added
    under their own names."""
    return _as_items(_rows(qs, with_agent, extra), with_agent, extra)


def _fetch(rows: QuerySet, with_sql: str = "", with_params: tuple = ()) -> list[tuple]:
    """A values_list queryset's tuples when its SQL must follow a `WITH …` clause it refers
    to (the ORM cannot say that), with the fields' converters applied as the ORM's own
    iteration does."""
    compiler = rows.query.get_compiler(using=rows.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    with connections[rows.db].cursor() as cursor:
        cursor.execute(f"{with_sql} {sql}" if with_sql else sql, (*with_params, *params))
        return list(compiler.results_iter(results=[cursor.fetchall()]))


def _as_items(rows, with_agent: bool, extra: tuple[str, ...] = ()) -> list[dict]:
    """`_rows` tuples (from the ORM or a cursor) as Talkover's call objects."""
    first_extra = len(_FIELDS) + (len(_AGENT_FIELDS) if with_agent else 0)
    out = []
    for row in rows:
        item = {
            "id": row[0], "sid": row[1], "to": row[2], "to_formatted": row[3], "from": row[4],
            "from_formatted": row[5], "is_testing": row[6], "direction": row[7],
            "status": row[8], "duration": row[9], "created_at": row[10],
            "updated_at": row[11],
        }
        if with_agent:
            item["agent"] = ({"id": row[12], "name": row[13], "label": row[14]}
                             if row[12] is not None else None)
        for i, name in enumerate(extra, start=first_extra):
            item[name] = row[i]
        out.append(item)
    return out


# The rollup-guided page's statement per shape: (agent object, the filters it names).
_PAGES: dict[tuple[bool, tuple[str, ...]], CompiledQuery] = {}


def _page_filters(query: CallQuery) -> dict[str, str]:
    """The filters the page's statement takes as arguments (agent, direction, status), by
    name, where the query gives them as `_filtered` reads them: their names are the
    statement's shape, their values its arguments — one reading for both."""
    given = {"agent_id": query.agent_id, "direction": query.direction or None,
             "status": query.status or None}
    return {name: value for name, value in given.items() if value is not None}


def _page_statement(with_agent: bool, names: tuple[str, ...]) -> CompiledQuery:
    """The page's `_rows` query, compiled once per process and shape (`CompiledQuery`): the
    ORM's (`_filtered`, `_rows`: one definition), with the environment, the span of starts
    and the filters `names` (`_page_filters`) as its arguments. Building and compiling it was
    about half of a page's CPU outside the database. `date_from` / `date_to` are the span's
    business: the days it covers came from the day counts of that range."""
    shape = (with_agent, names)
    found = _PAGES.get(shape)
    if found is None:
        def build(env_id: int, first: datetime, last: datetime, *values: str) -> QuerySet:
            marked = CallQuery(page=1, per_page=1, **dict(zip(names, values, strict=True)))
            page = _filtered(env_id, UTC, marked).filter(
                started_at__gte=first, started_at__lt=last).order_by(*ORDER)
            return _rows(page, with_agent)

        found = _PAGES[shape] = CompiledQuery(build, int, datetime, datetime,
                                              *(str for _ in names))
    return found


def _page_rows(env: Environment, query: CallQuery, with_agent: bool,
               started: tuple[datetime, datetime], skip: int, limit: int) -> list:
    """The page's `_rows` tuples, newest first: through the compiled statement where the
    environment's id is the whole scope, as `_scoped` makes it (`env` was read in the
    caller's scope) — unless the context restricts a member to teams, whose conditions the
    context adds to the ORM's query."""
    ctx = tenant_context.current()
    if ctx is None or ctx.teams is None:
        named = _page_filters(query)
        return _page_statement(with_agent, tuple(named)).rows(
            Call.objects.db, env.pk, *started, *named.values(), limit=limit, offset=skip)
    page = _calls(env, query).filter(started_at__gte=started[0], started_at__lt=started[1])
    return list(_rows(page.order_by(*ORDER)[skip:skip + limit], with_agent))


def _search_page(calls: QuerySet, offset: int, limit: int, with_agent: bool
                 ) -> tuple[list[dict], int] | None:
    """The page [offset, offset + limit) of a search's matches and their number, in one query;
    None when the page holds no match (the number is then unknown).

    The matches are read through the search indexes in a subquery that returns only what the
    order needs (the LIMIT keeps it apart: planned as one query, PostgreSQL may instead walk
    the whole environment in `created_at` order and test every call, its guess of a search's
    matches being poor). They are counted (COUNT(*) OVER ()) and top-N sorted there, and only
    the page's calls are read whole: re-reading every match by primary key to sort and count
    it was most of a broad search's time (10,000 matches: 95 ms of 100).
    """
    qn = connections[calls.db].ops.quote_name
    columns = [name.lstrip("-") for name in ORDER]
    matches = calls.order_by().values_list("id", *columns)[:MAX_MATCHES]  # "AS id"
    matches_sql, matches_params = matches.query.get_compiler(using=calls.db).as_sql()
    order = ", ".join(f"m.{qn(c)} {'DESC' if n.startswith('-') else 'ASC'}"
                      for c, n in zip(columns, ORDER, strict=True))
    page_sql = (f"SELECT m.{qn('id')} AS id, m.{qn('started_at')} AS started_at, "
                f"COUNT(*) OVER () AS total FROM ({matches_sql}) m "
                f"ORDER BY {order} LIMIT %s OFFSET %s")
    # The page's span of starts too: on PostgreSQL only its months' partitions are read.
    rows = _rows(Call.objects.filter(
        pk__in=RawSQL("SELECT id FROM search_page", ()),
        started_at__gte=RawSQL("SELECT min(started_at) FROM search_page", ()),
        started_at__lte=RawSQL("SELECT max(started_at) FROM search_page", ()))
                 .annotate(total=RawSQL("(SELECT total FROM search_page LIMIT 1)", ())),
                 with_agent, extra=("total",)).order_by(*ORDER)
    found = _fetch(rows, f"WITH search_page AS ({page_sql})", (*matches_params, limit, offset))
    if not found:
        return None
    total = found[0][-1]
    return _as_items(found, with_agent), total



def list_calls(env: Environment, query: CallQuery, *, with_agent: bool,
               read: Read | None = None) -> tuple[list[dict], dict]:
    """One page of the listing and its pagination block, newest first. `read` reads the
    cached day counts (the API's throttle counts the request in that round trip)."""
    offset, limit = (query.page - 1) * query.per_page, query.per_page
    if query.search is None:
        days = _day_counts(env, query, read)
        total = sum(n for _, n in days)
        window = _window(days, offset, limit)
        if window is None:
            return [], pagination(query.page, limit, total, 0)
        oldest, newest, skip = window
        tz = env.organization.tzinfo
        started = (local_day_bounds(oldest, tz)[0], local_day_bounds(newest, tz)[1])
        items = _as_items(_page_rows(env, query, with_agent, started, skip, limit), with_agent)
        if len(items) == min(limit, total - offset):
            return items, pagination(query.page, limit, total, len(items))
        log.warning("rollups of environment %s disagree with its calls; listing from calls",
                    env.pk)
    calls = _calls(env, query)
    if query.search is not None:
        found = _search_page(calls, offset, limit, with_agent)
        if found is not None:
            items, total = found
            return items, pagination(query.page, limit, total, len(items))
    total = calls.count()
    items = _items(calls.order_by(*ORDER)[offset:offset + limit], with_agent) \
        if offset < total else []
    return items, pagination(query.page, limit, total, len(items))
