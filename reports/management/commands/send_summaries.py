"""`manage.py send_summaries [--dry-run] [--now ISO]`: one dispatcher pass, like the beat task."""
from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from portal.served import use_served_base_url
from reports.summaries.dispatch import dispatch


def parse_now(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            f"--now {value!r} is not an ISO 8601 date-time (e.g. 2026-11-23T11:05:00Z)."
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Send the summaries that are due (exactly once per subscription and period)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List what is due; send nothing."
        )
        parser.add_argument(
            "--now", type=parse_now, help="Pretend it is this time (ISO 8601; UTC if no offset)."
        )

    def handle(self, *args, dry_run: bool = False, now: datetime | None = None, **options) -> None:
        # Links in the emails: PORTAL_BASE_URL, else the address a local demo serves on.
        use_served_base_url()
        result = dispatch(now, dry_run=dry_run)
        if dry_run:
            for line in result.due:
                self.stdout.write(line)
            self.stdout.write(f"{_count(len(result.due), 'summary', 'summaries')} due; "
                              "nothing sent (dry run).")
            return
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(result.statuses.items()))
        self.stdout.write(f"claimed {_count(result.claimed, 'run', 'runs')}; "
                          f"{counts or 'nothing sent'}")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
