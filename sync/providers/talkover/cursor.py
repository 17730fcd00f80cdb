"""The Talkover calls stream's run state (its cursor): one typed object, owned by this module.

It is kept as JSON in `StreamState.cursor` and saved in the transaction of the rows it covers.
The batch writer (`sync.write.batch_writer`) copies it with each batch and carries keys from
one batch into the next, so it stays a dict underneath; the streams (`streams`, `hot_days`,
`hinted`, `incremental`) read and change it only through the operations below.

What it holds:
- `oldest` — the first UTC day of the back-fill; `synced_through` — the last day read whole in
  order (a lookback reconciliation may set it back);
- `read_through` — coverage's high-water mark: calls that started before it, from `oldest`
  on, are all mirrored (`sync.coverage` reads it); it never moves back;
- `in_progress` / `page` — where a killed run stopped inside a day;
- `hot_dirty` — UTC days a hot refresh changed, whose rollups are owed;
- `unfound` — open calls a search found nowhere, not looked for again;
- `disagree` — the ledger's disagreeing days (the newest; coverage reads them too);
- `day_shift` — minutes the upstream's days (its date filters') run ahead of UTC days
  (negative: behind), learned from its counts (`hot_days.learn_shift`); absent: 0;
- `rollups_due` — local days a killed run left waiting for their rollups: the calls' writer
  (`sync.write.call_writer`) keeps that key itself.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sync.models.ledger import CallDayLedger

# Disagreeing days kept in the cursor (the newest; the ledger has them all).
MAX_DISAGREE_SHOWN = 60
# Which mark a whole day's read moves: forward through the days in order, or the back-fill's
# first day back.
Advance = Literal["synced_through", "oldest"]


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class CallsCursor(dict[str, Any]):
    """The calls stream's cursor with named operations (see the module docstring)."""

    @classmethod
    def restarted(cls, first: date, previous: CallsCursor) -> CallsCursor:
        """A first read (or `full`) from `first`: the plan restarts, what was read stays
        read (`read_through`: sync/coverage.py)."""
        kept = {"read_through": previous["read_through"]} if previous.get("read_through") \
            else {}
        return cls({"oldest": first.isoformat(), **kept})

    # --- where the read stands ---------------------------------------------------------
    @property
    def oldest(self) -> date | None:
        return _day(self.get("oldest"))

    @property
    def synced_through(self) -> date | None:
        return _day(self.get("synced_through"))

    @property
    def stopped_day(self) -> date | None:
        """The day a killed run stopped in (read whole again), None when none did."""
        return _day(self.get("in_progress"))

    def resume_page(self, day: date) -> int:
        """The page a read of `day` starts at: past the last one a stopped run wrote there
        (its pages are in the mirror), else 1. Every budget window then moves a day on,
        however many pages it has."""
        if self.stopped_day == day and isinstance(self.get("page"), int):
            return self["page"] + 1
        return 1

    def stop_at(self, day: date, page: int) -> None:
        """A page of `day` is written and the day is not finished yet."""
        self["in_progress"], self["page"] = day.isoformat(), page

    def day_read(self, day: date, advance: Advance, began: datetime) -> None:
        """`day` was read whole: its mark moves (never back: reconciling a lookback day
        leaves later days read, extending the back-fill leaves newer days) and, in order,
        the read-through mark with it."""
        self.pop("in_progress", None)
        self.pop("page", None)
        known = self.get(advance)
        pick = max if advance == "synced_through" else min
        self[advance] = day.isoformat() if not known else pick(known, day.isoformat())
        if advance == "synced_through":
            self.read_through_to(day, began)

    def read_through_to(self, day: date, began: datetime) -> None:
        """`day` (UTC) is read in a run that `began`: the read-through mark moves to the end of
        the day, or to when the run began if that is earlier; it never moves back."""
        mark = min(datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC), began)
        known = self.get("read_through")
        if not (known and datetime.fromisoformat(known) > mark):
            self["read_through"] = mark.isoformat()

    def hot_days_read(self, last: date, began: datetime) -> None:
        """A hot refresh finished: no hot day is in progress and the days through `last` read.
        A back-fill day older than `oldest` that a run stopped in stays where it stopped:
        the back-fill reads newest first, after the hot days, and resumes it there."""
        stopped, oldest = self.stopped_day, self.oldest
        if stopped is None or oldest is None or stopped >= oldest:
            self.pop("in_progress", None)
            self.pop("page", None)
        self.read_through_to(last, began)

    @property
    def day_shift(self) -> timedelta:
        """How far the upstream's days run ahead of UTC's (see the module docstring)."""
        return timedelta(minutes=self.get("day_shift", 0))

    def learned_shift(self, shift: timedelta) -> None:
        minutes = int(shift.total_seconds() // 60)
        if minutes:
            self["day_shift"] = minutes
        else:
            self.pop("day_shift", None)

    # --- what is owed ------------------------------------------------------------------
    @property
    def dirty_days(self) -> set[str]:
        """UTC days (ISO) whose rollups a hot refresh owes."""
        return set(self.get("hot_dirty", []))

    def owe_rollups(self, dirty: set[str]) -> None:
        self["hot_dirty"] = sorted(dirty)

    def rollups_paid(self) -> None:
        self.pop("hot_dirty", None)

    @property
    def unfound(self) -> list[str]:
        return list(self.get("unfound", []))

    def keep_unfound(self, ids: list[str]) -> None:
        if ids:
            self["unfound"] = ids
        else:
            self.pop("unfound", None)

    # --- what the ledger said ----------------------------------------------------------
    def note_ledger(self, row: CallDayLedger) -> None:
        """Keep the ledger's disagreeing days here too, which coverage reads anyway
        (`sync.coverage.call_window`): no query of its own for every report."""
        days = set(self.get("disagree", []))
        days.discard(row.day.isoformat())
        if not row.agrees:
            days.add(row.day.isoformat())
        if days:
            self["disagree"] = sorted(days)[-MAX_DISAGREE_SHOWN:]
        else:
            self.pop("disagree", None)
