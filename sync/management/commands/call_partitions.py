"""manage.py call_partitions [--maintain]: the calls' month partitions (PostgreSQL)."""
from __future__ import annotations

from collections import defaultdict

from django.core.management.base import BaseCommand, CommandParser

from portal.models import Organization
from sync.partitions import ddl as partitions
from sync.partitions.retention import first_kept_month, maintain


class Command(BaseCommand):
    help = ("List the calls' month partitions and retention tiers. --maintain runs the daily "
            "maintenance now: months ahead, pending retention moves, months a tier no longer "
            "keeps dropped.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--maintain", action="store_true",
                            help="Run the daily maintenance (sync.maintain_partitions) now.")

    def handle(self, *args, **options) -> None:
        if options["maintain"]:
            done = maintain()
            self.stdout.write(f"Created {len(done['created'])} partition(s), moved "
                              f"{done['moved']} call(s), dropped {len(done['dropped'])} "
                              f"partition(s): {', '.join(done['dropped']) or 'none'}.")
            if done["waiting"]:
                self.stdout.write(f"Waiting for a sync to finish: {', '.join(done['waiting'])}")
        tiers: dict[int, list] = defaultdict(list)
        for month, tier in sorted(partitions.leaves()):
            tiers[tier].append(month)
        using = defaultdict(int)
        for tier in Organization.objects.values_list("call_retention_months", flat=True):
            using[tier] += 1
        months, leaves = partitions.partition_count()
        self.stdout.write(f"{months} month partition(s), {leaves} leaf partition(s).")
        for tier, kept in sorted(tiers.items()):
            first = first_kept_month(tier)
            keeps = "forever" if first is None else f"from {first:%Y-%m}"
            self.stdout.write(f"tier {tier or 'forever'}: {len(kept)} month(s), "
                              f"{kept[0]:%Y-%m} … {kept[-1]:%Y-%m}; keeps {keeps}; "
                              f"{using.get(tier, 0)} organisation(s)")
