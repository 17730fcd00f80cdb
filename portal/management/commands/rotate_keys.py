"""rotate_keys: re-encrypt every stored secret under the first FIELD_ENCRYPTION_KEYS key."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal import crypto
from portal.models import Environment


class Command(BaseCommand):
    help = "Re-encrypt every environment token under the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, **options) -> None:
        rotated = 0
        with transaction.atomic():
            for env in Environment.objects.select_for_update().exclude(token_ciphertext=""):
                try:
                    env.token_ciphertext = crypto.rotate(env.token_ciphertext)
                except Exception as exc:  # InvalidToken: no configured key decrypts it
                    raise CommandError(
                        f"Environment {env.pk} cannot be decrypted with any configured key; "
                        "nothing was changed."
                    ) from exc
                if env.webhook_secret_ciphertext:  # the Talkover webhook signing secret
                    env.webhook_secret_ciphertext = crypto.rotate(env.webhook_secret_ciphertext)
                env.save(update_fields=["token_ciphertext", "webhook_secret_ciphertext"])
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} token{'' if rotated == 1 else 's'} under the "
                          "first key.")
