"""The callback funnel's link: the sync links each callback to the
outbound call it answers, and per UTC day its counts equal the vendor's callback stats;
point 5: the per-day figures the funnel reads equal a recount of the links, whatever moved them."""
from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from reports.queries.callback_funnel import LinkDays, link_days
from sync.callback_links import relink_environment
from sync.models import Agent, Call, CallbackLink, StreamState
from sync.providers.records import CALL_UPDATE_FIELDS
from sync.providers.talkover.simulator.data import NOT_CALLBACK, UNMATCHED
from sync.write.upsert import upsert
from tests.support.sync_support import ENV

pytestmark = pytest.mark.django_db(transaction=True)


def _assert_kept(env, first, last) -> LinkDays:
    """The per-day figures the funnel reads equal a recount from the links themselves."""
    kept = link_days(env.organization_id, [env.pk], first, last, raw=False).normalised()
    assert kept == link_days(env.organization_id, [env.pk], first, last, raw=True).normalised()
    return kept


def _no_links(days: LinkDays) -> bool:
    """No link figure left (the outbound side is the rollups', not the links')."""
    return dataclasses.replace(days.normalised(), outbound_unanswered={}) == LinkDays()


def _links(env) -> dict[str, tuple]:
    return {link.callback_external_id: (link.source_external_id, link.source_agent_external_id,
                                        link.callback_answered, link.seconds_to_callback)
            for link in CallbackLink.objects.filter(environment=env)}


def _day_figures(env, day) -> dict:
    links = CallbackLink.objects.filter(environment=env, callback_day=day, is_testing=False)
    by = Counter(link.source_agent_external_id for link in links if link.matched)
    return {"received": links.count(), "answered": links.filter(callback_answered=True).count(),
            "unmatched": links.filter(source_external_id="").count(), "by": dict(by)}


def _vendor(sim, day) -> dict:
    stats = sim.truth.callback_stats(ENV, day, day)
    return {"received": stats["total_callbacks_received"],
            "answered": stats["callbacks_answered"], "unmatched": stats["callbacks_unmatched"],
            "by": {row["source_agent_id"]: row["count"]
                   for row in stats["callbacks_by_source_agent"]}}


def _simulator_links(sim) -> dict[str, str]:
    """callback id → the simulator's own attribution (source agent id, '' unmatched)."""
    store = sim.talkover_store(ENV)
    agents = store.profile.agents
    out = {}
    for ordinal in store.span(None, None, sim.now_ts()):
        for rec in store.day(ordinal).recs:
            if rec.src != NOT_CALLBACK:
                out[rec.id] = "" if rec.src == UNMATCHED else agents[rec.src].id
    return out


def test_links_agree_with_vendor_stats_day_by_day_and_survive_a_relink(org_a, callback_world):
    # Ten days: the seven-day window is exercised whole. The sync writes a batch at a time
    # (small batches: outbound calls and their callbacks land in different batches). The
    # back-fill is the callback funnel's (tests/conftest.py: one real sync per worker, its
    # rows restored for each test that reads them).
    sim, world = callback_world
    env = world(org_a)
    links = _links(env)
    truth = _simulator_links(sim)
    assert len(links) == len(truth) > 50
    assert {cid: link[1] for cid, link in links.items()} == truth
    day = sim.start_date
    while day <= sim.today:
        assert _day_figures(env, day) == _vendor(sim, day), day
        day += timedelta(days=1)
    matched = [link for link in links.values() if link[0]]
    assert matched and all(link[3] > 0 for link in matched)
    # The funnel's kept days (the link table's triggers) count what the links say.
    _assert_kept(env, sim.start_date - timedelta(days=8), sim.today)
    # The same rule over the whole environment at once gives the same links.
    CallbackLink.objects.filter(environment=env).delete()
    assert _no_links(link_days(env.organization_id, [env.pk],
                               sim.start_date - timedelta(days=8), sim.today, raw=False))
    relink_environment(env)
    assert _links(env) == links
    _assert_kept(env, sim.start_date - timedelta(days=8), sim.today)


# --- the rule's edges, written through the sync's own write door -----------------------------

T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def _agents(env) -> None:
    Agent.objects.create(environment=env, external_id="out-1", direction="outbound")
    Agent.objects.create(environment=env, external_id="out-2", direction="outbound")
    Agent.objects.create(environment=env, external_id="cb-1", direction="inbound",
                         is_callback=True, source_agent_ids=["out-1"])


def _write(env, *calls: dict) -> None:
    rows = []
    for call in calls:
        row = {"environment_id": env.pk, "status": "completed", "is_testing": False,
               "raw": {}, "to_number": "", "from_number": "", **call}
        row["payload_hash"] = str(hash(tuple(sorted((k, str(v)) for k, v in row.items()))))
        rows.append(row)
    upsert(Call, env, rows, key="external_id", update_fields=CALL_UPDATE_FIELDS)


def _out(cid: str, at: datetime, number: str = "+5511987654321", agent: str = "out-1",
         **kw) -> dict:
    return {"external_id": cid, "direction": "outbound", "agent_external_id": agent,
            "to_number": number, "started_at": at, **kw}


def _cb(cid: str, at: datetime, number: str = "+5511987654321", **kw) -> dict:
    return {"external_id": cid, "direction": "inbound", "agent_external_id": "cb-1",
            "from_number": number, "started_at": at, **kw}


def _source(env, cid: str) -> str:
    return CallbackLink.objects.get(environment=env, callback_external_id=cid).source_external_id


def test_rule_edges_and_late_calls(env_a, env_b):
    _agents(env_a)
    _agents(env_b)
    _write(env_a, _cb("cb", T0))
    assert _source(env_a, "cb") == ""  # no outbound call yet: unmatched
    # A late outbound call (arrives after its callback) relinks it; digits are compared.
    _write(env_a, _out("o-old", T0 - timedelta(days=2), number="+55 (11) 98765-4321",
                       status="no-answer"))
    link = CallbackLink.objects.get(environment=env_a, callback_external_id="cb")
    assert (link.source_external_id, link.source_answered) == ("o-old", False)
    assert link.seconds_to_callback == 2 * 86400
    # The most recent wins; a test call, a non-source agent and a later call do not count.
    _write(env_a, _out("o-new", T0 - timedelta(hours=3)),
           _out("o-test", T0 - timedelta(hours=1), is_testing=True),
           _out("o-other", T0 - timedelta(hours=2), agent="out-2"),
           _out("o-after", T0 + timedelta(minutes=1)))
    assert _source(env_a, "cb") == "o-new"
    # A status change moves the answered flags; a call that turns into a test unlinks.
    _write(env_a, _cb("cb", T0, status="no-answer"))
    assert not CallbackLink.objects.get(environment=env_a, callback_external_id="cb"
                                        ).callback_answered
    _write(env_a, _out("o-new", T0 - timedelta(hours=3), is_testing=True))
    assert _source(env_a, "cb") == "o-old"
    # The window is whole UTC days: 7 days before the callback's day, from its midnight.
    edge = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    _write(env_a, _cb("cb2", T0, number="+15550001111"),
           _out("o-edge", edge, number="+15550001111"),
           _out("o-before", edge - timedelta(seconds=1), number="+1 555 000 1112"))
    assert _source(env_a, "cb2") == "o-edge"
    _write(env_a, _out("o-edge", edge - timedelta(seconds=1), number="+15550001111"))
    assert _source(env_a, "cb2") == ""
    env_a.callback_match_days = 8
    env_a.save()  # a new window relinks the environment (sync.receivers)
    assert _source(env_a, "cb2") == "o-edge"
    # Another environment's calls never link, even with the same ids and numbers.
    _write(env_b, _cb("cb", T0))
    assert _source(env_b, "cb") == ""
    # A call that stops being a callback loses its link.
    _write(env_a, {**_cb("cb", T0), "agent_external_id": "out-2"})
    assert not CallbackLink.objects.filter(environment=env_a, callback_external_id="cb").exists()


def test_kept_days_equal_a_recount_of_the_links_after_late_calls_relink(env_a):
    """The funnel reads per-day figures the link table's triggers keep:
    every write that moves links — a late outbound call taking callbacks of later days, a
    status change, a test flag, a callback that stops being one, a new window, a deletion —
    leaves them equal to a recount of the links, on the callbacks' days and the sources'."""
    _agents(env_a)
    first, last = (T0 - timedelta(days=10)).date(), (T0 + timedelta(days=3)).date()

    def kept() -> LinkDays:
        return _assert_kept(env_a, first, last)

    day = T0.date()
    _write(env_a, _cb("cb-a", T0), _cb("cb-b", T0 + timedelta(days=1), number="+15550001111"),
           _cb("cb-c", T0 + timedelta(days=2), status="no-answer"))
    assert kept().received == {day: 1, day + timedelta(days=1): 1, day + timedelta(days=2): 1}
    assert kept().by_source == {}
    # Late outbound calls relink callbacks of later days; the sources' days count them.
    _write(env_a, _out("o-1", T0 - timedelta(days=3), status="no-answer"),
           _out("o-2", T0 - timedelta(days=1), number="+1 555 000 1111", status="busy"))
    figures = kept()
    assert figures.by_source == {day + timedelta(days=i): {"out-1": 1} for i in range(3)}
    assert figures.called_back == {day - timedelta(days=3): 1, day - timedelta(days=1): 1}
    assert figures.seconds == {day: [3 * 86400], day + timedelta(days=1): [2 * 86400],
                               day + timedelta(days=2): [5 * 86400]}
    # A more recent outbound call takes cb-a: o-1's day loses its called-back call.
    _write(env_a, _out("o-3", T0 - timedelta(hours=2), status="no-answer"))
    assert kept().called_back == {day: 1, day - timedelta(days=1): 1}
    # It turns answered, then a test call: back to o-1.
    _write(env_a, _out("o-3", T0 - timedelta(hours=2)))
    assert kept().called_back == {day - timedelta(days=1): 1}
    _write(env_a, _out("o-3", T0 - timedelta(hours=2), is_testing=True))
    assert kept().called_back == {day - timedelta(days=3): 1, day - timedelta(days=1): 1}
    # A callback answered later, one that becomes a test call, one no longer a callback.
    _write(env_a, _cb("cb-c", T0 + timedelta(days=2)))
    assert kept().answered == {day: 1, day + timedelta(days=1): 1, day + timedelta(days=2): 1}
    _write(env_a, _cb("cb-b", T0 + timedelta(days=1), number="+15550001111", is_testing=True))
    assert day + timedelta(days=1) not in kept().received
    _write(env_a, {**_cb("cb-a", T0), "agent_external_id": "out-2"})
    assert kept().received == {day + timedelta(days=2): 1}
    assert kept().called_back == {day - timedelta(days=3): 1}  # cb-c's, o-2's is a test's
    # A callback moved to another day by a late start; a new window; a deletion.
    _write(env_a, _cb("cb-c", T0 - timedelta(days=2)))
    assert kept().received == {day - timedelta(days=2): 1}
    assert kept().by_source == {day - timedelta(days=2): {"out-1": 1}}
    env_a.callback_match_days = 0
    env_a.save()
    assert kept().by_source == {}
    CallbackLink.objects.filter(environment=env_a).delete()
    assert _no_links(kept())


def test_time_to_callback_counts_only_callbacks_of_calls_not_answered(env_a):
    """The funnel's time to callback is the wait of someone we failed to reach: a callback
    after an ANSWERED outbound call is linked and matched (the vendor counts it by source)
    but has no place in the median — not in the kept days, the recount, the funnel, the
    alert's median nor the drill-down's column."""
    from reports.alerts.metrics import figures
    from reports.alerts.windows import Span
    from reports.queries.callback_funnel import callback_funnel

    _agents(env_a)
    day = T0.date()
    _write(env_a, _out("o-missed", T0 - timedelta(hours=2), status="no-answer"),
           _out("o-talked", T0 - timedelta(hours=30), number="+15550001111"),
           _cb("cb-waited", T0), _cb("cb-new-contact", T0, number="+15550001111"))
    assert _source(env_a, "cb-new-contact") == "o-talked"
    kept = _assert_kept(env_a, day - timedelta(days=2), day)
    assert kept.seconds == {day: [2 * 3600]}
    assert kept.by_source == {day: {"out-1": 2}}
    StreamState.objects.create(environment=env_a, stream="calls", cursor={
        "oldest": (day - timedelta(days=10)).isoformat(),
        "read_through": (T0 + timedelta(days=1)).isoformat()})
    totals = callback_funnel([env_a], day, day).totals
    assert (totals.matched, totals.median_seconds_to_callback) == (2, 2 * 3600)
    got = figures("median_time_to_callback", [env_a.pk],
                  Span(T0 - timedelta(days=1), T0 + timedelta(hours=1), day, day))
    assert (got.calls, got.median_seconds) == (1, 2 * 3600)
