"""demo: set up the demo organisation and user, then (optionally) serve the portal.

Lives beside the code it drives (`sync/demo.py`, the in-process simulator). While serving, the
beat schedule runs in process (`portal.inprocess_beat`) and queued tasks run on threads of the
server (`portal.tasks_client`), so the demo keeps syncing with no broker and no worker.

What a person sees: one progress line per step (database, organisation, upstream, "Serving
at …" as soon as the portal answers, each environment's back-fill, what the tour shows,
"History loaded") and one "Ready" line last, once everything the tour shows is in (without
--serve, the back-fill runs before the command ends); the portal serves from the "Serving"
line on, so a newcomer logs in while the history loads. The migrations' lines, the server's
and the workers' logs and every request go to `var/demo.log`. The demo shows every
capability: Talkover and Origins AI environments, a volume dip three days ago with an
anomaly rule whose preview finds it (`sync.signals.demo_prepared`: the reading side adds the
rule), and retention in force.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from portal import audit, interrupts, served
from portal.models import Membership, Organization, Role
from sync.models import PrivacyRetention
from sync.signals import demo_prepared
from sync.simulator import Dip

# Retention in force in the demo: transcripts and recording links anonymised after 60 days
# (the back-fill holds 90), numbers kept (the funnel's links need them).
DEMO_RETENTION = {"transcripts_days": 60, "recordings_days": 60}

logger = logging.getLogger(__name__)

DEMO_ORG = {"slug": "acme", "name": "Acme Voice", "timezone": "America/Sao_Paulo"}


def ensure_demo_org() -> Organization:
    org, _ = Organization.objects.get_or_create(
        slug=DEMO_ORG["slug"],
        defaults={"name": DEMO_ORG["name"], "timezone": DEMO_ORG["timezone"]},
    )
    user, created = get_user_model().objects.get_or_create(
        username="demo", defaults={"email": "demo@example.com", "is_staff": True}
    )
    if created:
        user.set_password("demo")
        user.save(update_fields=["password"])
    elif not user.is_staff:
        # A staff owner: the admin console (scoped to Acme Voice) is part of the tour.
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    _, new = Membership.objects.get_or_create(
        user=user, organization=org, defaults={"role": Role.OWNER}
    )
    if new:
        audit.record("member.added", organization=org, username="demo", role=Role.OWNER)
    return org


def served_base_url(serve: str) -> str:
    """The address a browser reaches `runserver ADDR:PORT` at: links in the demo's emails
    (alerts, summaries, invitations) must point there, not at the default port 8000. A
    wildcard bind is reached on the loopback address."""
    host, _, port = serve.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def use_served_links(serve: str) -> str:
    """Point email links at the served address unless PORTAL_BASE_URL was set explicitly
    (a demo behind a proxy). The demo's tasks run in this process, so they read it."""
    if not os.environ.get("PORTAL_BASE_URL"):
        settings.PORTAL_BASE_URL = served_base_url(serve)
    return settings.PORTAL_BASE_URL


class Command(BaseCommand):
    help = "Create the demo organisation (Acme Voice) with user demo/demo, then serve if asked."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--serve", metavar="ADDR:PORT", default="",
                            help="After setting up, serve the portal here (e.g. 127.0.0.1:8000).")
        parser.add_argument("--no-upstream", action="store_true",
                            help="Skip the in-process simulator and its back-fill.")
        parser.add_argument("--calls-per-day", type=int, default=None,
                            help="Simulated calls per day and environment (default 150).")
        parser.add_argument("--dip", action="append", default=[], metavar="START/HOURS/FACTOR",
                            help="A volume dip for the anomaly alerts, as simulate_upstream "
                                 "--dip (e.g. 2026-11-18T14:00Z/3h/0.1); repeatable.")

    terminal = None  # while serving: the terminal, everything else going to the log

    def step(self, text: str) -> None:
        if interrupts.received() is not None:
            return  # stopped: the stop line is the last one (the history thread goes quiet)
        out = self.terminal or self.stdout
        out.write(f"· {text}\n" if self.terminal else f"· {text}")
        out.flush()

    def handle(self, serve: str, **options) -> None:
        path = Path(settings.VAR_DIR) / "demo.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        log = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (open while serving)
        if serve:
            self.terminal = _terminal_beside(log)
            interrupts.tell(self.terminal)  # Ctrl-C's line on the terminal, not in the log
        call_command("migrate", interactive=False, verbosity=0, stdout=log, stderr=log)
        self.step(f"Database ready (logs: {path})")
        org = ensure_demo_org()
        self.step(f"Organisation {org.name} ({org.timezone}); log in as demo / demo")
        upstream = None if options["no_upstream"] else self.start_upstream(org, options)
        _keep_retention(org)
        self.step("Retention in force: transcripts and recording links anonymised after "
                  f"{DEMO_RETENTION['transcripts_days']} days")
        if serve:
            self.serve(serve, org, upstream)
        elif upstream is not None:
            self.load_history(org, upstream)
        if upstream is not None:
            upstream.stop()

    def serve(self, serve: str, org: Organization, upstream) -> None:
        """Serve at once; the history (when there is an upstream) loads on a thread meanwhile,
        one line per environment as it is in, and the beat (the schedule's syncs, alerts and
        summaries) starts once it is all in: a newcomer logs in while the back-fill runs
        instead of waiting a minute or two for a page."""
        from portal.inprocess_beat import InProcessBeat

        links = use_served_links(serve)
        served.announce(links)
        beat = InProcessBeat()
        ready = (f"Ready: open http://{serve}/ and log in as demo / demo (the admin console "
                 f"is at /admin/; emails link to {links}). Ctrl-C stops.")
        if upstream is None:
            self._say_ready(ready)
            beat.start()
        else:
            days = max(env.backfill_days for env in upstream.environments)
            self.step(f"Serving at http://{serve}/ (log in as demo / demo) while the {days} "
                      "days of history load: the pages fill in as each environment comes in")
            threading.Thread(target=self._load_then_beat, args=(org, upstream, beat, ready),
                             name="demo-history", daemon=True).start()
        try:
            call_command("runserver", serve, use_reloader=False)
        finally:
            beat.stop()
            served.withdraw()

    def _say_ready(self, ready: str) -> None:
        self.terminal.write(ready + "\n")
        self.terminal.flush()

    def _load_then_beat(self, org: Organization, upstream, beat, ready: str) -> None:
        """Load the history, then start the beat and say "Ready" — the demo's last line."""
        try:
            self.load_history(org, upstream)
        except Exception as exc:  # noqa: BLE001 — the server keeps serving what is in
            logger.exception("the demo's history did not load")
            self.step(f"The history stopped loading ({exc}); see {settings.VAR_DIR}/demo.log")
        finally:
            connections.close_all()  # this thread's own connections
            if not beat.stopped.is_set():  # not after Ctrl-C
                beat.start()
                self._say_ready(ready)

    def load_history(self, org: Organization, upstream) -> None:
        """Back-fill Acme Voice's environments, then what the reading side adds to show
        itself (the anomaly rule, which needs the weeks before the dip)."""
        from sync import demo

        started = time.monotonic()
        total = 0
        for env in upstream.environments:
            self.step(f"Back-filling {env.name} ({env.get_provider_display()}, "
                      f"{env.backfill_days} days)…")
            outcome, seconds = demo.backfill_one(env)
            calls = sum(r.created for r in outcome.runs if r.stream == "calls")
            total += calls
            failed = [r for r in outcome.runs if r.status == "failed"]
            self.step(f"{env.name}: {calls:,} new calls in {seconds:.0f} s"
                      + (f"; {len(failed)} failed run{'s' if len(failed) > 1 else ''} "
                         f"(see {settings.VAR_DIR}/demo.log)" if failed else ""))
        for text in _prepared(org, upstream):
            self.step(text)
        self.step(f"History loaded: {total:,} new calls in {time.monotonic() - started:.0f} s")

    def start_upstream(self, org, options):
        """Serve the simulator in this process and point Acme Voice's environments at it."""
        from django.utils import timezone

        from sync import demo

        try:
            dips = tuple(Dip.parse(text) for text in options["dip"]) or (
                demo.default_dip(timezone.now(), org.tzinfo),)
        except ValueError as exc:
            raise CommandError(f"--dip: {exc}") from exc
        sim, server = demo.start_upstream(options["calls_per_day"] or demo.DEMO_CALLS_PER_DAY,
                                          dips=dips)
        envs = demo.point_demo_environments(org, sim, server)
        self.step(f"Simulated upstream at {server.base_url}")
        return demo.DemoUpstream(sim, server, envs, dips)


def _keep_retention(org: Organization) -> None:
    PrivacyRetention.objects.for_organization(org).update_or_create(
        organization=org, defaults=DEMO_RETENTION)


def _prepared(org: Organization, upstream) -> list[str]:
    """What the reading side added to show itself (`sync.signals.demo_prepared`)."""
    answers = demo_prepared.send(sender=None, organization=org,
                                 environments=upstream.dipped, dips=upstream.dips)
    return [text for _receiver, said in answers for text in (said or [])]


def _terminal_beside(log):
    """Point this process's standard output and error (every print, log handler, worker
    thread and the server's request lines) at `log`, and return a stream to the terminal
    for the demo's own step lines."""
    sys.stdout.flush()
    sys.stderr.flush()
    terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    os.dup2(log.fileno(), sys.stdout.fileno())
    os.dup2(log.fileno(), sys.stderr.fileno())
    return terminal
