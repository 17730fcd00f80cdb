"""What differs per provider, declared once in each provider's package and looked up here.

Each provider package of the sync declares a `ProviderSpec` (`sync/providers/<name>/spec.py`);
`sync.apps.SyncConfig.ready` registers every one (`portal/` imports nothing from `sync/`, as
with `portal.upstream_check`). The portal, the reports and the admin ask `spec_for(provider)`
(or `environment.spec`) what a provider has, and never compare provider names: a new
provider is its package plus its line in `SWITCHBOARD_PROVIDERS` (settings).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class ProviderSpec:
    """One provider's differences from the others, as the rest of the code reads them."""

    key: str  # the stored value (`portal.models.Provider`)
    label: str  # its name, as written everywhere ("Origins AI")
    # Call fields (model names; "recording" lives in the raw record) it never sends: a page
    # says "Not sent by …" instead of "–", and a filter on them is not offered.
    not_sent: frozenset[str] = frozenset()
    # The mirror's status words its calls can have (the Talkover-compatible listing's choices).
    statuses: tuple[str, ...] = ()
    # Forms: its agents cannot be listed, so an environment names its agent ids (required).
    agent_ids: bool = False
    # One agent id as it names them, from what a person typed ("12" → 12); ValueError (its
    # message said to the person) for text that is none. None: ids are kept as typed.
    parse_agent_id: Callable[[str], Any] | None = None
    # It sends webhooks: a signing secret and `/hooks/<provider>/…` deliveries.
    webhooks: bool = False
    # Its API registers the hook URL on every agent (`sync.webhooks.register`); otherwise the
    # address and secret are given to the provider in its own dashboard.
    registers_webhooks: bool = False
    # Its calls carry voice-quality fields: Quality rollups, tab, page and API.
    quality: bool = False
    # Every sync reads the whole history (no date filter): a day is covered once a complete
    # read ended after it, not by a cursor of days.
    whole_history: bool = False
    # It has callback statistics: the callback funnel's outbound side is kept.
    callback_stats: bool = False
    # It has no default address: an environment must give its base URL.
    base_url_required: bool = False
    # Its call records are stored without the keys the row's columns give back exactly: the
    # form's name (its package's `stored_form.py`, read by `sync.stored_record`; "" = stored
    # whole).
    stored_form: str = ""
    # Base-URL rules (`portal.upstream_url`): the path its API hangs from, the endings of a
    # pasted address that stand for it (replaced by `api_prefix`), an example of the accepted
    # forms, and the address used when an environment gives none ("" = none).
    api_prefix: str = ""
    accepted_suffixes: tuple[str, ...] = ()
    expected_form: str = "https://host"
    default_base_url: str = ""
    # Its calls carry their own cost (the vendor's figure, not our estimate).
    cost: bool = False
    # It sends transcripts with its calls.
    transcripts: bool = False
    # The Talkover-compatible API (`reports/talkover/`) serves its environments.
    compatible_api: bool = False
    # Its own words for a figure it sends nothing to compute ("not reported by Talkover"): a
    # report shows them in place of the figure, never 0.
    not_reported: str = ""
    # Its webhook deliveries' signature: (headers, body, secret) → None (no signature sent),
    # True or False (`sync.webhooks.receiver`, the one `/hooks/<provider>/<key>/` door).
    # Fields of its raw call record the call page shows as sent: (label, dotted path).
    call_page_fields: tuple[tuple[str, str], ...] = ()
    # Personal data in its raw records beyond the keys every provider shares
    # (`sync.privacy.scrub`): kind ("numbers", "transcripts", "recordings") → raw keys cleared.
    personal_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    verify_signature: Callable[[Mapping[str, str], bytes, str], bool | None] | None = None
    # Its own secret scheme: (environment) → the secret its deliveries are signed with (e.g.
    # the account's API key). None: a secret Switchboard makes and the person gives it.
    webhook_secret: Callable[[Any], str] | None = None
    # Its words for that secret on Settings → Webhooks ("your account's API key").
    webhook_secret_words: str = ""

    @property
    def own_webhook_secret(self) -> bool:
        """Its deliveries are signed by its own scheme: no secret is made, shown or replaced."""
        return self.webhook_secret is not None


_SPECS: dict[str, ProviderSpec] = {}


def register(spec: ProviderSpec) -> None:
    _SPECS[spec.key] = spec


def spec_for(provider: str) -> ProviderSpec:
    """The spec of `provider`; one with no capability for a provider nobody registered."""
    return _SPECS.get(provider) or ProviderSpec(key=provider, label=provider)


def registered() -> dict[str, ProviderSpec]:
    return dict(_SPECS)


def labels_having(capability: str) -> str:
    """The labels of the providers with `capability`, for a sentence ("A, B")."""
    return ", ".join(str(_SPECS[key].label) for key in having(capability))


def having(capability: str) -> list[str]:
    """The providers whose spec has `capability` (a boolean field), for a query's `__in`."""
    if capability not in {f.name for f in fields(ProviderSpec)}:
        raise ValueError(f"no provider capability {capability!r}")
    return [key for key, spec in _SPECS.items() if getattr(spec, capability) is True]
