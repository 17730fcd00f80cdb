"""demo: set up the demo organisation and user, then (optionally) serve the portal.

Lives beside the code it drives (`sync/demo.py`, the in-process simulator). While serving, the
beat schedule runs in process (`portal.inprocess_beat`) and queued tasks run on threads of the
server (`portal.tasks_client`), so the demo keeps syncing with no broker and no worker.
"""
from __future__ import annotations

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from portal import audit
from portal.models import Membership, Organization, Role
from sync.simulator import Dip

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

    def handle(self, serve: str, **options) -> None:
        org = ensure_demo_org()
        self.stdout.write(f"Demo organisation: {org.name} ({org.timezone}); log in as demo / demo")
        upstream = None if options["no_upstream"] else self.start_upstream(org, options)
        if serve:
            from portal.inprocess_beat import InProcessBeat

            links = use_served_links(serve)
            beat = InProcessBeat()
            beat.start()
            self.stdout.write(f"Ready: open http://{serve}/ and log in as demo / demo "
                              "(the admin console is at /admin/); links in emails point at "
                              f"{links}. Ctrl-C stops.")
            try:
                call_command("runserver", serve, use_reloader=False)
            finally:
                beat.stop()
        if upstream is not None:
            upstream.stop()

    def start_upstream(self, org, options):
        """Serve the simulator in this process and back-fill Acme Voice's environments."""
        import sys

        from sync import demo

        try:
            dips = tuple(Dip.parse(text) for text in options["dip"])
        except ValueError as exc:
            raise CommandError(f"--dip: {exc}") from exc
        sim, server = demo.start_upstream(options["calls_per_day"] or demo.DEMO_CALLS_PER_DAY,
                                          dips=dips)
        envs = demo.point_demo_environments(org, sim, server)
        self.stdout.write(f"Simulated upstream at {server.talkover_url}; back-filling "
                          f"{len(envs)} environments ({demo.DEMO_DAYS} days)…")
        outcomes, seconds = demo.backfill(envs, getattr(self.stdout, "_out", sys.stdout))
        calls = sum(r.created for o in outcomes for r in o.runs if r.stream == "calls")
        failed = [r for o in outcomes for r in o.runs if r.status == "failed"]
        self.stdout.write(f"Back-fill done in {seconds:.0f} s: {calls} new calls"
                          + (f"; {len(failed)} run(s) failed" if failed else ""))
        return demo.DemoUpstream(sim, server, envs)
