"""Models from a statement written once per process: for the one or two lookups every request
makes, where Django compiling the same query anew each time was most of their cost.

Why: on the machines we measure, the ORM spends 2–4 ms of CPU compiling a query with a join and an
`EXISTS` column (the API token's lookup, a page's membership), more than the rest of a cached
request. A statement built once from the models' `_meta` (so a renamed table or column follows) and
its rows turned into model instances by Django's own converters gives the same objects for a tenth
of that. Each user of it has a test holding its objects equal to the ORM's, field by field.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Field, Model


@dataclass(frozen=True)
class ModelColumns:
    """One model's concrete columns in a row, from `start`: builds the instance."""

    model: type[Model]
    start: int
    names: tuple[str, ...]
    converters: tuple[tuple[int, tuple, Any], ...]  # (position, converters, column)
    selected: tuple[str, ...]  # "<table alias>.<quoted column>", in `names` order

    @property
    def end(self) -> int:
        return self.start + len(self.names)

    def build(self, row: tuple | list, alias: str) -> Model:
        values = list(row[self.start:self.end])
        connection = connections[alias]
        for i, converters, column in self.converters:
            for convert in converters:
                values[i] = convert(values[i], column, connection)
        return self.model.from_db(alias, self.names, values)


def model_columns(model: type[Model], table_alias: str, start: int, alias: str) -> ModelColumns:
    """`model`'s columns as selected from `table_alias`, beginning at `start` in the row."""
    connection = connections[alias]
    fields: list[Field] = list(model._meta.concrete_fields)
    converters = []
    for i, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        found = (*connection.ops.get_db_converters(column),
                 *column.get_db_converters(connection))
        if found:
            converters.append((i, found, column))
    quote = connection.ops.quote_name
    return ModelColumns(model, start, tuple(f.attname for f in fields), tuple(converters),
                        tuple(f"{table_alias}.{quote(f.column)}" for f in fields))


def column(model: type[Model], field: str, alias: str) -> str:
    """The quoted column of `model.field` (`pk` for the primary key)."""
    meta = model._meta
    found = meta.pk if field == "pk" else meta.get_field(field)
    return connections[alias].ops.quote_name(found.column)


def table(model: type[Model], alias: str) -> str:
    return connections[alias].ops.quote_name(model._meta.db_table)


def first_row(sql: str, params: list, alias: str) -> tuple | None:
    """The statement's first row (these lookups find one row at most), or None."""
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def joined(row: tuple, alias: str, main: ModelColumns, related: ModelColumns, relation: str,
           flag: str) -> Model:
    """`main`'s instance with `related`'s set as its `relation` (a foreign key's object, as
    `select_related` sets it) and the row's last column, a boolean, as attribute `flag`."""
    obj = main.build(row, alias)
    setattr(obj, relation, related.build(row, alias))
    setattr(obj, flag, bool(row[-1]))
    return obj
