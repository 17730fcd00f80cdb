"""The anomaly benchmark's data: 1,000 environments with six weeks of hourly history.

Imported by `bench/alerts_eval.py` (Django set up there). Ten organisations of 100
environments each; every environment gets 43 local days of `CallRollup` rows (4 agents × 4
final statuses a day, `hour_counts` drawn around a working-day curve that is lighter at
weekends: about 300 calls on a weekday), written with COPY as the sync's refresh would have
left them, the calls of the hour being judged as raw rows (the live evaluation reads that
hour from the mirror), the stream state of a finished back-fill, and one `anomaly` rule
(7 in 10 on calls, the rest on the answer, failed and no-answer rates; one in ten
environments has a dip in the judged hour, so some rules really fire). Day patterns are
drawn once per weekday and shared at random, so building costs a COPY, not 16 million draws.
"""
from __future__ import annotations

import hashlib
import json
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from django.db import connection

from portal.models import Environment, Organization
from reports.alerts.models import AlertRule
from sync.models import CallRollup, StreamState
from sync.partitions import ddl as partitions
from sync.stream_names import Stream

ORGS = 10
ENVS_PER_ORG = 100
DAYS = 43
AGENTS = 4
TIMEZONE = "America/Sao_Paulo"
# Judged at 14:05 local on Tuesday 2026-06-30: the hour 13:00–14:00, six Tuesdays before it.
LAST_DAY = date(2026, 6, 30)
JUDGED_HOUR = 13
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 20, 19, 15, 17, 19, 18, 15, 11, 8, 6, 4, 3, 2, 1)
WEEKDAY = (1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.4)
STATUSES = (("completed", 0.70), ("no-answer", 0.15), ("failed", 0.08), ("busy", 0.07))
PER_DAY = 300
PATTERNS = 40
RULE_METRICS = ("calls",) * 7 + ("answer_rate", "failed_rate", "no_answer_rate")
PREFIX = "anomaly-bench-"
ROLLUP_COLUMNS = ("environment_id", "day", "agent_external_id", "direction", "status",
                  "is_testing", "count", "duration_sum", "duration_max", "duration_hist",
                  "hour_counts")
CALL_COLUMNS = ("environment_id", "external_id", "sid", "agent_external_id", "to_number",
                "to_formatted", "from_number", "from_formatted", "direction", "status",
                "provider_status", "duration", "is_testing", "started_at", "ended_at",
                "upstream_updated_at", "hangup_cause", "hangup_source", "raw", "payload_hash",
                "first_seen_at", "last_changed_at")


def now() -> datetime:
    local = datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, JUDGED_HOUR + 1, 5)
    return local.replace(tzinfo=Organization(timezone=TIMEZONE).tzinfo).astimezone(UTC)


def _poisson(rng: random.Random, mean: float) -> int:
    return max(0, round(rng.gauss(mean, mean ** 0.5))) if mean > 0 else 0


def _patterns(rng: random.Random) -> dict[int, list[list[tuple[int, str, list[int]]]]]:
    """weekday → PATTERNS day shapes, each a list of (agent, status, hour_counts)."""
    total = sum(HOUR_WEIGHTS)
    found: dict[int, list] = {}
    for weekday, factor in enumerate(WEEKDAY):
        found[weekday] = []
        for _ in range(PATTERNS):
            rows = []
            for agent in range(AGENTS):
                for status, share in STATUSES:
                    mean = PER_DAY * factor * share / AGENTS / total
                    rows.append((agent, status,
                                 [_poisson(rng, mean * w) for w in HOUR_WEIGHTS]))
            found[weekday].append(rows)
    return found


def build(fresh: bool) -> list[Environment]:
    orgs = Organization.objects.filter(slug__startswith=PREFIX)
    envs = list(Environment.objects.filter(organization__slug__startswith=PREFIX)
                .select_related("organization").order_by("pk"))
    if len(envs) == ORGS * ENVS_PER_ORG and not fresh:
        return envs
    orgs.delete()
    started = time.perf_counter()
    rng = random.Random(41)
    patterns = _patterns(rng)
    first = LAST_DAY - timedelta(days=DAYS - 1)
    clock = now()
    partitions.ensure([(clock.date().replace(day=1), 0)])
    envs = []
    for o in range(ORGS):
        org = Organization.objects.create(slug=f"{PREFIX}{o}", name=f"Anomaly bench {o}",
                                          timezone=TIMEZONE)
        for e in range(ENVS_PER_ORG):
            env = Environment(organization=org, name=f"env {o}.{e}")
            env.set_token("talq_benchmarkbenchmarkbenchmark0000")
            env.save()
            envs.append(env)
    agents = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(AGENTS)]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        judged: list[tuple[Environment, list[tuple[int, str, list[int]]]]] = []
        with raw.copy(f"COPY {CallRollup._meta.db_table} ({', '.join(ROLLUP_COLUMNS)}) "
                      "FROM STDIN") as copy:
            for n, env in enumerate(envs):
                for d in range(DAYS):
                    day = first + timedelta(days=d)
                    shape = rng.choice(patterns[day.weekday()])
                    if day == LAST_DAY and n % 10 == 0:  # a dip: the judged hour × 0.1
                        shape = [(a, s, [c // 10 if h == JUDGED_HOUR else c
                                         for h, c in enumerate(hours)]) for a, s, hours in shape]
                    if day == LAST_DAY:
                        judged.append((env, shape))
                    for agent, status, hours in shape:
                        copy.write_row((env.pk, day, agents[agent], "outbound", status, False,
                                        sum(hours), 0, 0, "[]", json.dumps(hours)))
        with raw.copy(f"COPY sync_call ({', '.join(CALL_COLUMNS)}) FROM STDIN") as copy:
            hour_start = clock - timedelta(minutes=65)
            for env, shape in judged:
                for agent, status, hours in shape:
                    for i in range(hours[JUDGED_HOUR]):
                        ext = str(uuid.UUID(int=rng.getrandbits(128)))
                        moment = hour_start + timedelta(seconds=rng.randrange(3600))
                        copy.write_row((
                            env.pk, ext, "CA" + hashlib.md5(ext.encode()).hexdigest(),
                            agents[agent], "+15550000000", "+15550000000", "+14440000000",
                            "+14440000000", "outbound", status, "", 60 * (i % 3), False,
                            moment, moment, moment, "", "", json.dumps({"id": ext}), "",
                            clock, clock))
    StreamState.objects.bulk_create([
        StreamState(environment=env, stream=Stream.CALLS, cursor={
            "oldest": (first - timedelta(days=1)).isoformat(),
            "read_through": clock.isoformat()}) for env in envs])
    for n, env in enumerate(envs):
        rule = AlertRule.objects.create(
            organization=env.organization, name=f"anomaly #{n}",
            metric=RULE_METRICS[n % len(RULE_METRICS)], window="1h", condition="anomaly",
            threshold=0, min_calls=10, anomaly_direction="below" if n % 10 < 8 else "above",
            emails=[f"ops{n}@example.com"],
            enabled=False)  # judged by the anomaly table alone, never by the first table
        rule.environments.set([env])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sync_callrollup")
        cursor.execute("ANALYZE sync_call")
    print(f"  anomaly data: {len(envs)} environments in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    return envs
