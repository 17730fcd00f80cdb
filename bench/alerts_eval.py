"""Alert evaluation at scale: 1,000 rules over 100 environments at 1,000,000 calls (PostgreSQL).

Ten organisations of ten environments each; every environment holds 10,000 calls over 180
local days, written with COPY by `bench/report_latency.py`'s loader and rolled up by the real
`sync.write.rollups.refresh_rollups`, plus one mirrored `CallbackDay` a day and the stream state a
finished back-fill leaves, so every window is covered and every rule is really judged. Each
environment gets ten rules (every metric, every window, every condition; one in ten spans its
whole organisation, one in ten names an agent). The script then runs `evaluate_rules` as the
beat does, timing each step apart: judging alone (`--dry-run`), a first pass that records the
state changes, the notifications it owes (sent to the locmem mail backend), and a steady
second pass; it prints one table. Target: a pass under 10 s — daily windows read
`AgentDayRollup`, hourly ones the (environment, started_at) index, never a scan of the calls.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_alerts_bench \\
        python bench/alerts_eval.py [--fresh]

Data of an earlier run is reused unless `--fresh`.

A second table times the `anomaly` condition at 1,000 environments, one rule each, judging
one hour against the same hour of the six weeks before (`bench/anomaly_data.py` builds
them; `--anomaly-only` skips the first table): judging alone, then a pass that records the
state changes, with the process's CPU seconds beside the wall time. Target: under a minute
of one core per hourly pass.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
from datetime import UTC, datetime, timedelta

import benchkit  # noqa: E402  (bench/benchkit.py: what the benchmark scripts share)

benchkit.setup_django()

import anomaly_data  # noqa: E402  (the anomaly table's 1,000 environments)
import report_latency  # noqa: E402  (the shared COPY loader of the benchmarks)
from django.conf import settings  # noqa: E402
from django.core import mail  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from portal.models import Environment, Organization  # noqa: E402
from reports.alerts.deliver import deliver_pending  # noqa: E402
from reports.alerts.evaluate import Context, evaluate_rules, judge, transition  # noqa: E402
from reports.alerts.models import AlertEvent, AlertRule  # noqa: E402
from sync.models import Agent, CallbackDay, StreamState, SyncRun  # noqa: E402
from sync.models.core import RunStatus  # noqa: E402

ORGS = 10
ENVS_PER_ORG = 10
CALLS_PER_ENV = 10_000
RULES_PER_ENV = 10
LAST_DAY = report_latency.LAST_DAY
DAYS = report_latency.DAYS
# The beat's clock: 09:00 UTC the morning after the last mirrored day.
NOW = datetime.combine(LAST_DAY + timedelta(days=1), datetime.min.time(), tzinfo=UTC) \
    + timedelta(hours=9)
# (metric, window, condition, threshold, compare_to): every metric, window and condition.
RULE_KINDS = [
    ("answer_rate", "day", "below", 75, ""),
    ("answer_rate", "7d", "change_below_pct", 5, "previous"),
    ("calls", "24h", "below", 80, ""),
    ("calls", "1h", "above", 3, ""),
    ("failed_rate", "day", "above", 7, ""),
    ("no_answer_rate", "7d", "change_above_pct", 10, "week_ago"),
    ("avg_talk_time", "day", "below", 150, ""),
    ("callbacks_unmatched_rate", "day", "above", 20, ""),
    ("callbacks_answered_rate", "7d", "below", 60, ""),
    ("minutes_since_sync", "1h", "above", 120, ""),
]


def build(fresh: bool) -> list[Environment]:
    orgs = Organization.objects.filter(slug__startswith="alerts-bench-")
    if fresh:
        orgs.delete()
    envs = list(Environment.objects.filter(organization__slug__startswith="alerts-bench-")
                .select_related("organization").order_by("pk"))
    if len(envs) == ORGS * ENVS_PER_ORG and not fresh:
        return envs
    orgs.delete()
    envs = []
    started = time.perf_counter()
    for o in range(ORGS):
        org = Organization.objects.create(slug=f"alerts-bench-{o}", name=f"Alerts bench {o}",
                                          timezone=report_latency.TIMEZONE)
        for e in range(ENVS_PER_ORG):
            env = Environment(organization=org, name=f"env {o}.{e}")
            env.set_token("talq_benchmarkbenchmarkbenchmark0000")
            env.save()
            report_latency.load_calls(env, CALLS_PER_ENV)
            mirror_state(env)
            envs.append(env)
        print(f"  organisation {o + 1}/{ORGS} loaded ({time.perf_counter() - started:.0f} s)",
              file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    add_rules(envs)
    return envs


def mirror_state(env: Environment) -> None:
    """What a finished back-fill leaves: cursors, a succeeded run, one callback row a day."""
    first = LAST_DAY - timedelta(days=DAYS - 1)
    StreamState.objects.create(environment=env, stream="calls", cursor={
        "synced_through": (LAST_DAY + timedelta(days=1)).isoformat(),
        "oldest": (first - timedelta(days=1)).isoformat()})
    SyncRun.objects.create(environment=env, stream="calls", status=RunStatus.SUCCEEDED,
                           started_at=NOW, finished_at=NOW, heartbeat_at=NOW)
    Environment.objects.filter(pk=env.pk).update(last_synced_at=NOW - timedelta(minutes=7))
    CallbackDay.objects.bulk_create([
        CallbackDay(environment=env, day=first + timedelta(days=i), total_received=40 + i % 9,
                    answered=30 + i % 7, unmatched=i % 11,
                    fetched_at=NOW) for i in range(DAYS)])


def add_rules(envs: list[Environment]) -> None:
    by_org = {org: list(group) for org, group in
              itertools.groupby(envs, key=lambda e: e.organization_id)}
    agents = dict(Agent.objects.filter(environment__in=envs).order_by("environment_id", "pk")
                  .distinct("environment_id").values_list("environment_id", "external_id"))
    for n, env in enumerate(envs):
        for k, (metric, window, condition, threshold, compare_to) in enumerate(RULE_KINDS):
            org_wide = k == 0
            rule = AlertRule.objects.create(
                organization=env.organization, name=f"{metric} {window} #{n}.{k}",
                metric=metric, window=window, condition=condition, threshold=threshold,
                compare_to=compare_to, min_calls=20, severity="warning",
                emails=[f"ops{n}@example.com"],
                agent_id=agents[env.pk] if k == 6 else "")
            rule.environments.set(by_org[env.organization_id] if org_wide else [env])


def timed(step) -> tuple[float, int]:
    """Seconds and database queries of one call of `step`."""
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        began = time.perf_counter()
        step()
        return time.perf_counter() - began, queries


def passes() -> list[tuple[str, float, int, int, int]]:
    """(step, seconds, queries, state changes, emails) of each measured step."""
    rows = []
    outcomes: list = []

    def evaluate(**kwargs):
        outcomes[:] = evaluate_rules(NOW, **kwargs)

    for name, step in (
        ("judge only (--dry-run)", lambda: evaluate(dry_run=True)),
        ("first pass: judge + record", lambda: evaluate(notify=False)),
        ("first pass: notify", lambda: deliver_pending(NOW)),
        ("second pass (steady)", lambda: evaluate()),
    ):
        mail.outbox = []
        outcomes.clear()
        seconds, queries = timed(step)
        changes = sum(1 for o in outcomes if o.event)
        rows.append((name, seconds, queries, changes, len(mail.outbox)))
    return rows


def anomaly_passes(fresh: bool) -> None:
    """The anomaly table: 1,000 environments, one `anomaly` rule each, one hour judged."""
    envs = anomaly_data.build(fresh)
    rules = list(AlertRule.objects.across_organizations().filter(
        organization__slug__startswith=anomaly_data.PREFIX, condition="anomaly")
        .select_related("organization").prefetch_related("environments").order_by("pk"))
    AlertEvent.objects.across_organizations().filter(rule__in=rules).delete()
    AlertRule.objects.across_organizations().filter(pk__in=[r.pk for r in rules]).update(
        state="ok", state_seq=0, state_changed_at=None)
    for rule in rules:
        rule.state, rule.state_seq = "ok", 0
    now = anomaly_data.now()
    verdicts: list = []

    def judge_all() -> None:
        ctx = Context(now)
        verdicts[:] = [judge(rule, ctx, [e.pk for e in rule.environments.all()])
                       for rule in rules]

    def record() -> None:
        for rule, verdict in zip(rules, verdicts, strict=True):
            transition(rule, verdict, now)

    rows = []
    for name, step in (("judge only", judge_all), ("record the changes", record)):
        cpu = time.process_time()
        seconds, queries = timed(step)
        rows.append((name, seconds, time.process_time() - cpu, queries))
    judged = sum(1 for v in verdicts if v.judged)
    firing = sum(1 for v in verdicts if v.firing)
    print(f"\nAnomaly: {len(rules):,} rules over {len(envs):,} environments, one hour each "
          f"against the same hour of {anomaly_data.DAYS // 7} weeks before; {judged:,} judged, "
          f"{firing:,} firing\n")
    print(f"| {'step':<20} | {'seconds':>8} | {'CPU s (ours)':>12} | {'queries':>8} |")
    print(f"|{'-' * 22}|{'-' * 10}|{'-' * 14}|{'-' * 10}|")
    for name, seconds, cpu, queries in rows:
        print(f"| {name:<20} | {seconds:>8.2f} | {cpu:>12.2f} | {queries:>8,} |")
    print("\nTarget: an hourly pass over 1,000 environments under a minute of one core.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="rebuild the data set")
    parser.add_argument("--anomaly-only", action="store_true",
                        help="only the anomaly table (1,000 environments)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL (e.g. …/sb_alerts_bench).")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    if args.anomaly_only:
        anomaly_passes(args.fresh)
        return
    envs = build(args.fresh)
    AlertEvent.objects.across_organizations().filter(rule__organization__slug__startswith="alerts-bench-").delete()
    AlertRule.objects.across_organizations().filter(
        organization__slug__startswith="alerts-bench-").update(
        state="ok", state_seq=0, state_changed_at=None)
    calls = sum(row["n"] for row in Environment.objects.filter(pk__in=[e.pk for e in envs])
                .annotate(n=Count("calls")).values("n"))
    bench_rules = AlertRule.objects.across_organizations().filter(
        organization__slug__startswith="alerts-bench-")
    rules = bench_rules.count()
    rows = passes()
    judged = bench_rules.exclude(last_note__startswith="not judged").count()
    print(f"\n{rules:,} rules over {len(envs)} environments, {calls:,} calls; "
          f"{judged:,} rules judged (the rest: not enough calls or data)\n")
    print(f"| {'step':<28} | {'seconds':>8} | {'queries':>8} | {'changes':>8} | {'emails':>6} |")
    print(f"|{'-' * 30}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 8}|")
    for name, seconds, queries, changes, emails in rows:
        print(f"| {name:<28} | {seconds:>8.2f} | {queries:>8,} | {changes:>8,} | {emails:>6,} |")
    print("\nTarget: a pass over the 1,000 rules under 10 s.")
    anomaly_passes(args.fresh)


if __name__ == "__main__":
    main()
