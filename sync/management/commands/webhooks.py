"""manage.py webhooks ENV [--register] [--new-secret]: webhooks as sync triggers, for any
provider that sends them (`ProviderSpec.webhooks`); `--register` where its API registers them
(`ProviderSpec.registers_webhooks`), else the address and secret go in the vendor's own
settings. `talkover_webhooks` is the same command under its older name."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.models import Environment
from sync.webhooks.register import hook_url, register


class Command(BaseCommand):
    help = ("Show the webhook address and secret hint of an environment whose provider sends "
            "webhooks; --register registers it on every agent the token may manage, where the "
            "provider's API does that (exits non-zero when none).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("env", type=int, metavar="ENV", help="Environment id.")
        parser.add_argument("--register", action="store_true",
                            help="Register the address on every agent through the "
                                 "provider's API (where it has one).")
        parser.add_argument("--new-secret", action="store_true",
                            help="Make a new signing secret and print it once (register or "
                                 "set it upstream again afterwards, or the vendor's signatures "
                                 "stop matching).")
        parser.add_argument("--base-url", default=None,
                            help="The portal's public address (default PORTAL_BASE_URL).")

    def handle(self, *args, **options) -> None:
        env = Environment.objects.filter(pk=options["env"]).first()
        if env is None:
            raise CommandError(f"No environment with id {options['env']}.")
        spec = env.spec
        if not spec.webhooks:
            raise CommandError(f"Environment {env.pk}'s provider ({spec.label}) sends no "
                               f"webhooks.")
        if options["register"] and not spec.registers_webhooks:
            raise CommandError(f"{spec.label} webhooks are not registered through its API: "
                               f"set the address and secret (--new-secret shows one) in "
                               f"{spec.label}'s own settings.")
        if options["new_secret"] or (options["register"] and not env.webhook_secret_hint):
            # Registering signs every delivery: a secret made for it is shown, never silent.
            secret = env.replace_webhook_secret()
            self.stdout.write(f"New signing secret (shown once): {secret}")
        url = hook_url(env, options["base_url"])
        self.stdout.write(f"Webhook URL: {url}")
        self.stdout.write(f"Signing secret: {env.webhook_secret_hint or 'none (unsigned)'}")
        if not options["register"]:
            return
        result = register(env, options["base_url"])
        for agent in result.agents:
            mark = "ok  " if agent.ok else "FAIL"
            self.stdout.write(f"{mark} agent {agent.id} {agent.name}: {agent.message}")
        self.stdout.write(f"Registered on {result.registered} of {len(result.agents)} agents.")
        if result.error:
            raise CommandError(result.error)
        if not result.registered:
            raise CommandError("The webhook is registered on no agent: the schedule alone "
                               "keeps this environment current.")
