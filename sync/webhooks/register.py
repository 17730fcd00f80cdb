"""Register an environment's hook URL on every agent, and say per agent what happened.

Through the provider's documented endpoint, as its adapter's `webhook_registration` writes
the request (Talkover's: `POST /agents/{agent_id}/webhooks`); a provider without one is not
registered through its API (`ProviderSpec.registers_webhooks`). A token may
not be allowed to manage webhooks (403), or an agent may have none to manage (404): that is
said plainly per agent, never raised, and kept on the environment for the settings page.
One attempt per agent, no retry: a POST repeated after a lost answer would register twice.
Each request goes through the token's shared budget like the sync's, and through the one
outbound door (`sync.providers.transport.exchange`): no redirect followed, the whole answer
within `hook_limits` (a short deadline, a small decompressed cap), its body never shown. An
answer too slow or too large ends the registration there (the remaining agents are "not
tried"): such an upstream would hold the shared worker once per agent.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import requests
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from portal.models import Environment
from sync.providers.errors import AnswerTooLarge, AnswerTooSlow, BadResponse, UpstreamError
from sync.providers.registry import provider_for
from sync.providers.transport import exchange, hook_limits


def hook_url(env: Environment, base_url: str | None = None) -> str:
    """The address the upstream calls for `env` (under `base_url`, default PORTAL_BASE_URL)."""
    base = (base_url or settings.PORTAL_BASE_URL).rstrip("/")
    return base + reverse("webhook", args=[env.provider, env.ensure_webhook_key()])


@dataclass
class AgentResult:
    id: str
    name: str
    ok: bool
    http: int | None
    message: str


@dataclass
class Registration:
    url: str
    at: str
    agents: list[AgentResult] = field(default_factory=list)
    error: str = ""

    @property
    def registered(self) -> int:
        return sum(1 for a in self.agents if a.ok)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "registered": self.registered, "total": len(self.agents)}


def _explain(status: int) -> str:
    if status in (401, 403):
        return f"HTTP {status}: this token may not manage this agent's webhooks"
    if status == 404:
        return "HTTP 404: no such agent, or webhooks are not available for it"
    if status == 429:
        return "HTTP 429: rate limited; register again later"
    return f"HTTP {status}: not registered"


def register(env: Environment, base_url: str | None = None) -> Registration:
    """Register on every agent; the outcome is returned and saved on `env`."""
    url = hook_url(env, base_url)
    result = Registration(url=url, at=timezone.now().isoformat())
    adapter = provider_for(env)
    if not env.spec.registers_webhooks or adapter.webhook_registration is None:
        result.error = "This provider's webhooks are not registered through its API."
        return _save(env, result)
    secret = env.get_webhook_secret()
    if not secret:
        # Deliveries are always signed, and a secret is made only where someone sees it once
        # (the page and the command make one before registering): never here, silently.
        raise ValueError(f"environment {env.pk} has no webhook signing secret: make one "
                         f"(shown once) before registering")
    client = adapter.client(env)
    try:
        agents = [a for page in client.agent_pages() for a in page.items
                  if isinstance(a, dict) and a.get("id") not in (None, "")]
        hostile = ""
        for agent in agents:
            if hostile:
                result.agents.append(AgentResult(str(agent["id"]),
                                                 str(agent.get("name") or "")[:200], False,
                                                 None, f"not tried: {hostile}"))
                continue
            path, body = adapter.webhook_registration(str(agent["id"]), url, secret)
            outcome, bounded = _register_one(client, agent, path, body)
            result.agents.append(outcome)
            hostile = outcome.message if bounded else ""
    except UpstreamError as exc:
        result.error = str(exc)
    finally:
        client.close()
    return _save(env, result)


def _register_one(client: Any, agent: dict[str, Any], path: str, body: dict[str, Any]
                  ) -> tuple[AgentResult, bool]:
    """The agent's outcome, and whether the answer broke a bound (then stop: see above)."""
    agent_id, name = str(agent["id"]), str(agent.get("name") or "")[:200]
    client.check_address()
    if client.budget is not None:
        client.budget.acquire(client.on_wait)
    client.requests += 1
    try:
        answer = exchange("POST", f"{client.base_url}/{path}", hook_limits(),
                          session=client.session, json=body, timeout=client.timeout,
                          where=f"POST /{path}", path=path)
    except (AnswerTooSlow, AnswerTooLarge, BadResponse) as exc:
        # "answer too slow (not complete within 10 s)": the bound met, nothing of the body.
        return AgentResult(agent_id, name, False, None, str(exc).split(": ", 1)[-1]), True
    except requests.RequestException as exc:
        return AgentResult(agent_id, name, False, None,
                           f"could not reach the upstream ({type(exc).__name__})"), False
    if 200 <= answer.status < 300:
        return AgentResult(agent_id, name, True, answer.status, "registered"), False
    return AgentResult(agent_id, name, False, answer.status, _explain(answer.status)), False


def _save(env: Environment, result: Registration) -> Registration:
    env.webhook_registration = result.as_dict()
    env.save(update_fields=["webhook_registration"])
    return result
