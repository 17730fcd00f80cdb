"""The connection test run before an environment is saved: one cheap request, a plain answer.

The checks themselves need the provider clients, which live in `sync/`; `portal/` imports
nothing from `sync/`, so `sync` registers one check per provider here when Django starts
(`sync.apps.SyncConfig.ready`) and the doors that save environments (settings form, admin,
`addenv`) call `run`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class CheckResult:
    """What the test found: ok, or which field is wrong (`token` / `base_url`) and why."""

    ok: bool
    message: str
    field: str | None = None


Check = Callable[[str, str, list[int]], CheckResult]
_CHECKS: dict[str, Check] = {}


def register(provider: str, check: Check) -> None:
    _CHECKS[provider] = check


def run(provider: str, base_url: str, token: str, agent_ids: list[int] | None = None
        ) -> CheckResult:
    """Test `token` against `base_url` (the effective URL) for `provider`."""
    check = _CHECKS.get(provider)
    if check is None:
        return CheckResult(False, _("No connection test exists for this provider."), "provider")
    return check(base_url, token, list(agent_ids or []))
