"""Refresh the hot days for what changed since the last run, and the lookback's open calls.

Talkover lists calls newest first by creation. Its filters are a date-only range, one
`status`, a `search` by phone number or call SID, and `per_page` (up to 100) / `page`; there
is no `updated_since`. A run (`incremental`) spends requests on:

1. **Heads.** Per hot day from the newest one the mirror holds a call of (`head_days`),
   page 1: its `pagination.total` less what the mirror holds is the number of new calls,
   all at the head of the listing: the pages holding them are read, no more. The older
   days' new calls show in the counts taken last (`hot_days.settle_counts`).
2. **Open calls.** The mirror's calls of the whole lookback (from `open_first`) in a
   non-final status (initiated, ringing, answered) that the heads did not show. One listing
   per such status (and each later non-final one) over the lookback, read from just past
   what the heads showed (its offset is the heads' count of that status) to older pages
   until the counts of the older part agree with the mirror. Statuses only move forward, so
   when the upstream holds as many calls in {initiated}, {initiated, ringing} and
   {initiated, ringing, answered} as the mirror among the calls up to that point, none of
   those moved (`moved_on`). An open call that its listing was read past (or to its end)
   without has moved on: a *mover*, however old (a status can come a day late). One that
   every later non-final listing was read past too has a final status and is counted so;
   the others older than that point are read by SID before any deeper page (they cost
   that request either way), and the counts compared again. While they still disagree and
   the pages left of the scan's own day could cost more than asking, the older days' calls
   per status are counted (`per_page=1` over those days, one request per listing not yet
   read into them): once the scan's day agrees and the older days do not, the listings go
   on over the older days alone, from their first call, and the rest of the scan's day,
   whose open calls the counts showed unmoved, is not read. A status whose calls the
   listings' totals over their whole span show neither left nor joined (as many calls
   upstream in the statuses before it, and in those and it, as the mirror holds) is not
   read at all there: its pages could show no mover (`_unmoved`).
3. **Movers.** Each is read where it now sits. In the listing of a final status (completed
   first, then no-answer, failed, busy) its position is the number of the mirror's calls of
   that status newer than it, known exactly now that the heads and the newer movers are
   written. A page is read when it should hold at least two movers, its `per_page` chosen
   so that it starts at or before the first and reaches furthest (`covering`); a lone
   mover is searched by its SID (one request, exact). A page that misses a mover only costs
   that mover a search; a search that finds nothing reads the day's page where the call
   sits, and a call not found there either is `lost`: the stream reads its day whole in the
   same run.

Every page read is written at once (the stream's `write`). What this cannot see — a call
in a final status that changes again, a field changing without its status — is left to the
daily reconciliation of the lookback (`incremental.whole_days`).
"""
from __future__ import annotations

from bisect import bisect_right, insort
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Max

from sync.models import Call
from sync.providers.talkover.client import PER_PAGE, Page
from sync.providers.validation import Rejected, moment
from sync.write import ledger

# Talkover's non-final statuses, in the order a call moves through them.
NON_FINAL = ("initiated", "ringing", "answered")
# Final statuses whose listings are searched for movers, the likeliest first.
FINAL_PASSES = ("completed", "no-answer", "failed", "busy")
# Pages are asked to start this many items before the computed offset: a refused record or
# a call arriving meanwhile shifts offsets by one or two.
SLACK = 1
# A search by SID returns every call whose number or SID contains it: a handful at most.
SEARCH_PER_PAGE = 10
# The resolution of created_at: "before a moment" is "up to a tick before it".
TICK = timedelta(microseconds=1)

Key = tuple[datetime, str]


@dataclass
class Written:
    """What writing one page did: calls changed (created or updated), created, ids held."""

    changed: int
    ids: set[str] = field(default_factory=set)
    created: int = 0


# write(items) -> Written; each item is stored under the UTC day it was created.
Writer = Callable[[list[Any]], Written]


@dataclass
class OpenCall:
    """A mirrored call of the lookback in a non-final status when the run began."""

    id: str
    sid: str
    at: datetime
    status: str
    ruled: set[str] = field(default_factory=set)  # final statuses it was shown not to have
    skip: set[str] = field(default_factory=set)  # final listings not worth a page for it
    done: bool = False

    @property
    def key(self) -> Key:
        return (self.at, self.id)

    @property
    def day(self) -> date:
        return self.at.date()


@dataclass
class StatusListing:
    """One non-final status's listing over the days from the lookback's first to `last`,
    read from `next` on."""

    status: str
    next: int
    last: date
    total: int | None = None
    oldest: datetime | None = None  # created_at of the oldest item read so far
    read: dict[str, Key] = field(default_factory=dict)

    @property
    def exhausted(self) -> bool:
        return self.total is not None and self.next >= self.total

    def covers(self, at: datetime) -> bool:
        """Whether the pages read hold every call of this status created at `at`: a call of
        the mirror in this status that they do not hold has moved on."""
        return self.exhausted or (self.oldest is not None and at > self.oldest)

    def upto(self, bound: datetime) -> int:
        """Calls of this status created up to `bound`, as the pages read count them: those
        past the last page read (all older than what it held) and those read up to it."""
        return max(0, (self.total or 0) - self.next) + sum(
            1 for at, _ in self.read.values() if at <= bound)

    def before(self, start: datetime) -> int | None:
        """Calls of this status created before `start`, when the pages read tell it (read to
        the end, or past `start`: what follows is older); None when only a count can."""
        if self.exhausted or (self.oldest is not None and self.oldest < start):
            return self.upto(start - TICK)
        return None

    def narrowed(self, start: datetime, last: date, count: int) -> StatusListing:
        """The same listing without its days from `start` on, to the upstream's day `last`
        (`count` calls are left): what was read of the older days is kept, at offsets less
        the calls left out, which came first (newest first)."""
        read = {i: key for i, key in self.read.items() if key[0] < start}
        return StatusListing(self.status, max(0, self.next - ((self.total or 0) - count)),
                             last, count,
                             self.oldest if read else None, read)


def covering(start: int, largest: int = PER_PAGE) -> tuple[int, int]:
    """(per_page, page) of the one request whose page holds offset `start` and reaches
    furthest past it: any per_page up to 100 is allowed, so a page need not begin at a
    multiple of 100 (offset 150 is covered to 249 by per_page=75, page=3)."""
    best, best_end = (largest, start // largest + 1), (start // largest + 1) * largest
    for size in range(largest - 1, 0, -1):
        if start + size <= best_end:
            break  # no smaller page can reach further
        end = (start // size + 1) * size
        if end > best_end:
            best, best_end = (size, start // size + 1), end
    return best


def moved_on(mirror: dict[str, int], upstream: dict[str, int]) -> str:
    """Why the mirror's open calls of a span of calls cannot all still be where it says
    ("" when they can): counts per non-final status of the same calls, upstream and mirror.
    A call only moves forward, so fewer upstream calls in the first k non-final statuses
    than the mirror holds means some moved on."""
    held = counted = 0
    for status in NON_FINAL:
        held, counted = held + mirror.get(status, 0), counted + upstream.get(status, 0)
        if counted < held:
            return f"{held - counted} calls moved on from {status}"
    return ""


def item_key(item: Any) -> tuple[Key, str] | None:
    """((created_at, id), status) of a listing item, None when it has no usable shape."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str | int):
        return None
    try:  # the one timestamp parser; an item it refuses is left to the whole-day read
        at = moment(item.get("created_at"), "created_at", required=True)
    except Rejected:
        return None
    return (at.astimezone(UTC), str(item["id"])), str(item.get("status", ""))


class HotWindow:
    """One run's refresh of the hot days `days` (ascending), with the open calls checked
    from `open_first` (the lookback's first day) on; `unfound`: ids of open calls that a
    whole read of their day did not find upstream, not looked for again."""

    def __init__(self, ctx: Any, days: list[date], write: Writer,
                 unfound: Iterable[str] = (), open_first: date | None = None,
                 shift: timedelta = timedelta(0), newest: datetime | None = None) -> None:
        self.ctx, self.days, self.write = ctx, days, write
        # The mirror's newest call when the run began (before its whole reads), if known.
        self.newest = newest
        self.first, self.last = days[0], days[-1]
        self.open_first = min(open_first or self.first, self.first)
        self.shifted(shift)
        self.unfound = set(unfound)
        self.lost: dict[str, date] = {}  # movers found neither where they sit nor by SID
        self.state: dict[str, tuple[Key, str]] = {}  # every call read this run: latest state
        self.totals: dict[date, int] = {}
        self.whole: dict[date, bool] = {}
        self.changed = 0
        self.requests: Counter[str] = Counter()
        self.found: Counter[str] = Counter()  # movers, by where they were found
        # A head listed a call outside its day's bounds under `shift`: the shift is wrong.
        self.outside = False

    def shifted(self, shift: timedelta) -> None:
        """Take the upstream's days as running `shift` ahead of UTC's (`ledger.day_bounds`)."""
        self.shift = shift
        self.start = ledger.day_bounds(self.first, shift)[0]
        self.end = ledger.day_bounds(self.last, shift)[1]
        self.open_start = ledger.day_bounds(self.open_first, shift)[0]

    def upstream_day(self, at: datetime) -> date:
        """The upstream's day of the moment `at`: the day whose date filter lists it."""
        return (at + self.shift).date()

    def held(self, day: date) -> int:
        """What the mirror holds of the upstream's `day`."""
        return ledger.held(self.ctx.environment, day, self.shift)

    # --- reading ------------------------------------------------------------------------

    def _read(self, purpose: str, first: date, last: date, number: int, size: int,
              **filters: str) -> tuple[Page, Written]:
        page = self.ctx.client.calls_listing(first, last, number, size, **filters)
        self.requests[purpose] += 1
        written = self.write(page.items)
        self.changed += written.changed
        if purpose == "head":
            start, end = ledger.day_bounds(first, self.shift)
            self.outside = self.outside or any(
                not start <= keyed[0][0] < end
                for keyed in map(item_key, page.items) if keyed is not None)
        for item in page.items:
            keyed = item_key(item)
            if keyed is not None and keyed[0][1] in written.ids:
                self.state[keyed[0][1]] = keyed
        return page, written

    def refresh(self) -> None:
        """Heads, open calls, movers; `missing_days` then says what is still not right."""
        offsets = self.heads()
        movers = self.open_calls(offsets)
        self.fetch(movers)

    def head_days(self) -> list[date]:
        """The days whose heads `heads` reads: from the newest day the mirror held a call of
        when the run began (`newest`; the upstream's calls created since land there or after
        it, whatever our clock says) to the last. An older day's new calls, which only an
        upstream writing records late adds, show in the counts taken last
        (`hot_days.settle_counts`), which read its head then: a head page a run for each
        older day, found empty nearly every time, would cost more than those counts. (Not
        the mirror's newest call now: a day read whole earlier in this run, the one after
        midnight, would leave the evening before it without its head.)"""
        newest = self.newest or Call.objects.filter(
            environment=self.ctx.environment, started_at__gte=self.start,
            started_at__lt=self.end).aggregate(at=Max("started_at"))["at"]
        first = self.last if newest is None else max(self.first, self.upstream_day(newest))
        return [day for day in self.days if day >= min(first, self.last)]

    def heads(self) -> Counter[str]:
        """The new calls of each of `head_days` (newest day first); the newest day's head
        counts per status (the offsets of the status listings, which begin with that day)."""
        offsets: Counter[str] = Counter()
        for day in reversed(self.head_days()):
            held = self.held(day)
            number = created = 0
            while True:
                number += 1
                page, written = self._read("head", day, day, number, PER_PAGE)
                created += written.created
                if day == self.last:
                    offsets.update(str(i.get("status", "")) for i in page.items
                                   if isinstance(i, dict))
                self.totals[day] = page.total
                if number >= page.last_page or not page.items:
                    self.whole[day] = True
                    break
                # Stop at the page that held old calls too, once the new ones are all read
                # (a page of new calls only may have more behind it: calls deleted upstream
                # would make the count of new ones too low).
                if not written.created or (created >= page.total - held
                                           and written.created < len(page.items)):
                    break
        return offsets

    def open_calls(self, offsets: Counter[str]) -> list[OpenCall]:
        """The movers among the mirror's open calls (status listings, see the module), newest
        first, not read yet. The listings are scanned over the whole lookback (`_scan`) until
        the counts agree, or until the scan's own day agrees while older days do not: the
        scan then goes on over those older days alone, its day left out of the listings."""
        candidates = self._candidates()
        if not candidates:
            return []
        first = min(NON_FINAL.index(c.status) for c in candidates)
        listings = [StatusListing(s, max(0, offsets[s] - SLACK), self.last)
                    for s in NON_FINAL[first:]]
        fetched: set[str] = set()
        movers: list[OpenCall] = []
        while (older := self._scan(listings, candidates, fetched)) is not None:
            start, counts = older
            movers += self._shown_moved(listings, [c for c in candidates if c.at >= start],
                                        fetched)
            candidates = [c for c in candidates if c.at < start]
            last = self.upstream_day(start) - timedelta(days=1)
            listings = [x.narrowed(start, last, counts[x.status]) for x in listings]
        movers += self._shown_moved(listings, candidates, fetched)
        return sorted(movers, key=lambda c: c.key, reverse=True)

    def _scan(self, listings: list[StatusListing], candidates: list[OpenCall],
              fetched: set[str]) -> tuple[datetime, Counter[str]] | None:
        """Read the listings, the shallowest first, until the counts of the calls up to the
        shallowest page read agree (None), or until those of the scan's own day do while the
        older days' counts (`_older_counts`) do not: (that day's start, the older days'
        counts). The pages already show some movers (a listing read past them, or to its
        end, without them): one that no later non-final listing can hold either has a final
        status and is counted so; the others are read by SID when the counts disagree,
        before any deeper page: the counts then say whether one is needed at all, and those
        movers cost their requests either way."""
        older: tuple[datetime, Counter[str]] | None = None
        while True:
            unmoved = self._unmoved(listings, candidates)
            unread = [x for x in listings if x.oldest is None and not x.exhausted
                      and x.status not in unmoved]
            if unread:  # its first page: the listing's total, and its newest calls
                self._advance(unread[0])
                continue
            live = [x for x in listings if not x.exhausted and x.oldest is not None
                    and x.status not in unmoved]
            bound = max((x.oldest for x in live), default=None)  # type: ignore[type-var]
            shown = self._shown_moved(listings, candidates, fetched)
            ended = {c.id for c in shown if self._ended(listings, c, unmoved)}
            if bound is None or not self._disagrees(listings, candidates, bound, ended,
                                                    unmoved):
                return None
            alone = [c for c in shown if c.at <= bound and c.id not in ended]
            for mover in alone:  # older than the bound: each is alone, read by its SID
                fetched.add(mover.id)
                self._search(mover)
            if alone:
                continue
            start = ledger.day_bounds(self.upstream_day(bound), self.shift)[0]
            if older is None or older[0] != start:
                older = self._older_counts(listings, candidates, start, unmoved)
            if older and not self._disagrees(listings, candidates, bound, ended, unmoved,
                                             older):
                return older
            self._advance(max(live, key=lambda x: x.oldest))  # type: ignore[arg-type,return-value]

    def _older_counts(self, listings: list[StatusListing], candidates: list[OpenCall],
                      start: datetime, unmoved: Collection[str] = ()
                      ) -> tuple[datetime, Counter[str]] | None:
        """The calls per status of the days before `start` (the scan's day): from the pages
        where they tell it, else one `per_page=1` request per listing, asked only when the
        pages left to read of the scan's day could cost more (a cost rule: the counts are
        compared, never guessed); an `unmoved` status's are the mirror's. None when not
        asked, or when no older day is checked."""
        if start <= self.open_start:
            return None
        held = self._mirror(candidates, self.open_start, start - TICK)
        counts = {x.status: held[x.status] if x.status in unmoved else x.before(start)
                  for x in listings}
        asked = [x for x in listings if counts[x.status] is None]
        pages = sum(-(-self._mirror(candidates, start, (x.oldest or start) - TICK)[x.status]
                      // PER_PAGE) for x in asked)
        if asked and pages <= len(asked):
            return None
        for x in asked:
            page, _ = self._read("count", self.open_first,
                                 self.upstream_day(start) - timedelta(days=1),
                                 1, 1, status=x.status)
            counts[x.status] = page.total
        return start, Counter({status: n or 0 for status, n in counts.items()})

    def _candidates(self) -> list[OpenCall]:
        """The mirror's open calls of the lookback that this run has not read yet (nor given
        up on: `unfound`)."""
        return [
            OpenCall(i, sid, at, status) for i, sid, at, status in
            Call.objects.filter(environment=self.ctx.environment, started_at__gte=self.open_start,
                                started_at__lt=self.end, status__in=NON_FINAL)
            .values_list("external_id", "sid", "started_at", "status")
            if i not in self.state and i not in self.unfound]

    def _shown_moved(self, listings: list[StatusListing], candidates: list[OpenCall],
                     fetched: set[str]) -> list[OpenCall]:
        """Open calls that their status's pages show moved on (read past or to the end
        without them) and that no read has found or looked for yet."""
        by_status = {x.status: x for x in listings}
        return [c for c in candidates if c.id not in self.state and c.id not in fetched
                and by_status[c.status].covers(c.at)]

    @staticmethod
    def _ended(listings: list[StatusListing], mover: OpenCall,
               unmoved: Collection[str] = ()) -> bool:
        """Whether the pages show a mover in a final status: every later non-final listing
        was read past it (or to its end) too, without it, or is `unmoved` (no call joined
        it)."""
        later = NON_FINAL[NON_FINAL.index(mover.status) + 1:]
        return all(x.covers(mover.at) or x.status in unmoved
                   for x in listings if x.status in later)

    def _unmoved(self, listings: list[StatusListing], candidates: list[OpenCall]
                 ) -> frozenset[str]:
        """The statuses whose calls, the listings' totals show, neither left nor joined over
        the listings' whole span (the lookback's first day to their `last`): the upstream
        holds as many calls in the statuses before it, and in those and it, as the mirror
        (statuses only move forward). Such a listing's pages would show no mover, and its
        count up to any point is the mirror's: it is not read. Empty until every listing's
        total is known (its first page, or a count)."""
        if not listings or any(x.total is None for x in listings):
            return frozenset()
        high = ledger.day_bounds(listings[0].last, self.shift)[1] - TICK
        mirror = self._mirror(candidates, self.open_start, high)
        totals = {x.status: x.total or 0 for x in listings}
        unmoved: set[str] = set()
        held = counted = 0
        for status in NON_FINAL:
            even_before = counted == held
            held, counted = held + mirror[status], counted + totals.get(status, 0)
            if even_before and counted == held and status in totals:
                unmoved.add(status)
        return frozenset(unmoved)

    def _advance(self, listing: StatusListing) -> None:
        size, number = covering(listing.next)
        page, _ = self._read("status", self.open_first, listing.last, number, size,
                             status=listing.status)
        listing.total = page.total
        keys = [k for k in map(item_key, page.items) if k is not None]
        for key, _status in keys:
            listing.read[key[1]] = key
        if keys:
            listing.oldest = keys[-1][0][0]
        after = (number - 1) * size + len(page.items)
        # Past the end, or a listing shorter than its own total says: nothing more to read.
        listing.next = after if page.items and after > listing.next else page.total

    def _disagrees(self, listings: list[StatusListing], candidates: list[OpenCall],
                   bound: datetime, ended: set[str], unmoved: Collection[str] = (),
                   older: tuple[datetime, Counter[str]] | None = None) -> bool:
        """The calls created up to `bound` (from `older`'s start on, less its counts of the
        days before, when given): do the upstream's counts per non-final status show one of
        the mirror's open calls moved on? (`ended`: calls the pages show in a final status,
        counted so; an `unmoved` status's count is the mirror's.)"""
        low, less = older or (self.open_start, Counter())
        mirror = self._mirror(candidates, low, bound, ended)
        upstream = {x.status: mirror[x.status] if x.status in unmoved
                    else x.upto(bound) - less[x.status] for x in listings}
        return bool(moved_on(mirror, upstream))

    def _mirror(self, candidates: list[OpenCall], low: datetime, high: datetime,
                ended: Collection[str] = ()) -> Counter[str]:
        """The open calls created from `low` to `high` per status, as this run knows them: at
        the status it read them in, else as mirrored (none for those in `ended`)."""
        counted: Counter[str] = Counter(c.status for c in candidates if low <= c.at <= high
                                        and c.id not in self.state and c.id not in ended)
        counted.update(status for (at, _), status in self.state.values()
                       if low <= at <= high and at < self.end)
        return counted

    # --- movers -------------------------------------------------------------------------

    def fetch(self, movers: list[OpenCall]) -> None:
        """Read every mover's current record: final-status pages, else searches."""
        if not movers:
            return
        env = self.ctx.environment
        keys: dict[str, list[Key]] = {}
        rows = Call.objects.filter(environment=env, started_at__gte=movers[-1].at,
                                   started_at__lt=self.end)
        for at, external_id, status in rows.values_list("started_at", "external_id", "status"):
            keys.setdefault(status, []).append((at, external_id))
        for listed in keys.values():
            listed.sort()
        self._isolate(movers, keys)
        for status in FINAL_PASSES:
            self._pass(status, keys.setdefault(status, []), movers)
        everything = sorted({k for listed in keys.values() for k in listed})
        for mover in movers:
            if not mover.done:
                self._search(mover, everything)

    @staticmethod
    def _isolate(movers: list[OpenCall], keys: dict[str, list[Key]]) -> None:
        """Final listings not worth a page for a mover (`skip`): those other than completed
        for an answered call, and every one where no other mover could share its page (a
        status that came hours late, among calls long final): it is searched by its SID
        straight away, as a page read for it alone, at a position estimated across hundreds
        of calls, would often miss it and cost the search anyway. A cost rule only: a
        mover not found on a page is always searched."""
        for mover in movers:
            if mover.status == "answered":
                # An answered call ends completed: the other final listings are searched for
                # it only by SID (a page of busy calls read for it would be a page lost).
                mover.skip.update(s for s in FINAL_PASSES if s != "completed")
        for i, mover in enumerate(movers):  # newest first
            near = [movers[j] for j in (i - 1, i + 1) if 0 <= j < len(movers)]
            if all(abs(bisect_right(keys.setdefault(s, []), mover.key)
                       - bisect_right(keys[s], other.key)) >= PER_PAGE
                   for other in near for s in FINAL_PASSES
                   if s not in mover.skip and s not in other.skip):
                mover.skip.update(FINAL_PASSES)

    def _pass(self, status: str, keys: list[Key], movers: list[OpenCall]) -> None:
        """Pages of the `status` listing where at least two movers may sit."""
        drift = 0
        while True:
            eligible = [m for m in movers if not m.done and status not in m.ruled
                        and status not in m.skip]
            if not eligible:
                return
            # Positions if every eligible mover newer than one has this status.
            spots = [len(keys) - bisect_right(keys, m.key) + drift + i
                     for i, m in enumerate(eligible)]
            start = max(0, spots[0] - SLACK)
            size, number = covering(start)
            end = number * size
            if sum(1 for p in spots if start <= p < end) < 2:
                eligible[0].skip.add(status)
                continue
            page, written = self._read("final", self.open_first, self.last, number, size,
                                       status=status)
            listed = [x for x in map(item_key, page.items) if x is not None]
            for k, s in listed:
                if s == status and k[1] in written.ids:
                    i = bisect_right(keys, k)
                    if i == 0 or keys[i - 1] != k:
                        insort(keys, k)
            ids = {k[1] for k, _ in listed}
            low, high = (listed[-1][0][0], listed[0][0][0]) if listed else (None, None)
            for m in eligible:
                if m.id in ids:
                    m.done = True
                    self.found[status] += 1
                elif low is not None and low < m.at < high:
                    m.ruled.add(status)
            if not eligible[0].done and status not in eligible[0].ruled:
                eligible[0].skip.add(status)  # not where it was expected: a search finds it
            if listed:
                last = listed[-1][0]
                actual = (number - 1) * size + len(page.items) - 1
                drift = actual - (len(keys) - bisect_right(keys, last))

    def _search(self, mover: OpenCall, everything: list[Key] | None = None) -> None:
        """One mover by its SID; else the day's page where it sits (`everything`: the mirror's
        calls from the mover on, read when not given); else it is `lost`: the stream reads
        its day whole in this same run."""
        day = self.upstream_day(mover.at)
        if mover.sid:
            page, _ = self._read("search", day, day, 1, SEARCH_PER_PAGE,
                                 search=mover.sid)
            if mover.id in self.state:
                mover.done = True
                self.found["search"] += 1
                return
        # Its offset in its day's listing: the mirror's calls of that day newer than it.
        day_end = ledger.day_bounds(day, self.shift)[1]
        if everything is None:
            everything = sorted(Call.objects.filter(
                environment=self.ctx.environment, started_at__gte=mover.at,
                started_at__lt=day_end).values_list("started_at", "external_id"))
        newer = bisect_right(everything, (day_end, "")) - bisect_right(everything, mover.key)
        size, number = covering(max(0, newer - SLACK))
        self._read("day page", day, day, number, size)
        if mover.id in self.state:
            mover.done = True
            self.found["day page"] += 1
        else:
            self.lost[mover.id] = day

    # --- after --------------------------------------------------------------------------

    def missing(self, day: date) -> int:
        """Calls of `day` the upstream counted at its head that the mirror lacks."""
        return max(0, self.totals.get(day, 0) - self.held(day))

    def count(self, first: date, last: date) -> int:
        """The upstream's count of the calls of `first`..`last` now: one `per_page=1` page."""
        page, _ = self._read("count", first, last, 1, 1)
        return page.total

    def reread_head(self, day: date) -> None:
        """Calls arrived while the run read (new ones land at the head): read from page 1 to
        the first page without a new call, or until the mirror holds the page's count (a
        page more would only move the upstream again)."""
        number = 0
        while True:
            number += 1
            page, written = self._read("head", day, day, number, PER_PAGE)
            self.totals[day] = page.total
            if not written.created or number >= page.last_page or not page.items \
                    or self.held(day) >= page.total:
                return

    def summary(self) -> str:
        """What the refresh read, for the run's details."""
        asked = ", ".join(f"{n} {what}" for what, n in sorted(self.requests.items()))
        found = ", ".join(f"{n} by {how}" for how, n in sorted(self.found.items()))
        movers = sum(self.found.values())
        lost = f"; {len(self.lost)} not found, their days read whole" if self.lost else ""
        return f"{self.first}..{self.last}: {self.changed} calls changed; " \
               f"{movers} moved to a final status ({found or 'none'}){lost}; open calls " \
               f"checked from {self.open_first}; requests: {asked}"
