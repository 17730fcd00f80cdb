"""`manage.py evaluate_alerts [--dry-run] [--now ISO]`: one evaluation pass, like the beat."""
from __future__ import annotations

from datetime import datetime

from django.core.management.base import BaseCommand

from reports.alerts.evaluate import evaluate_rules
from reports.management.commands.send_summaries import parse_now


class Command(BaseCommand):
    help = ("Evaluate every enabled alert rule once, print one line per rule and send the "
            "notifications of the changes (exactly once per change).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="Judge the rules; record and send nothing.")
        parser.add_argument("--now", type=parse_now,
                            help="Pretend it is this time (ISO 8601; UTC if no offset).")

    def handle(self, *args, dry_run: bool = False, now: datetime | None = None,
               **options) -> None:
        outcomes = evaluate_rules(now, dry_run=dry_run)
        for outcome in outcomes:
            self.stdout.write(outcome.line())
        changes = sum(1 for o in outcomes if o.event)
        suffix = " (dry run: nothing recorded or sent)" if dry_run else ""
        self.stdout.write(f"{len(outcomes)} rule(s) evaluated, {changes} change(s){suffix}.")
