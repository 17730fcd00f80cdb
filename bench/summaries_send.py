"""Benchmark: claim, render and send 1,000 summaries to a local SMTP sink (aiosmtpd).

The SMTP server is aiosmtpd's discarding sink in a separate process. Usage (uses
DATABASE_URL like the app; the data it creates is deleted at the end):

    DATABASE_URL=postgres://… python bench/summaries_send.py [--count 1000] [--calls 5000]

Prints one table: the end-to-end dispatcher pass (claim with conditional UPDATE, record the
delivery, gather figures from the report queries, render the subject/text/HTML trio, chart
PNG and CSV, send over SMTP, record the result) and, for comparison, rendering alone.
"""
from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime

import benchkit  # noqa: E402  (bench/benchkit.py: what the benchmark scripts share)

benchkit.setup_django()

from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from portal.models import Environment, Organization  # noqa: E402
from reports.models import ReportSubscription  # noqa: E402
from reports.summaries.dispatch import dispatch  # noqa: E402
from reports.summaries.figures import build_summary  # noqa: E402
from reports.summaries.render import build_message  # noqa: E402
from reports.summaries.schedule import Period  # noqa: E402
from tests.support.factories import make_agents, make_callback_days, make_calls  # noqa: E402
from tests.support.summaries_support import free_port  # noqa: E402

RUN = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # Monday 08:00 in Sao Paulo
WEEK = Period(date(2026, 11, 16), date(2026, 11, 22))


def setup(count: int, calls: int) -> Organization:
    org = Organization.objects.create(slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench Org",
                                      timezone="America/Sao_Paulo")
    env = Environment(organization=org, name="Bench env")
    env.set_token("talq_bench_0000000000000000000000")
    env.last_synced_at = RUN
    env.save()
    agents = make_agents(env, 8)
    make_calls(env, calls // 2, date(2026, 11, 9), date(2026, 11, 15), seed=1, agents=agents)
    make_calls(env, calls // 2, WEEK.start, WEEK.end, seed=2, agents=agents)
    make_callback_days(env, [date(2026, 11, d) for d in range(9, 23)])
    ReportSubscription.objects.bulk_create([
        ReportSubscription(organization=org, name=f"Bench {i}", next_run_at=RUN,
                           addresses=[f"r{i}@example.com"], attach_csv=True)
        for i in range(count)
    ])
    return org


@contextmanager
def smtp_server():
    """aiosmtpd's discarding sink in its own process, like a real relay (no shared GIL)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Sink"], stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    # The dispatcher sends every due summary in the database: never let it touch real ones.
    due = ReportSubscription.objects.across_organizations().filter(active=True,
                                                                   next_run_at__lte=RUN)
    if due.exists():
        sys.exit("Due subscriptions exist in this database; run the bench on a scratch one.")
    org = setup(args.count, args.calls)
    try:
        rows = []
        sub = org.report_subscriptions.first()
        envs = sub.selected_environments()
        started = time.perf_counter()
        for _ in range(args.count):
            summary = build_summary(org, envs, WEEK)
            build_message(sub, summary, "r@example.com").message().as_bytes()
        rows.append(("render only (figures + trio + PNG + CSV)", args.count,
                     time.perf_counter() - started))

        with smtp_server() as port, override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port, EMAIL_USE_TLS=False, EMAIL_USE_SSL=False, EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="", PORTAL_BASE_URL="https://sb.example",
        ):
            started = time.perf_counter()
            result = dispatch(RUN)
            elapsed = time.perf_counter() - started
        assert result.statuses == {"sent": args.count}, result.statuses
        rows.append(("dispatch: claim + render + SMTP send + record", args.count, elapsed))

        db = connection.vendor
        print(f"summaries_send ({db}, {args.calls} calls in the mirror, 1 recipient each)")
        print(f"{'phase':<48} {'count':>6} {'seconds':>8} {'per second':>11}")
        for name, n, seconds in rows:
            print(f"{name:<48} {n:>6} {seconds:>8.2f} {n / seconds:>11.1f}")
    finally:
        org.delete()


if __name__ == "__main__":
    main()
