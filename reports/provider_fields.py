"""Which call fields each provider never sends, so a page says so instead of showing "–".

Each provider declares them once, in its spec (`not_sent` in `sync/providers/<name>/spec.py`,
read through `portal.providers`): Talkover sends no answer or end time, billed duration,
hang-up cause, transcript, recording or latency. An empty value there is not "unknown for
this call", it is "never known", and the call page and the explorer's filters must tell the
two apart (a transcript search over Talkover calls could only ever match nothing).
"""
from __future__ import annotations

from collections.abc import Iterable

from portal.providers import spec_for


def not_sent(provider: str) -> frozenset[str]:
    """The fields `provider` never sends (its spec's `not_sent`, declared in its package;
    none for a provider nobody registered)."""
    return spec_for(provider).not_sent


def any_sends(providers: Iterable[str], field: str) -> bool:
    """Whether at least one of `providers` sends `field` (a filter on it can match)."""
    return any(field not in not_sent(p) for p in providers)
