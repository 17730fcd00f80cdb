"""A queryset compiled once per process: for the few lookups every request makes, where Django
compiling the same query anew each time was most of their cost.

Why: on the machines we measure, the ORM spends 2–4 ms of CPU compiling a query with a join and an
`EXISTS` column (the API token's lookup, a page's membership, the frame's environments), more
than the rest of a cached request. `CompiledQuery` keeps the query an ORM queryset — one
definition, its SQL written by Django from the models — but compiles it once per database
alias, with marked values in place of the lookup's arguments; each run sends that SQL with the
arguments put where the marks were, and turns the rows into the objects Django's own
`ModelIterable` would give (its converters, `select_related` objects, annotations). The same
SQL text on every run also lets the connection prepare it (`DB_PREPARED_STATEMENTS`).

A query is compiled outside any tenant context (`portal.tenancy.context.outside`): its scope is
what its queryset declares, so a caller uses it only where that scope is the one the context
would give (each caller says where).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections
from django.db.models import Lookup, Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler

from portal.tenancy import context as tenant_context

# Marks for a lookup's arguments while its query compiles: values no caller passes. The int
# marks count up from the least 32-bit integer: Django finds a value outside an integer
# column's range matches nothing and compiles no SQL (`auth_user.id` is 32-bit).
_INT_MARK = -(2**31)
_STR_MARK = "\x00compiled-query-argument-"


def _mark(kind: type, i: int) -> Any:
    if kind is int:
        return _INT_MARK + i
    if kind is list:  # of ints, compared as `AnyOf`
        return [_INT_MARK + i]
    if kind is str:
        return f"{_STR_MARK}{i}\x00"
    if kind is datetime:
        return datetime(1, 1, 2 + i, tzinfo=UTC)
    raise TypeError(f"no mark for arguments of type {kind.__name__}")


def _slot(value: Any, marks: list[Any]) -> tuple[int, type | None] | None:
    """(the argument whose mark `value` is, the type the query wrapped it in — psycopg's
    `Int4` for an id compared as such, say — or None), or None for any other value."""
    for i, mark in enumerate(marks):
        if isinstance(value, type(mark)) and value == mark:
            return i, None if type(value) is type(mark) else type(value)
    return None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[int, int, type | None], ...]  # (position, argument, wrapper)
    compiler: SQLCompiler
    init_list: tuple[str, ...]
    model_slice: slice
    populators: tuple
    annotations: tuple[tuple[str, int], ...]
    # The selected columns' converters (Django's `results_iter` looks them up for every run:
    # a tenth of a compiled lookup's CPU).
    converters: dict

    def converted(self, rows: list) -> list:
        """`rows` as the ORM's `results_iter` gives them, converters applied."""
        if not self.converters:
            return rows
        return list(self.compiler.apply_converters(rows, self.converters))


class AnyOf(Lookup):
    """`lhs = ANY(rhs)`, `rhs` a list of ints sent as one array: a condition on a list of
    ids whose SQL text is the same for every list (Django's `__in` writes one placeholder per
    id), so that a `CompiledQuery` can take the list as an argument. Used as an expression:
    `filter(AnyOf(F("pk"), ids))` (not registered on any field)."""

    prepare_rhs = False

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


class CompiledQuery:
    """`build(*arguments)`'s queryset, compiled once per database alias; `objects(alias, *values)`
    (a model query) or `rows(alias, *values)` (a `values_list` one) runs it with `values` as
    the arguments. `kinds` are the arguments' types (int, str, datetime, or list: a list of
    ints compared by `AnyOf`)."""

    def __init__(self, build: Callable[..., QuerySet], *kinds: type) -> None:
        self.build, self.kinds = build, kinds
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        marks = [_mark(kind, i) for i, kind in enumerate(self.kinds)]
        with tenant_context.outside():
            compiler = self.build(*marks).query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
        found = ((j, _slot(p, marks)) for j, p in enumerate(params))
        slots = tuple((j, *slot) for j, slot in found if slot is not None)
        if sorted({i for _, i, _ in slots}) != list(range(len(marks))):
            raise ValueError("an argument of the lookup does not reach its SQL")
        klass_info, select = compiler.klass_info, compiler.select
        columns = [column for column, _sql, _alias in select[: compiler.col_count]]
        if compiler.has_composite_fields(columns):
            raise ValueError("a composite field's columns are not compiled")
        converters = compiler.get_converters(columns)
        if not compiler.query.default_cols:  # a `values_list` query: rows only
            return _Compiled(sql, tuple(params), slots, compiler, (), slice(0), (), (),
                             converters)
        fields = klass_info["select_fields"]
        model_slice = slice(fields[0], fields[-1] + 1)
        return _Compiled(
            sql=sql, params=tuple(params), slots=slots, compiler=compiler,
            init_list=tuple(f[0].target.attname for f in select[model_slice]),
            model_slice=model_slice,
            populators=tuple(get_related_populators(klass_info, select, alias)),
            annotations=tuple(compiler.annotation_col_map.items()), converters=converters)

    def _run(self, alias: str, values: tuple, limit: int | None, offset: int
             ) -> tuple[_Compiled, list]:
        compiled = self._compiled.get(alias)
        if compiled is None:
            compiled = self._compiled[alias] = self._compile(alias)
        params = list(compiled.params)
        for position, argument, wrapper in compiled.slots:
            value = values[argument]
            params[position] = value if wrapper is None else wrapper(value)
        sql = compiled.sql
        if limit is not None:
            # As parameters: one text for every page, which the connection can prepare.
            sql, params = f"{sql} LIMIT %s OFFSET %s", [*params, limit, offset]
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            return compiled, cursor.fetchall()

    def objects(self, alias: str, *values: Any, limit: int | None = None, offset: int = 0
                ) -> list[Model]:
        """The query's objects for these argument values, as the queryset would give them;
        `limit` and `offset` page them."""
        compiled, rows = self._run(alias, values, limit, offset)
        model = compiled.compiler.klass_info["model"]
        found = []
        for row in compiled.converted(rows):
            obj = model.from_db(alias, compiled.init_list, row[compiled.model_slice])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found

    def rows(self, alias: str, *values: Any, limit: int | None = None, offset: int = 0
             ) -> list:
        """A `values_list` query's rows for these argument values, converted as the ORM
        converts them; `limit` and `offset` page them (the queryset itself is not sliced)."""
        compiled, rows = self._run(alias, values, limit, offset)
        return compiled.converted(rows)
