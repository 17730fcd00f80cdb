"""Query engine over lazily generated Talkover days: counts, pages, inserts, callback stats.

Days are generated on demand and kept in an LRU; what survives eviction is small (per-day
counts and stats of days whose calls have all reached their final state), so paging through
a million calls never holds a million call objects. Not thread-safe: the Simulator's lock
serialises access.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import Counter, OrderedDict
from datetime import UTC, date, datetime, time
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sync.simulator.catalog import DAY, day_start, ordinal_of, seeded

from .data import (
    ANSWERED,
    MAX_CALL_SPAN,
    NOT_CALLBACK,
    UNMATCHED,
    CallRec,
    Digest,
    Profile,
    state,
)


class Filter(NamedTuple):
    """Call filters of the listing endpoints; ``agent`` is an agent index, not its uuid."""

    agent: int | None = None
    status: str | None = None
    direction: str | None = None
    search: str | None = None


NO_FILTER = Filter()


class Day:
    """The calls of one UTC day, newest first, including calls added by the insert fault."""

    __slots__ = ("generated", "recs", "neg", "settle", "version")

    def __init__(self, generated: list[CallRec]) -> None:
        self.generated = generated
        self.version = -1
        self.recs: list[CallRec] = []
        self.neg: list[int] = []
        self.settle = 0

    def merge(self, inserted: list[CallRec], version: int) -> None:
        recs = self.generated + inserted if inserted else self.generated
        if inserted:
            recs.sort(key=CallRec.sort_key, reverse=True)
        self.recs = recs
        self.neg = [-r.t0 for r in recs]
        self.settle = max((r.t_end for r in recs), default=0)
        self.version = version

    def visible_from(self, now: int) -> int:
        """Index of the first call that exists at ``now`` (calls are newest first)."""
        return bisect_left(self.neg, -now)


class TalkoverStore:
    """All calls of one Talkover environment, from ``first`` (an ordinal) on.

    Calls are kept per UTC day; the date filters and callback-stats days are the days of
    ``zone`` (UTC when None): a local day overlaps two UTC days, whose calls are clipped to
    it. Talkover does not say which zone its days are in, so the sync must not assume UTC.
    """

    def __init__(self, env: str, profile: Profile, first: int, match_days: int,
                 cache_days: int, seed: int, zone: ZoneInfo | None = None) -> None:
        self.env, self.profile, self.first = env, profile, first
        self.zone = zone
        self.match_days, self.cache_days = match_days, cache_days
        self._base: OrderedDict[int, tuple[list[CallRec], Digest]] = OrderedDict()
        self._days: OrderedDict[int, Day] = OrderedDict()
        # Survive eviction: ordinal -> (calls generated, their latest transition).
        self._meta: dict[int, tuple[int, int]] = {}
        self._sizes: dict[int, int] = {}
        self._inserted: dict[int, list[CallRec]] = {}
        self._versions: dict[int, int] = {}
        self._counts: dict[tuple[int, int, Filter], int] = {}
        self._matches: OrderedDict[tuple[int, int, Filter], list[CallRec]] = OrderedDict()
        self._stats: dict[tuple[int, int], tuple] = {}
        self._insert_rng = seeded(seed, env, "insert")

    # --- generation and caching ----------------------------------------------------------

    def base(self, ordinal: int) -> tuple[list[CallRec], Digest]:
        """A day's non-callback calls (shared: do not mutate) and their dialling digest."""
        if ordinal < self.first:
            return [], Digest()
        entry = self._base.get(ordinal)
        if entry is None:
            calls = self.profile.base_day(ordinal)
            entry = self._base[ordinal] = (calls, self.profile.digest(calls))
            if len(self._base) > self.cache_days:
                self._base.popitem(last=False)
        else:
            self._base.move_to_end(ordinal)
        return entry

    def day(self, ordinal: int) -> Day:
        day = self._days.get(ordinal)
        if day is None:
            today, digest = self.base(ordinal)
            window = [self.base(ordinal - k)[1] for k in range(self.match_days, 0, -1)]
            generated = today + self.profile.callback_day(ordinal, digest, window)
            generated.sort(key=CallRec.sort_key, reverse=True)
            day = Day(generated)
            self._meta[ordinal] = (len(generated), max((r.t_end for r in generated), default=0))
            self._days[ordinal] = day
            if len(self._days) > self.cache_days:
                self._days.popitem(last=False)
        else:
            self._days.move_to_end(ordinal)
        version = self._versions.get(ordinal, 0)
        if day.version != version:
            day.merge(self._inserted.get(ordinal, []), version)
        return day

    def _settled(self, ordinal: int, now: int) -> bool:
        """True once every call of the day has its final state (results can be cached)."""
        if ordinal not in self._meta:
            self.day(ordinal)
        settle = self._meta[ordinal][1]
        for rec in self._inserted.get(ordinal, ()):
            settle = max(settle, rec.t_end)
        return now >= settle

    def span(self, lo: int | None, hi: int | None, now: int) -> range:
        """Ordinals of existing days within [lo, hi], newest first."""
        lo = self.first if lo is None else max(lo, self.first)
        hi = ordinal_of(now) if hi is None else min(hi, ordinal_of(now))
        return range(hi, lo - 1, -1)

    def local_start(self, ordinal: int) -> int:
        """Epoch seconds at which the date-filter day ``ordinal`` begins."""
        if self.zone is None:
            return day_start(ordinal)
        local = datetime.combine(date.fromordinal(ordinal), time.min, self.zone)
        return int(local.astimezone(UTC).timestamp())

    def parts(self, lo: int | None, hi: int | None, now: int
              ) -> list[tuple[int, int | None, int | None]]:
        """The UTC days holding the date-filter days [lo, hi], newest first, each with the
        [start, end) epoch seconds to clip it to (None, None when whole)."""
        a = None if lo is None else self.local_start(lo)
        b = None if hi is None else self.local_start(hi + 1)
        out = []
        for ordinal in self.span(None if a is None else ordinal_of(a),
                                 None if b is None else ordinal_of(b - 1), now):
            start, end = day_start(ordinal), day_start(ordinal + 1)
            clip_a = a if a is not None and a > start else None
            clip_b = b if b is not None and b < end else None
            out.append((ordinal, clip_a, clip_b))
        return out

    # --- filtering -----------------------------------------------------------------------

    def matching(self, ordinal: int, filt: Filter, now: int) -> list[CallRec]:
        day = self.day(ordinal)
        start = day.visible_from(now)
        if filt == NO_FILTER:
            return day.recs[start:]
        settled = now >= day.settle
        # A day with calls still open (late statuses keep one so for days) is filtered at
        # the clock: kept while the clock stands still, as a run's count and page ask twice.
        key = (ordinal, day.version, filt) if settled else (ordinal, day.version, filt, now)
        hit = self._matches.get(key)
        if hit is not None:
            self._matches.move_to_end(key)
            return hit
        agent, status, direction, search = filt
        needle = search.lower() if search else None
        out = []
        for i in range(start, len(day.recs)):
            r = day.recs[i]
            if agent is not None and r.agent != agent:
                continue
            if direction is not None and r.direction != direction:
                continue
            if needle is not None and not (
                needle in r.to or needle in r.frm or needle in r.sid.lower()
            ):
                continue
            if status is not None and (r.final if settled else state(r, now)[0]) != status:
                continue
            out.append(r)
        self._matches[key] = out
        if len(self._matches) > 64:
            self._matches.popitem(last=False)
        return out

    def count(self, ordinal: int, filt: Filter, now: int) -> int:
        if filt == NO_FILTER and ordinal not in self._meta and not self.profile.dipped(
                ordinal) and (
            now >= day_start(ordinal + 1) + MAX_CALL_SPAN
            and all(r.t_end <= now for r in self._inserted.get(ordinal, ()))
        ):
            # A long-past day: its size is known without generating it (cheap first pages).
            size = self._sizes.get(ordinal)
            if size is None:
                size = self._sizes[ordinal] = self.profile.day_size(ordinal)
            return size + len(self._inserted.get(ordinal, ()))
        if not self._settled(ordinal, now):
            return len(self.matching(ordinal, filt, now))
        version = self._versions.get(ordinal, 0)
        if filt == NO_FILTER:
            return self._meta[ordinal][0] + len(self._inserted.get(ordinal, ()))
        key = (ordinal, version, filt)
        n = self._counts.get(key)
        if n is None:
            if len(self._counts) > 200_000:
                self._counts.clear()
            n = self._counts[key] = len(self.matching(ordinal, filt, now))
        return n

    def clipped(self, ordinal: int, filt: Filter, now: int, a: int | None,
                b: int | None) -> list[CallRec]:
        """The matching calls of a UTC day created within [a, b) (None: unbounded)."""
        recs = self.matching(ordinal, filt, now)
        if a is None and b is None:
            return recs
        neg = [-r.t0 for r in recs]
        i = 0 if b is None else bisect_left(neg, -b + 1)
        j = len(recs) if a is None else bisect_left(neg, -a + 1)
        return recs[i:j]

    def _count_part(self, ordinal: int, filt: Filter, now: int, a: int | None,
                    b: int | None) -> int:
        if a is None and b is None:
            return self.count(ordinal, filt, now)
        return len(self.clipped(ordinal, filt, now, a, b))

    def page(self, filt: Filter, lo: int | None, hi: int | None, now: int,
             offset: int, limit: int) -> tuple[int, list[CallRec]]:
        """(total, calls) of one newest-first page: ``limit`` calls from ``offset``."""
        total, out = 0, []
        for ordinal, a, b in self.parts(lo, hi, now):
            n = self._count_part(ordinal, filt, now, a, b)
            if n and len(out) < limit and total + n > offset:
                skip = max(0, offset - total)
                out.extend(self.clipped(ordinal, filt, now, a, b)[skip: skip + limit - len(out)])
            total += n
        return total, out

    def listed(self, filt: Filter, lo: int | None, hi: int | None, now: int
               ) -> list[CallRec]:
        """Every call of the listing, newest first."""
        out: list[CallRec] = []
        for ordinal, a, b in self.parts(lo, hi, now):
            out.extend(self.clipped(ordinal, filt, now, a, b))
        return out

    def total(self, filt: Filter, lo: int | None, hi: int | None, now: int) -> int:
        return sum(self._count_part(o, filt, now, a, b) for o, a, b in self.parts(lo, hi, now))

    # --- the insert fault ----------------------------------------------------------------

    def insert(self, count: int, filt: Filter, lo: int | None, hi: int | None,
               now: int) -> list[CallRec]:
        """Add ``count`` calls to [lo, hi], newer than every call existing there at ``now``.

        They honour the agent and direction filters (so they shift the pages of the listing
        that triggered them) but not status or search.
        """
        parts = self.parts(lo, hi, now)
        if count <= 0 or not parts:
            return []
        agents = self.profile.agents
        if filt.agent is not None:
            pool = [agents[filt.agent]]
        else:
            pool = [a for a in agents if a.kind in ("outbound", "inbound")]
        pool = [a for a in pool if filt.direction in (None, a.direction)]
        if not pool:
            return []
        top, _, top_b = parts[0]
        upper = min(now, (top_b or day_start(top) + DAY) - 1)
        oldest, oldest_a, _ = parts[-1]
        newest = (oldest_a or day_start(oldest)) - 1
        for ordinal, a, b in parts:
            day = self.day(ordinal)
            recs = [r for r in day.recs[day.visible_from(now):]
                    if (a is None or r.t0 >= a) and (b is None or r.t0 < b)]
            if recs:
                newest = recs[0].t0
                break
        rng = self._insert_rng
        if newest < upper:
            times = sorted(rng.randint(newest + 1, upper) for _ in range(count))
        else:
            times = [newest] * count
        out = []
        for t0 in times:
            rec = self.profile.inserted_call(rng, rng.choice(pool), t0, big_id=t0 == newest)
            ordinal = ordinal_of(t0)
            self._inserted.setdefault(ordinal, []).append(rec)
            self._versions[ordinal] = self._versions.get(ordinal, 0) + 1
            out.append(rec)
        return out

    def end_late(self, call_id: str, until: int, now: int) -> CallRec:
        """A late status: the call stays answered (if it ever is) or ringing until ``until``
        (epoch seconds), then takes its final status (no-answer for one stuck in initiated)."""
        rec = self.find(call_id, now)
        if rec is None:
            raise KeyError(call_id)
        if rec.t_end == rec.t_hang and rec.final == "answered":
            rec.t_hang = until  # an answered call whose end never came: it talks until then
        ordinal = ordinal_of(rec.t0)
        rec.t_end = max(rec.t_end, until)
        if rec.t_ans < 0 and rec.final in ANSWERED:
            rec.t_ans = rec.t_ring
        if rec.final == "initiated":  # stuck in "initiated": it rings, then no one answers
            rec.final, rec.t_ring = "no-answer", rec.t0
        rec.json_a = rec.json_n = None
        count, settle = self._meta[ordinal]
        self._meta[ordinal] = (count, max(settle, rec.t_end))
        self._versions[ordinal] = self._versions.get(ordinal, 0) + 1  # drop cached pages
        return rec

    def inserted_count(self) -> int:
        return sum(len(v) for v in self._inserted.values())

    # --- callback stats ------------------------------------------------------------------

    def _day_stats(self, ordinal: int, now: int, a: int | None = None,
                   b: int | None = None) -> tuple:
        """A UTC day's callback figures, of its calls created within [a, b) when clipped."""
        whole = a is None and b is None
        settled = self._settled(ordinal, now)
        key = (ordinal, self._versions.get(ordinal, 0))
        if whole and settled and key in self._stats:
            return self._stats[key]
        total = answered = unmatched = 0
        by: Counter[int] = Counter()
        day = self.day(ordinal)
        for i in range(day.visible_from(now), len(day.recs)):
            r = day.recs[i]
            if r.src == NOT_CALLBACK or r.testing or (a is not None and r.t0 < a) or (
                    b is not None and r.t0 >= b):
                continue
            total += 1
            if (r.final if settled else state(r, now)[0]) in ANSWERED:
                answered += 1
            if r.src == UNMATCHED:
                unmatched += 1
            else:
                by[r.src] += 1
        result = (total, answered, unmatched, tuple(by.items()))
        if whole and settled:
            self._stats[key] = result
        return result

    def callback_stats(self, lo: int, hi: int, now: int) -> dict:
        """The ``data`` of /callback-agents/stats over the date-filter days [lo, hi]."""
        total = answered = unmatched = 0
        by: Counter[int] = Counter()
        for ordinal, start, end in self.parts(lo, hi, now):
            t, a, u, b = self._day_stats(ordinal, now, start, end)
            total, answered, unmatched = total + t, answered + a, unmatched + u
            by.update(dict(b))
        agents = self.profile.agents
        rows = sorted(by.items(), key=lambda kv: (-kv[1], agents[kv[0]].name, agents[kv[0]].id))
        return {
            "period": {"start": date.fromordinal(lo).isoformat(),
                       "end": date.fromordinal(hi).isoformat()},
            "total_callbacks_received": total,
            "callbacks_answered": answered,
            "callbacks_unmatched": unmatched,
            "callbacks_by_source_agent": [
                {"source_agent_id": agents[i].id, "name": agents[i].name, "count": n}
                for i, n in rows
            ],
        }

    def find(self, call_id: str, now: int) -> CallRec | None:
        """A call by id or SID (scans existing days; for tests and tooling)."""
        for ordinal in self.span(None, None, now):
            day = self.day(ordinal)
            for i in range(day.visible_from(now), len(day.recs)):
                r = day.recs[i]
                if call_id in (r.id, r.sid):
                    return r
        return None
