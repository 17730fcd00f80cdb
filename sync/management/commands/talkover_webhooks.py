"""manage.py talkover_webhooks: the `webhooks` command under its older name (scripts and
docs of earlier releases call it)."""
from __future__ import annotations

from sync.management.commands.webhooks import Command as WebhooksCommand


class Command(WebhooksCommand):
    help = WebhooksCommand.help + " (Older name of `webhooks`.)"
