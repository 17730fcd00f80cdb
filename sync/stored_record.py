"""A call's upstream record as stored (`Call.raw`) and as sent (`Call.record`): the one door.

Why: a Talkover record is about 500 bytes of JSON, and every value in it but the agent's
name and label is also in a column of the row (ids, numbers, status, duration, the two
instants): storing it whole made `raw` 60 % of a call row and a mirror 2.07 GB per million
calls. So a provider may name a *form* (its spec's `stored_form`): the columns
that hold a record's keys. A record is then stored as `[form, mask, rest]`: `mask` says which
of the form's keys the columns give back, `rest` is every other key as sent.

Exact by construction, never a guess: a key is left out only when its column, written back
(its own value; an instant as Talkover writes one, `_moment`), is the very JSON value that was
sent (same type, same text: `"2026-08-27T23:59:59Z"` comes back from the instant only if the
upstream wrote it so; a `"+00:00"`, a float duration, an id sent as a number stay in `rest`).
A key the record did not have is not in the mask, so it never appears. `record_of(stored,
row)` rebuilds the record from `rest` and the row's columns, read at the same time (a page,
the API, the privacy export, the admin); whoever rewrites a call's columns (the sync's merge,
erasure, retention) stores its record again from the new columns (`stored`), in the same
statement.

A record stored whole (a provider without a form, rows written before forms, a record no
key of which the columns give back) is a JSON object and is its own record: both kinds live
side by side. The record's digest (`payload_hash`) is always the whole record's.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from itertools import repeat
from operator import is_
from typing import Any

from sync.fast_json import json_text

# What a column holds: the JSON value itself (a text, an integer, a boolean column gives back
# its own value), or an instant written back by `_moment`.
TEXT, INT, BOOL, MOMENT = "text", "int", "bool", "moment"

# Each form: (record key, Call field attname, what the column holds), in an order that never
# changes (the mask's bits); a changed form gets a new name. A key may name one inside an
# object of the record ("agent.id": the `id` of its `agent`). Declared by the providers, each
# in its package's `stored_form.py` (`NAME`, `FIELDS`, and `EARLIER`: its earlier forms by
# name, which rows written before still hold), and read on first use.
FORMS: dict[str, tuple[tuple[str, str, str], ...]] = {}


def _same_instant(sent: Any, value: Any) -> bool:
    """Whether `_moment(value) == sent`, answered without writing the instant in the common
    case: a whole-second "YYYY-MM-DDTHH:MM:SSZ" names `value` exactly when it reads back as
    the same instant (parsing is a tenth of the cost of `isoformat`); any other spelling is
    written and compared."""
    if type(sent) is not str:
        return False
    if (len(sent) == 20 and sent[19] == "Z" and sent[10] == "T" and sent[4] == "-"
            and sent[7] == "-" and sent[13] == ":" and sent[16] == ":" and sent.isascii()):
        try:
            return type(value) is datetime and value == datetime.fromisoformat(sent)
        except (TypeError, ValueError):  # naive `value`, or not a date at all
            return False
    return _moment(value) == sent


def _moment(value: Any) -> str | None:
    """An instant as Talkover writes it: UTC, "Z", the fraction only when there is one."""
    if type(value) is not datetime or value.tzinfo is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    text = value.isoformat()  # "YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00"
    return (text[:26].rstrip("0") if value.microsecond else text[:19]) + "Z"


# Per form: (bit, key, attname, whether the column is an instant written back by `_moment`,
# the key of the object holding `key` or None for the record's own); any other column writes
# back its own value, which must be the sent JSON value exactly (a text column gives back
# strings, an integer column integers, a boolean column booleans).
Plan = tuple[tuple[int, str, str, bool, str | None], ...]
_PLAN: dict[str, Plan] = {}
_ABSENT, _MISSING = object(), object()  # a key the record lacks, a column the row lacks


class _Values:
    """A form's value columns at once: the sync's rows hold the very objects its parser took
    from the record (a text, an integer, a boolean is returned as it came), so one C-level
    pass of identity checks says that every one of them is given back; otherwise, or for a
    model instance, the columns are compared one by one, as are the instants and the keys
    inside an object (`others`)."""

    def __init__(self, plan: Plan) -> None:
        values = [(bit, key, attname) for bit, key, attname, instant, parent in plan
                  if not instant and parent is None]
        self.mask = sum(bit for bit, _key, _attname in values)
        self.keys = tuple(key for _bit, key, _attname in values)
        self.attnames = tuple(attname for _bit, _key, attname in values)
        self.others = tuple(entry for entry in plan if entry[3] or entry[4] is not None)

    def all_given(self, record: dict, row: Any) -> bool:
        return type(row) is dict and all(map(is_, map(record.get, self.keys, repeat(_ABSENT)),
                                             map(row.get, self.attnames, repeat(_MISSING))))


_VALUES: dict[str, _Values] = {}


def forms() -> dict[str, tuple[tuple[str, str, str], ...]]:
    """Every provider's form, by name (loaded from the provider packages on first use)."""
    if not FORMS:
        from sync.providers.discover import provider_modules

        for module in provider_modules("stored_form"):
            FORMS.update(getattr(module, "EARLIER", {}))
            FORMS[module.NAME] = module.FIELDS
        for name, fields in FORMS.items():
            _PLAN[name] = tuple(_entry(1 << bit, key, attname, kind)
                                for bit, (key, attname, kind) in enumerate(fields))
            _VALUES[name] = _Values(_PLAN[name])
    return FORMS


def _entry(bit: int, key: str, attname: str, kind: str) -> tuple[int, str, str, bool, str | None]:
    """A form's field as planned: "agent.id" is the key `id` of the object at `agent`."""
    parent, _, inner = key.rpartition(".")
    return bit, inner, attname, kind == MOMENT, parent or None


def _plan_of(form: Any) -> Plan | None:
    if not FORMS:
        forms()
    return _PLAN.get(form)


def _same_value(sent: Any, value: Any) -> bool:
    """A column's value is the sent JSON value: equal and of the same type (68 is not 68.0,
    1 is not true)."""
    return value == sent and type(value) is type(sent)


def _getter(row: Any) -> Callable[[str], Any]:
    """Read a column by attname from a row: a mapping (the sync's rows, `.values()`) or a
    model instance."""
    if isinstance(row, Mapping):
        return row.get
    return lambda attname: getattr(row, attname, None)


def stored(record: Any, row: Any, form: str | None) -> Any:
    """What `raw` holds for `record` written with `row`'s column values (a mapping of
    attnames, or a model instance): `[form, mask, rest]`, or the record itself when there is
    no form or no key the columns give back exactly."""
    plan = _plan_of(form or "")
    if plan is None or type(record) is not dict:
        return record
    column = _getter(row)
    values = _VALUES[form]  # type: ignore[index]
    if values.all_given(record, row):
        mask, given, plan = values.mask, list(values.keys), values.others
    else:
        mask, given = 0, []
    inner: list[tuple[str, str]] = []  # (object's key, key) given back inside an object
    for bit, key, attname, instant, parent in plan:
        holder = record if parent is None else record.get(parent)
        if type(holder) is not dict:
            continue
        sent = holder.get(key, _ABSENT)
        if sent is _ABSENT or sent is None:  # absent or null: kept as it is
            continue
        value = column(attname)
        if _same_instant(sent, value) if instant else (value is sent
                                                       or _same_value(sent, value)):
            mask |= bit
            if parent is None:
                given.append(key)
            else:
                inner.append((parent, key))
    if not mask:
        return record
    rest = dict(record)
    for key in given:
        del rest[key]
    for parent, key in inner:  # a copy of the object without the key: the record stays
        rest[parent] = {k: v for k, v in rest[parent].items() if k != key}
    return [form, mask, rest]


def stored_text(record: Any, row: Any, form: str | None) -> tuple[Any, str]:
    """`stored(...)` and a JSON text of it (what COPY writes; any spelling of the value
    does, the digest being the record's own)."""
    value = stored(record, row, form)
    return value, json_text(value)


def record_of(raw: Any, row: Any) -> Any:
    """The record as sent, from what `raw` holds and the row's columns (see `stored`)."""
    if type(raw) is not list or len(raw) != 3:
        return raw
    form, mask, rest = raw
    plan = _plan_of(form) if isinstance(form, str) else None
    if plan is None or type(mask) is not int or type(rest) is not dict:
        return raw
    column = _getter(row)
    record = {key: _moment(column(attname)) if instant else column(attname)
              for bit, key, attname, instant, parent in plan if mask & bit and parent is None}
    record.update(rest)
    for bit, key, attname, instant, parent in plan:
        if mask & bit and parent is not None:
            holder = record.get(parent)
            if type(holder) is not dict:  # not as `stored` writes it: kept as it is
                return raw
            value = _moment(column(attname)) if instant else column(attname)
            record[parent] = {key: value, **holder}
    return record


def all_attnames() -> tuple[str, ...]:
    """The Call fields every form reads: what a `.values()` must fetch beside `raw` to read
    records."""
    return tuple(dict.fromkeys(a for fields in forms().values() for _k, a, _t in fields))
