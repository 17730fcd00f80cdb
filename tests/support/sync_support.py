"""Helpers for sync tests: a served simulator, an environment pointing at it, exactness checks.

Data sets stay small (a few days, a few hundred calls a day) so every sync test runs in
seconds; the clock is the end of the last day, so every day is whole.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from portal.models import Environment, Organization
from sync.models import Agent, Call, CallbackDay, CallbackSourceDay, CallRollup
from sync.simulator import EnvironmentSpec, SimulatorConfig, running_simulator

ENV = "acme-sales"
END = date(2026, 3, 10)


def small_config(days: int = 6, calls_per_day: int = 120, end_date: date = END,
                 **kw: object) -> SimulatorConfig:
    """One Talkover workspace (plus one Origins org), ending at END 23:59:59."""
    envs = {ENV: EnvironmentSpec("talkover", utc_offset_hours=-3),
            "origins-demo": EnvironmentSpec("origins", agent_ids=(4012, 4013), calls_per_day=20)}
    return SimulatorConfig(seed=11, days=days, calls_per_day=calls_per_day, end_date=end_date,
                           environments=envs, **kw)


@contextmanager
def served(config: SimulatorConfig | None = None, **faults: object) -> Iterator[tuple]:
    with running_simulator(config or small_config(), **faults) as (sim, server):
        yield sim, server


def point_env(org: Organization, sim, server, name: str = "Sales", key: str = ENV,
              **fields: object) -> Environment:
    """An environment of `org` reading simulator workspace `key` (budget out of the way)."""
    values = {"backfill_days": sim.config.days, "requests_per_minute": 100000, **fields}
    env = Environment(organization=org, name=name, base_url=server.talkover_url, **values)
    env.set_token(sim.tokens[key])
    env.save()
    return env


def mirror_diff(env: Environment, sim, key: str = ENV, first: date | None = None,
                exempt: frozenset[str] = frozenset(), since: datetime | None = None
                ) -> list[str]:
    """Every difference between the mirror and the simulator's ground truth (empty = exact):
    from the data set's first day, or the calls created from the UTC day `first` (or the
    moment `since`) on only (the callback days and rollups are then not compared); `exempt`
    ids are left out. Calls are picked by `created_at`, not by the upstream's date filters,
    whose days may be another zone's."""
    problems: list[str] = []
    whole = first is None and since is None
    first, last = first or sim.start_date, sim.today
    since = since or datetime.combine(first, time.min, UTC)
    truth = {c["id"]: c for c in sim.truth.calls(key)
             if c["id"] not in exempt and datetime.fromisoformat(c["created_at"]) >= since}
    mirror = {c.external_id: c for c in Call.objects.filter(
        environment=env, started_at__gte=since)
        if c.external_id not in exempt}
    for missing in sorted(set(truth) - set(mirror))[:5]:
        problems.append(f"call {missing} missing")
    for extra in sorted(set(mirror) - set(truth))[:5]:
        problems.append(f"call {extra} not upstream")
    for cid in set(truth) & set(mirror):
        t, m = truth[cid], mirror[cid]
        got = (m.record, m.status, m.duration, m.sid, m.direction, m.is_testing,
               m.agent_external_id, m.started_at, m.to_number, m.from_formatted)
        want = (t, t["status"], t["duration"], t["sid"], t["direction"], t["is_testing"],
                t["agent"]["id"], datetime.fromisoformat(t["created_at"]), t["to"],
                t["from_formatted"])
        if got != want:
            problems.append(f"call {cid}: mirror {got[1:]} != truth {want[1:]}")
    if len(mirror) != len(truth):
        problems.append(f"{len(mirror)} calls mirrored, {len(truth)} upstream")
    if not whole:
        return problems
    agents = {a["id"]: a for a in sim.truth.agents(key)}
    stored = {a.external_id: a for a in Agent.objects.filter(environment=env)}
    if set(agents) != set(stored):
        problems.append(f"agents differ: {sorted(set(agents) ^ set(stored))}")
    callbacks = {c["id"] for c in sim.truth.callback_agents(key)}
    if {a for a, row in stored.items() if row.is_callback} != callbacks:
        problems.append("callback agents differ")
    day = first
    while day <= last:
        want = sim.truth.callback_stats(key, day, day)
        got = CallbackDay.objects.filter(environment=env, day=day).first()
        if got is None or got.raw != want:
            problems.append(f"callback day {day}: {got and got.raw} != {want}")
        sources = {s.source_agent_id: s.count for s in
                   CallbackSourceDay.objects.filter(environment=env, day=day)}
        if sources != {s["source_agent_id"]: s["count"]
                       for s in want["callbacks_by_source_agent"]}:
            problems.append(f"callback sources {day} differ")
        day += timedelta(days=1)
    rolled = sum(CallRollup.objects.filter(environment=env).values_list("count", flat=True))
    if rolled != len(mirror):
        problems.append(f"rollups count {rolled} calls, mirror has {len(mirror)}")
    # Day by day too, in the organisation's zone: a stale day can hide behind equal totals
    # (an upstream whose days are not UTC days moves calls across local days).
    tz = env.organization.tzinfo
    by_day = dict(Call.objects.filter(environment=env)
                  .annotate(local=TruncDate("started_at", tzinfo=tz))
                  .values("local").annotate(n=Count("id")).values_list("local", "n"))
    rolled_by_day = dict(CallRollup.objects.filter(environment=env).values("day")
                         .annotate(n=Sum("count")).values_list("day", "n"))
    for local in sorted(set(by_day) | set(rolled_by_day)):
        if by_day.get(local, 0) != rolled_by_day.get(local, 0):
            problems.append(f"rollups of {local} count {rolled_by_day.get(local, 0)} calls, "
                            f"the mirror has {by_day.get(local, 0)}")
    return problems


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), UTC)
