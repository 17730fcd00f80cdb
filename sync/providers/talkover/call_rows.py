"""One listing page of Talkover calls into rows: checked, agents stubbed, refusals kept.

Shared by the whole-day reads (`talkover.streams`) and the hot-day refresh
(`talkover.hot_days`): both turn a page's items into Call rows the same way.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sync import quarantine
from sync.models import Agent, Call
from sync.providers.records import CALL_UPDATE_FIELDS, Rejected
from sync.providers.talkover.records import talkover_call
from sync.providers.talkover.shape import CallValues, call_values, unknown_words
from sync.run_context import RunContext
from sync.write.upsert import CanonicalJSON, Counts, Row, canonical, upsert


class AgentIndex:
    """External agent id → Agent pk; agents first seen in a call get a stub row."""

    def __init__(self, ctx: RunContext) -> None:
        self.env = ctx.environment
        self.pks = dict(Agent.objects.filter(environment=self.env)
                        .values_list("external_id", "pk"))

    def ensure(self, calls: list[CallValues]) -> None:
        """Stub rows for agents first met in these (checked) calls."""
        missing: dict[str, CallValues] = {}
        for call in calls:
            if call.agent_id and call.agent_id not in self.pks:
                missing[call.agent_id] = call
        if not missing:
            return
        Agent.objects.bulk_create(
            [Agent(environment=self.env, external_id=i, name=c.agent_name,
                   label=c.agent_label) for i, c in missing.items()],
            ignore_conflicts=True)
        self.pks.update(Agent.objects.filter(environment=self.env, external_id__in=missing)
                        .values_list("external_id", "pk"))


def page_calls(ctx: RunContext, agents: AgentIndex, items: list[Any], day: date
               ) -> tuple[list[Row], list[tuple[Any, str]]]:
    """(rows to write, (item, reason) per refused record) of one listing page. Every copy of
    an id repeated in the page is quarantined first (`quarantine.drop_duplicates`)."""
    checked, refused = check_calls(ctx, quarantine.drop_duplicates(ctx, items, id_of, day=day))
    agents.ensure([v for _, v, _ in checked])
    env = ctx.environment
    return [talkover_call(env, item, agents.pks, v, raw) for item, v, raw in checked], refused


def store_calls(ctx: RunContext, day: date, calls: list[Row],
                refused: list[tuple[Any, str]]) -> Counts:
    """Write one page's calls and quarantine its refused records (inside the caller's page
    transaction): the calls stream's one call into the upsert layer."""
    for item, reason in refused:
        quarantine.reject(ctx, item, reason, day=day, upstream_id=id_of(item))
    return upsert(Call, ctx.environment, calls, key="external_id",
                  update_fields=CALL_UPDATE_FIELDS, run_keys=ctx.call_keys)


def id_of(item: Any) -> Any:
    return item.get("id") if isinstance(item, dict) else None


def check_calls(ctx: RunContext, items: list[Any]
                ) -> tuple[list[tuple[Any, CallValues, CanonicalJSON]], list[tuple[Any, str]]]:
    """((item, checked values, canonical JSON) per good call, (item, reason) per refused one).

    Values outside the documented sets are tallied on the run here, once per call.
    """
    checked, refused = [], []
    for item in items:
        raw = canonical(item)
        try:
            values = call_values(item, raw.text)
        except Rejected as exc:
            refused.append((item, str(exc)))
            continue
        for name, value in unknown_words(values):
            ctx.count_unknown(name, value, values.id)
        checked.append((item, values, raw))
    return checked, refused
