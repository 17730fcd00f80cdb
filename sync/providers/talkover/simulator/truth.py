"""Talkover's ground truth: what its HTTP API serves, computed in Python without HTTP (for
tests)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from sync.simulator.catalog import iso_z
from sync.simulator.host import Stores

from .api import filter_agents, sorted_agents
from .data import KEY, call_dict, state
from .store import Filter


def _ordinal(value: date | None) -> int | None:
    return value.toordinal() if value is not None else None


class TalkoverTruth:
    """Talkover's part of `sim.truth`: read-only views equal to the API's responses at the
    simulator's current clock."""

    def __init__(self, sim: Stores) -> None:
        self._sim = sim

    def agents(self, env: str) -> list[dict]:
        """All agents in /api/v1/agents order (the ``data`` items over every page)."""
        return [a.as_dict() for a in sorted_agents(self._sim.store(env, KEY).profile.agents)]

    def agents_filtered(self, env: str, status: str | None = None, direction: str | None = None,
                        search: str | None = None) -> list[dict]:
        agents = self._sim.store(env, KEY).profile.agents
        return [a.as_dict() for a in filter_agents(agents, status, direction, search)]

    def callback_agents(self, env: str) -> list[dict]:
        agents = self._sim.store(env, KEY).profile.agents
        return [a.as_callback_dict(agents) for a in agents if a.kind == "callback"]

    def _filter(self, env: str, agent_id: str | None, status: str | None,
                direction: str | None, search: str | None) -> Filter:
        idx = None
        if agent_id is not None:
            idx = self._sim.store(env, KEY).profile.by_id[agent_id].idx
        return Filter(idx, status, direction, (search or "").strip() or None)

    def calls(self, env: str, date_from: date | None = None, date_to: date | None = None, *,
              agent_id: str | None = None, status: str | None = None,
              direction: str | None = None, search: str | None = None,
              with_agent: bool = True) -> Iterator[dict]:
        """Calls as /api/v1/calls lists them (newest first, all pages), at the clock of the
        first ``next()``. ``with_agent=False`` gives the /agents/{id}/calls item shape."""
        sim = self._sim
        store = sim.store(env, KEY)
        filt = self._filter(env, agent_id, status, direction, search)
        now = sim.now_ts()
        for ordinal, a, b in store.parts(_ordinal(date_from), _ordinal(date_to), now):
            with sim.lock:
                day = [call_dict(r, store.profile.agents, now, with_agent)
                       for r in store.clipped(ordinal, filt, now, a, b)]
            yield from day

    def call_count(self, env: str, date_from: date | None = None, date_to: date | None = None,
                   *, agent_id: str | None = None, status: str | None = None,
                   direction: str | None = None, search: str | None = None) -> int:
        """The ``pagination.total`` of the same listing."""
        sim = self._sim
        filt = self._filter(env, agent_id, status, direction, search)
        with sim.lock:
            return sim.store(env, KEY).total(filt, _ordinal(date_from), _ordinal(date_to),
                                                 sim.now_ts())

    def callback_stats(self, env: str, start: date | None = None,
                       end: date | None = None) -> dict:
        """The ``data`` of /api/v1/callback-agents/stats (same defaults)."""
        sim = self._sim
        today = sim.today
        start = start or today - timedelta(days=30)
        end = end or today
        with sim.lock:
            return sim.store(env, KEY).callback_stats(start.toordinal(), end.toordinal(),
                                                          sim.now_ts())

    def timeline(self, env: str, call_id: str) -> dict | None:
        """A call's transition times (by id or SID), for tests that move the clock.

        ``answered_at`` is None for calls never answered; ``ended_at`` equals ``created_at``
        for calls stuck in ``initiated``. None if no such call exists at the clock.
        """
        sim = self._sim
        with sim.lock:
            now = sim.now_ts()
            rec = sim.store(env, KEY).find(call_id, now)
            if rec is None:
                return None
            return {
                "id": rec.id, "sid": rec.sid, "final_status": rec.final,
                "status_now": state(rec, now)[0],
                "created_at": iso_z(rec.t0), "ringing_at": iso_z(rec.t_ring),
                "answered_at": iso_z(rec.t_ans) if rec.t_ans >= 0 else None,
                "ended_at": iso_z(rec.t_end),
            }

    def inserted_count(self, env: str) -> int:
        """How many calls the insert fault (or ``Simulator.insert_calls``) added."""
        with self._sim.lock:
            return self._sim.store(env, KEY).inserted_count()
