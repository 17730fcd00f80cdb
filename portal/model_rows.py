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
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler

from portal.tenancy import context as tenant_context

# Marks for a lookup's arguments while its query compiles: values no caller passes.
_INT_MARK = -(2**62)
_STR_MARK = "\x00compiled-query-argument-"


def _mark(kind: type, i: int) -> Any:
    if kind is int:
        return _INT_MARK - i
    if kind is str:
        return f"{_STR_MARK}{i}\x00"
    raise TypeError(f"no mark for arguments of type {kind.__name__}")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[int, int], ...]  # (position in params, argument index)
    compiler: SQLCompiler
    init_list: tuple[str, ...]
    model_slice: slice
    populators: tuple
    annotations: tuple[tuple[str, int], ...]


class CompiledQuery:
    """`build(*arguments)`'s queryset, compiled once per database alias; `objects(alias, *values)`
    runs it with `values` as the arguments. `kinds` are the arguments' types (int or str)."""

    def __init__(self, build: Callable[..., QuerySet], *kinds: type) -> None:
        self.build, self.kinds = build, kinds
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        marks = [_mark(kind, i) for i, kind in enumerate(self.kinds)]
        with tenant_context.outside():
            compiler = self.build(*marks).query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
        slots = tuple((j, marks.index(p)) for j, p in enumerate(params)
                      if any(type(p) is type(m) and p == m for m in marks))
        if sorted({i for _, i in slots}) != list(range(len(marks))):
            raise ValueError("an argument of the lookup does not reach its SQL")
        klass_info, select = compiler.klass_info, compiler.select
        fields = klass_info["select_fields"]
        model_slice = slice(fields[0], fields[-1] + 1)
        return _Compiled(
            sql=sql, params=tuple(params), slots=slots, compiler=compiler,
            init_list=tuple(f[0].target.attname for f in select[model_slice]),
            model_slice=model_slice,
            populators=tuple(get_related_populators(klass_info, select, alias)),
            annotations=tuple(compiler.annotation_col_map.items()))

    def objects(self, alias: str, *values: Any) -> list[Model]:
        """The query's objects for these argument values, as the queryset would give them."""
        compiled = self._compiled.get(alias)
        if compiled is None:
            compiled = self._compiled[alias] = self._compile(alias)
        params = list(compiled.params)
        for position, argument in compiled.slots:
            params[position] = values[argument]
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        model = compiled.compiler.klass_info["model"]
        found = []
        for row in compiled.compiler.results_iter([rows]):
            obj = model.from_db(alias, compiled.init_list, row[compiled.model_slice])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found
