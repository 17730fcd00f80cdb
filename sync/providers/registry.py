"""The provider registry: the providers `SWITCHBOARD_PROVIDERS` lists (settings), by the
dotted path of their package, each declaring its `ProviderAdapter` (`sync.providers.adapter`)
as `ADAPTER` in its `provider.py`: how to build a client for an environment, which streams it
has, and what it has and lacks (its `spec`, which `SyncConfig.ready` hands to
`portal.providers` for the portal, the reports and the admin).

The engine (`sync.engine`) is provider-agnostic; adding a provider means adding a package
under `sync/providers/` and its line in `SWITCHBOARD_PROVIDERS`: see docs/extending.md,
"Add a provider".
"""
from __future__ import annotations

import importlib

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from portal.models import Environment
from sync.providers.adapter import ProviderAdapter


def load(package: str) -> ProviderAdapter:
    """The `ADAPTER` of the provider package `package` ("sync.providers.<name>")."""
    try:
        module = importlib.import_module(f"{package}.provider")
    except ModuleNotFoundError as exc:
        raise ImproperlyConfigured(f"SWITCHBOARD_PROVIDERS: {package!r} has no provider "
                                   f"module ({exc.name})") from exc
    adapter = getattr(module, "ADAPTER", None)
    if not isinstance(adapter, ProviderAdapter):
        raise ImproperlyConfigured(f"SWITCHBOARD_PROVIDERS: {package}.provider declares no "
                                   f"ADAPTER")
    return adapter


def load_all(packages: list[str]) -> dict[str, ProviderAdapter]:
    """Every listed provider's adapter, by its key, in the order listed."""
    adapters = [load(package) for package in packages]
    return {adapter.spec.key: adapter for adapter in adapters}


ADAPTERS: dict[str, ProviderAdapter] = load_all(settings.SWITCHBOARD_PROVIDERS)


def provider_for(environment: Environment) -> ProviderAdapter:
    """The adapter of the environment's provider; ValueError when none exists yet."""
    try:
        return ADAPTERS[environment.provider]
    except KeyError:
        raise ValueError(f"no sync adapter for provider {environment.provider!r} yet") from None
