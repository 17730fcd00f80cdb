"""manage.py sync: run the sync now, in this process, with progress and a summary table."""
from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.models import Environment, Organization
from sync.cache_errors import UNAVAILABLE
from sync.engine import SyncOutcome, sync_environment
from sync.models.core import Trigger
from sync.progress import NullProgress, TqdmProgress

# The README's names; the stream's own name `callback_days` is still read as `callbacks`.
STREAM_ALIASES = {"agents": "agents", "calls": "calls", "callbacks": "callback_days"}


def stream_name(value: str) -> str:
    return "callbacks" if value == "callback_days" else value
COLUMNS = ("environment", "stream", "status", "pages", "requests", "created", "updated",
           "unchanged", "rejected", "seconds")


def summary_rows(outcomes: list[SyncOutcome]) -> list[tuple[str, ...]]:
    """One row per run (or per skipped environment) for the summary table."""
    rows = []
    for outcome in outcomes:
        name = f"{outcome.environment.pk} {outcome.environment.name}"
        if outcome.skipped:
            rows.append((name, "-", "skipped", "", "", "", "", "", "", ""))
        for r in outcome.runs:
            rows.append((name, r.stream, r.status, str(r.pages), str(r.requests), str(r.created),
                         str(r.updated), str(r.unchanged), str(r.rejected),
                         f"{r.duration_seconds or 0:.1f}"))
    return rows


def format_table(rows: list[tuple[str, ...]]) -> str:
    """The rows as a plain aligned text table under COLUMNS."""
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c)
              for i, c in enumerate(COLUMNS)]
    line = "  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


RUN_NOTES = ("reconciled", "reread", "hot", "unfound", "incomplete", "analyzed")


# sysexits.h's EX_TEMPFAIL: nothing failed, try again later. A script or cron job tells
# "skipped: another run holds the environment" from "done" (0) and "failed" (1).
EXIT_SKIPPED = 75


class Command(BaseCommand):
    help = ("Sync environments now (all sync-enabled ones by default). A first sync back-fills "
            "--backfill-days. Exit status: 0 done; 1 a run failed (or Redis unavailable); "
            f"{EXIT_SKIPPED} (EX_TEMPFAIL) skipped because another sync holds an environment "
            "(one line says until when; run it again then).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--env", type=int, action="append", dest="env_ids", default=[],
                            metavar="ID", help="Environment id (repeatable).")
        parser.add_argument("--org", metavar="SLUG", help="Only this organisation's environments.")
        parser.add_argument("--stream", action="append", dest="streams", default=[],
                            type=stream_name, choices=list(STREAM_ALIASES),
                            help="Only this stream (repeatable).")
        parser.add_argument("--backfill-days", type=int, metavar="N",
                            help="Reach back N days (default: each environment's setting).")
        parser.add_argument("--full", action="store_true",
                            help="Re-read the whole back-fill window, not just the lookback.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")

    def handle(self, *, env_ids: list[int], org: str | None, streams: list[str],
               backfill_days: int | None, full: bool, no_progress: bool, **options) -> None:
        if backfill_days is not None and backfill_days < 1:
            raise CommandError("--backfill-days must be at least 1.")
        environments = self._select(env_ids, org)
        wanted = list(dict.fromkeys(STREAM_ALIASES[s] for s in streams)) or None
        out = getattr(self.stdout, "_out", sys.stdout)
        outcomes = []
        for env in environments:
            progress = NullProgress() if no_progress else TqdmProgress(out)
            self.stdout.write(f"Syncing {env.name} ({env.get_provider_display()}, id {env.pk})")
            try:
                outcomes.append(sync_environment(
                    env, streams=wanted, trigger=Trigger.MANUAL, backfill_days=backfill_days,
                    full=full, progress=progress))
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(format_table(summary_rows(outcomes)))
        for outcome in outcomes:
            if outcome.skipped and not outcome.unavailable and outcome.held_until is None:
                self.stderr.write(f"{outcome.environment.name}: skipped: {outcome.reason}")
            for run in outcome.runs:
                if run.error:
                    self.stderr.write(f"{outcome.environment.name} / {run.stream}: {run.error}")
            if outcome.auth_failed:
                self.stderr.write(f"{outcome.environment.name}: token rejected; its schedule "
                                  "is paused until a new token is set.")
        # What each run read beyond the new calls (`-v 2`): days reconciled, re-read, and the
        # hot days' refresh (requests by kind, calls that moved to a final status).
        if options.get("verbosity", 1) >= 2:
            for outcome in outcomes:
                for run in outcome.runs:
                    for key in RUN_NOTES:
                        for line in (run.details or {}).get(key, []):
                            self.stdout.write(f"{outcome.environment.name} / {run.stream}: "
                                              f"{key}: {line}")
        # Rejected records and unknown values are warnings: the run succeeded (exit 0).
        for outcome in outcomes:
            for run in outcome.runs:
                for warning in run.warnings:
                    self.stdout.write(f"warning: {outcome.environment.name} / {run.stream}: "
                                      f"{warning}")
        rejected = sum(r.rejected for o in outcomes for r in o.runs)
        if rejected:
            self.stdout.write(f"{rejected} record(s) rejected and kept in quarantine (not "
                              "written); see the sync page or the admin's rejected records.")
        failed = sum(1 for o in outcomes for r in o.runs if r.status == "failed")
        unavailable = [o.environment.name for o in outcomes if o.unavailable]
        if unavailable:
            raise CommandError(f"Not synced ({', '.join(unavailable)}): {UNAVAILABLE}; "
                               "run it again once Redis answers.")
        if failed:
            raise CommandError(f"{failed} run(s) failed.")
        held = [f"{o.environment.name}: skipped: {o.reason}" for o in outcomes
                if o.held_until is not None]
        if held:
            raise CommandError("\n".join(held), returncode=EXIT_SKIPPED)

    def _select(self, env_ids: list[int], org: str | None) -> list[Environment]:
        qs = Environment.objects.select_related("organization").order_by("pk")
        if env_ids:
            qs = qs.filter(pk__in=env_ids)
            missing = set(env_ids) - set(qs.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"No environment with id {sorted(missing)}; "
                                   "see the admin or `addenv` for ids.")
        if org:
            if not Organization.objects.filter(slug=org).exists():
                raise CommandError(f"No organisation {org!r}; `createorg` makes one.")
            qs = qs.filter(organization__slug=org)
            if not qs.exists():
                raise CommandError(f"No environment in organisation {org!r}; `addenv` adds one.")
        if not env_ids and not org:
            qs = qs.filter(sync_enabled=True)
        envs = [e for e in qs if e.has_token]
        if not envs:
            raise CommandError("No environment to sync (none selected has a token).")
        return envs
