"""Deliveries served during an environment's first back-fill.

A first back-fill holds its environment while it reads (one run per environment,
`sync.locks`) and spends the token's budget; at the plan's pace every run of it is deferred
and continued. A webhook round (`sync.tasks.webhook_sync`) then finds the environment held or
the budget spent, and a call that ended showed only at the next continuation's refresh of
today (p90 80 s, `bench/backfill_pace.py --webhooks`). So, once today is in (the receiver
takes deliveries from then on, `sync.coverage.newest_mirrored`):

- the back-fill's run serves the pending hints itself between its pages of older days
  (`HintServer`, called by the stream), with the stream's hinted reading (the adapter's
  `hinted_streams`: what a webhook round runs), paced as webhook rounds are and with them
  (`sync.webhooks.pacing`), on the webhooks' share of the budget;
- while deliveries come (one accepted within the last `RESERVE_WINDOWS` budget windows:
  `coalesce.recent`), the back-fill's own reading leaves free what the rounds need
  (`split`): what they spend in a window (the larger of this one's and the last one's) and
  `MIN_RESERVE` besides (twice that, and at least half the share, for a window after a
  round found the budget spent: `pacing.starved`), at most the webhooks' share, for the
  rounds that run while the back-fill waits between its runs. A fixed share left 40 % idle:
  the rounds of a 20,000-a-day back-fill used 266 of the ~1,800 requests it held; twice the
  two windows' sum left a busy hour's back-fill about a fifth.

Every request still takes its ticket from the token's whole budget: the limit holds.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from portal.models import Environment
from sync.budget import CONTINUATION_TICKETS, BudgetExhausted, RequestBudget
from sync.webhooks import coalesce, hints, pacing

# The least left free while deliveries come: a round reads a named call in one or two
# requests. Four kept a busy hour's back-fill at 84–87 % of what the rounds and refreshes
# left it; two (with the budget's finer buckets) 87–91 %, freshness p90 5–6 s (4–5 before;
# `bench/backfill_pace.py --days 10 --calls-per-day 20000 --factor 3 --webhooks --at 14:00`);
# one, with twice it left for a window after a starved round, 92.1–92.4 % and p90 4 s at
# real time (`--factor 1`; docs/operations.md).
MIN_RESERVE = 1
# Deliveries count as coming while one came within this many budget windows. A quiet hour
# of a 20,000-a-day environment delivers about one a minute, often none in a whole window:
# with the reserve kept only after a delivery in the last window, the back-fill took the
# whole budget of the window the next one came in, and its round waited for the window after
# (p90 34 s, max 49 s; `bench/backfill_pace.py --days 10 --calls-per-day 20000 --webhooks`
# at 01:20 UTC). Ten windows of a quiet environment cost the back-fill `MIN_RESERVE` of 90
# requests each.
RESERVE_WINDOWS = 10


def split(environment: Environment, budget: RequestBudget, reads_hints: bool
          ) -> tuple[RequestBudget, RequestBudget | None]:
    """(the budget a run other than a webhook round reads with, the webhooks' share it
    serves hints with: None but during a first back-fill of a provider that reads hints)."""
    if environment.last_synced_at is not None or not reads_hints:
        return budget, None
    share = pacing.webhook_share()
    reserve = 0
    # The back-fill keeps at least what a continuation needs to move on (a smaller budget
    # leaves no share free).
    if budget.configured * (1 - share) >= CONTINUATION_TICKETS and coalesce.recent(
            environment.pk, RESERVE_WINDOWS * budget.window):
        most = int(budget.configured * share)
        needed = MIN_RESERVE + pacing.spent(environment.pk, budget.window)
        if pacing.starved(environment.pk):  # they wanted more than they had: twice it
            needed = max(2 * needed, most // 2)
        reserve = min(most, needed)
    own = budget.share(1 - reserve / budget.configured, "bulk") if reserve else budget
    return own, budget.share(share, "hook")


class HintServer:
    """Serves an environment's pending hints from inside the run that holds it."""

    def __init__(self, ctx, read: Callable[..., None], budget: RequestBudget) -> None:
        self.ctx, self.read, self.budget = ctx, read, budget

    def due(self) -> bool:
        """Hints wait and the webhooks' pace lets a round start now (cache reads only)."""
        env_id = self.ctx.environment.pk
        return hints.pending(env_id) and pacing.until_next(env_id) <= 0

    def serve(self) -> None:
        """One round over the pending hints on the webhooks' share of the budget (an event
        that named no call: the heads alone); hints the spent share left unread wait for
        the next round."""
        ctx, env = self.ctx, self.ctx.environment
        taken, blind = hints.take(env.pk)
        client = ctx.client
        started, before, own = time.time(), client.requests, client.budget
        client.budget = self.budget
        try:
            self.read(ctx, taken, lambda hint: hints.push(env.pk, hint))
        except BudgetExhausted:
            starved = True
            for hint in taken:
                hints.push(env.pk, hint)
            if blind:
                hints.push(env.pk, None)
        else:
            starved = False
        finally:
            client.budget = own
        made = client.requests - before
        # Counted apart from the back-fill's own reading (`bench/backfill_pace.py`).
        ctx.add("hint_requests", made)
        pacing.ran(env, started, made, starved)
