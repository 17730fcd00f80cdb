"""The simulator's webhook deliveries of a window, through the real receiver, and real webhook
rounds after them, the clock moved by `time_machine` (`bench/incremental_cost.py --webhooks`).

The deliveries are the simulator's own (`Webhooks.clock_moved` over the window: the body and
signature it sends, to the hook URL the real registration gave each agent), each posted in
the second its call ends through Django's test client to `sync.webhooks.receiver.hook`.
Where the receiver would queue `sync.webhook_sync`, the task is noted instead, so the bench
decides when it runs:

* `paced`: as the product runs it: at once, or when `sync.webhooks.pacing` lets the next round
  start (what the last one cost, at the production budget: the model's default requests a
  minute, its webhook share enforced by the budget, whose waits move the clock);
* `one round`: every delivery of the window taken by one round at its end (the budget lifted:
  the round's cost is the same, whatever it would wait).

A round is the task's body (`webhook_sync.apply`: in process), its requests the simulator's.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

PACED, ONE_ROUND = "paced", "one round"
MODES = (PACED, ONE_ROUND)
HOOK_HOST = "localhost"  # allowed by the settings' default ALLOWED_HOSTS
# A queued task starts this long after the delivery that queued it (a worker picking it up):
# a round begun in the very instant of a delivery would count it as an event since its start
# and run once more at once, for nothing.
PICK_UP_SECONDS = 0.001
# A line per delivery and per task: thousands in a busy window, nothing the tables lack.
QUIETED = ("portal.request", "celery.app.trace")


@dataclass
class Window:
    """What the window's deliveries and rounds did."""

    deliveries: int = 0
    answers: Counter[int] = field(default_factory=Counter)
    rounds: int = 0
    blind_rounds: int = 0  # rounds without usable hints: the hot days refreshed whole
    left_queued: bool = False  # a round queued, not yet due at the window's end
    # Past the window's end by this (s): a round that waited for the budget ran over it; the
    # upstream's clock is never moved back, so the scheduled run comes that much later.
    overran: int = 0
    requests: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    costs: list[int] = field(default_factory=list)  # requests per round, in order


def register(env: Any) -> None:
    """A signing secret and the hook URL on every agent, through the real registration."""
    from sync.webhooks.register import register as register_agents

    env.new_webhook_secret()
    env.save()
    done = register_agents(env, base_url=f"http://{HOOK_HOST}")
    assert done.agents and done.registered == len(done.agents), done.as_dict()


def request_kind(path: str, query: dict[str, str]) -> str:
    """A request of the simulator's log, named as the hot-day summaries name them."""
    from sync.providers.talkover.hot_window import NON_FINAL

    if not path.rstrip("/").endswith("/calls"):
        return path.split("/api/v1/", 1)[-1]
    if query.get("search"):
        return "search"
    status = query.get("status")
    if status is None:
        return "head"
    if query.get("per_page") == "1":
        return "count"
    return "open status page" if status in NON_FINAL else "final status page"


def _expire_hints(env_id: int, delivered: list[tuple[float, int]], done: int) -> int:
    """Drop the hints older than `HINT_SECONDS` at our (moved) clock, as Redis would have at
    the upstream's pace: its expiry counts real seconds, and the window passes in fewer.
    `delivered`: (when, the hint counter after it) per delivery second, earliest first;
    `done`: the hints dropped already (returned anew)."""
    from django.core.cache import cache

    from sync.webhooks import hints

    old = [n for at, n in delivered if at <= time.time() - hints.HINT_SECONDS]
    if old and old[-1] > done:
        cache.delete_many([hints.entry_key(env_id, n) for n in range(done + 1, old[-1] + 1)])
        return old[-1]
    return done


def _ends(sim: Any, env_key: str, start: int, end: int) -> dict[str, int]:
    """Call id -> end (epoch s) of the calls that end in (start, end]."""
    from sync.simulator.catalog import ordinal_of

    store = sim.store(env_key, "talkover")
    ends = {}
    for ordinal in range(max(store.first, ordinal_of(start) - 1), ordinal_of(end) + 1):
        for rec in store.day(ordinal).recs:
            if start < rec.t_end <= end:
                ends[rec.id] = rec.t_end
    return ends


def _deliveries(sim: Any, env_key: str, start: int, end: int) -> list[tuple[int, list]]:
    """The simulator's delivery jobs for the calls that end in (start, end], by end second,
    earliest first. Its registrations are then put aside: moving its clock delivers nothing
    more (the bench posts them)."""
    hooks = sim.webhooks
    jobs: list = []
    hooks._deliver_all = jobs.extend  # captured, not posted on the simulator's thread
    try:
        with sim.lock:
            hooks.clock_moved(sim, start, end)
        hooks.wait()
    finally:
        del hooks._deliver_all
    hooks.registrations = {}
    ends = _ends(sim, env_key, start, end)
    by_end: dict[int, list] = {}
    for job in jobs:
        by_end.setdefault(ends[job[2]], []).append(job)
    return sorted(by_end.items())


@contextmanager
def _wired(sim: Any, traveller: Any, queued: list[int]) -> Iterator[Callable[[list], None]]:
    """The receiver's queue a local list, the simulator's posts the test client's, a budget's
    wait a move of the clock; yields `deliver(jobs)`: the simulator posting those jobs."""
    from django.test import Client

    from sync.budget import RequestBudget
    from sync.providers.talkover.simulator import webhooks as sim_webhooks
    from sync.webhooks import receiver

    client = Client(HTTP_HOST=HOOK_HOST)

    def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        rest = dict(headers)
        kind = rest.pop("Content-Type")
        return client.post(urlsplit(url).path, data=body, content_type=kind,
                           headers=rest).status_code

    def enqueue(name: str, *args: Any, **kwargs: Any) -> None:
        assert name == "sync.webhook_sync", name
        queued.append(args[0])

    saved = (receiver.enqueue, sim_webhooks._post, RequestBudget.__init__.__kwdefaults__)
    levels = {name: logging.getLogger(name).level for name in QUIETED}
    for name in QUIETED:
        logging.getLogger(name).setLevel(logging.WARNING)
    receiver.enqueue = enqueue
    sim_webhooks._post = post
    # The clock held, a budget that waits would wait for ever: its wait moves the clock.
    RequestBudget.__init__.__kwdefaults__ = {**saved[2], "sleep": traveller.shift}
    try:
        yield lambda jobs: sim_webhooks.Webhooks._deliver_all(sim.webhooks, jobs)
    finally:
        receiver.enqueue, sim_webhooks._post = saved[0], saved[1]
        RequestBudget.__init__.__kwdefaults__ = saved[2]
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def drive(sim: Any, server: Any, env: Any, mode: str, end: datetime, traveller: Any,
          env_key: str = "bench") -> Window:
    """Deliver the calls that end from the simulator's now to `end`, with rounds as `mode`
    says; the simulator's clock (and `traveller`'s, held) are at `end` afterwards, or later
    when a round's budget waits ran past it (`Window.overran`). The
    simulator's request log and count start again here (what the rounds asked)."""
    from django.core.cache import cache

    from portal.models import Environment
    from sync.models import SyncRun
    from sync.models.core import Trigger
    from sync.tasks import webhook_sync
    from sync.webhooks import hints, pacing

    start_ts, end_ts = sim.now_ts(), int(end.timestamp())
    groups = _deliveries(sim, env_key, start_ts, end_ts)
    out = Window(deliveries=sum(len(jobs) for _, jobs in groups))
    queued: list[int] = []
    lifted = env.requests_per_minute
    if mode == PACED:
        Environment.objects.filter(pk=env.pk).update(
            requests_per_minute=Environment._meta.get_field("requests_per_minute").default)
    server.clear_log()
    runs = SyncRun.objects.filter(environment=env, trigger=Trigger.WEBHOOK)
    seen = set(runs.values_list("pk", flat=True))

    def move(to: float) -> None:
        to = max(to, time.time())  # a budget's wait may have moved the clock past it
        traveller.move_to(datetime.fromtimestamp(to, UTC))
        sim.set_now(datetime.fromtimestamp(int(to), UTC))

    delivered: list[tuple[float, int]] = []
    expired = 0

    def run_round() -> None:
        nonlocal expired
        move(time.time() + PICK_UP_SECONDS)
        queued.clear()
        expired = _expire_hints(env.pk, delivered, expired)
        webhook_sync.apply((env.pk,), throw=True)
        for run in runs.exclude(pk__in=seen).order_by("pk"):
            seen.add(run.pk)
            out.rounds += 1
            out.blind_rounds += "hinted" not in run.details
            out.costs.append(run.requests)

    def due() -> float:
        return time.time() + pacing.until_next(env.pk)

    try:
        with _wired(sim, traveller, queued) as deliver:
            for at, jobs in groups:
                while mode == PACED and queued and due() <= at:
                    move(due())
                    run_round()
                move(at)
                deliver(jobs)
                delivered.append((at, cache.get(hints._counter(env.pk)) or 0))
            while mode == PACED and queued and due() <= end_ts:
                move(due())
                run_round()
            move(end_ts)
            if mode == ONE_ROUND and queued:
                run_round()
            out.left_queued = bool(queued)
    finally:
        Environment.objects.filter(pk=env.pk).update(requests_per_minute=lifted)
    # Never back: the rounds read the upstream at the later clock.
    out.overran = max(0, int(time.time()) - end_ts)
    sim.set_now(datetime.fromtimestamp(end_ts + out.overran, UTC))
    out.answers.update(d.status for d in sim.webhooks.log)
    out.requests = server.request_count
    out.kinds.update(request_kind(r.path, r.query) for r in server.request_log)
    server.clear_log()
    return out
