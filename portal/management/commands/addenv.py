"""addenv SLUG NAME --provider PROVIDER [--base-url URL] [--agent-ids 1,2] --token-stdin

Before saving, one request tests the token and URL (`portal.upstream_check`); a failing test
saves nothing and exits non-zero. `--no-check` skips it (an upstream that is down for now).
It ends with one line saying what it created: "Added environment 3 'Sales' to acme (…)".
"""
from __future__ import annotations

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from portal import audit, providers, upstream_check
from portal.management.organization_command import OrganizationCommand
from portal.models import Environment, Provider
from portal.pages.forms import parse_agent_ids


def _defaults() -> str:
    """Each provider's default address ("none": an address must be given)."""
    return "; ".join(f"{key}: {spec.default_base_url or 'none'}"
                     for key, spec in providers.registered().items())


class Command(OrganizationCommand):
    help = "Add an upstream environment. The token is read from standard input, never argv."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("name", help="The environment's name, unique in the organisation.")
        parser.add_argument("--provider", required=True, choices=Provider.values,
                            help="The upstream's kind.")
        parser.add_argument("--base-url", default="",
                            help="The upstream's address, as the host or with its API prefix "
                                 f"(defaults: {_defaults()}).")
        parser.add_argument("--agent-ids", default="",
                            help="The agent ids to mirror, for a provider whose agents cannot "
                                 f"be listed ({providers.labels_having('agent_ids')}), e.g. "
                                 "12,34")
        parser.add_argument("--token-stdin", action="store_true", required=True,
                            help="Read the environment token from standard input.")
        parser.add_argument("--no-check", action="store_true",
                            help="Save without testing the token and URL first.")

    def handle(self, slug: str, name: str, provider: str, base_url: str, agent_ids: str,
               **options) -> None:
        org = self.organization(slug)
        if Environment.objects.for_organization(org).filter(name=name).exists():
            raise CommandError(f"{slug} already has an environment named {name!r}.")
        token = sys.stdin.readline().strip()
        if not token:
            raise CommandError("No token on standard input (pipe it in: echo $TOKEN | ...).")
        env = Environment(organization=org, name=name, provider=provider, base_url=base_url)
        if agent_ids:
            try:
                env.provider_settings = {"agent_ids": parse_agent_ids(agent_ids, provider)}
            except ValidationError as exc:
                raise CommandError(f"--agent-ids: {' '.join(exc.messages)}") from exc
        env.set_token(token)
        try:
            env.full_clean()
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if not options["no_check"]:
            result = upstream_check.run(provider, env.effective_base_url, token, env.agent_ids)
            if not result.ok:
                where = f" ({result.field.replace('_', '-')})" if result.field else ""
                raise CommandError(f"Connection test failed{where}: {result.message} "
                                   "Nothing was saved (--no-check skips the test).")
            self.stderr.write(f"Connection test: {result.message}")
        env.save()
        secret = env.first_webhook_secret()
        audit.record("environment.created", organization=org, target=env, provider=provider)
        agents = f", agents {', '.join(map(str, env.agent_ids))}" if env.agent_ids else ""
        self.stdout.write(f"Added environment {env.pk} {name!r} to {slug} "
                          f"({env.get_provider_display()}, {env.effective_base_url}{agents}).")
        if secret:
            # Shown once, here.
            self.stderr.write(f"Webhook signing secret (shown only now): {secret}")
