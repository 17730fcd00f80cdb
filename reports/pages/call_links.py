"""What the call page says of the callback funnel: "called back after 3 h 12 m by … → [the
callback]" on an outbound call, "callback of [the call]" (or unmatched) on a callback — from
the sync's stored links, read through the request's tenant door."""
from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from sync.models import Agent, Call, CallbackLink
from sync.models.core import ANSWERED_STATUSES


@dataclass(frozen=True)
class Linked:
    """The other call of one link (None when it is no longer mirrored) and the gap."""

    call: Call | None
    seconds: int | None
    agent_name: str


@dataclass(frozen=True)
class CallLinks:
    callback_of: Linked | None  # this call is a matched callback
    unmatched: bool  # this call is a callback no outbound call explains
    match_days: int
    called_back: list[Linked]  # this outbound call was answered back by these callbacks
    # Time to callback is said of an outbound call nobody answered only: an answered call
    # was not waiting for anyone, so its later callbacks are listed without a wait.
    waited: bool = True


def call_links(request: HttpRequest, call: Call) -> CallLinks:
    """Two queries for the links, one for the calls at their other end."""
    links = request.tenant.scoped(CallbackLink).filter(environment_id=call.environment_id)
    own = links.filter(callback_external_id=call.external_id).first()
    backs = list(links.filter(source_external_id=call.external_id, is_testing=False)
                 .order_by("callback_started_at")[:20])
    wanted = [(link.callback_external_id, link.callback_started_at) for link in backs]
    if own is not None and own.matched:
        wanted.append((own.source_external_id, own.source_started_at))
    calls = request.tenant.scoped(Call).filter(environment_id=call.environment_id)
    found: dict[str, Call] = {}
    if wanted:
        for other in calls.filter(external_id__in=[w[0] for w in wanted],
                                  started_at__in=[w[1] for w in wanted]):
            found[other.external_id] = other
    names = dict(request.tenant.scoped(Agent).filter(
        environment_id=call.environment_id,
        external_id__in=[b.callback_agent_external_id for b in backs]).values_list(
            "external_id", "name"))
    return CallLinks(
        callback_of=Linked(found.get(own.source_external_id), own.seconds_to_callback, "")
        if own is not None and own.matched else None,
        unmatched=own is not None and not own.matched,
        match_days=call.environment.callback_match_days,
        called_back=[Linked(found.get(b.callback_external_id), b.seconds_to_callback,
                            names.get(b.callback_agent_external_id, ""))
                     for b in backs],
        waited=call.status not in ANSWERED_STATUSES)
