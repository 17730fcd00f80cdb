"""The fleet shared by `tests/e2e/test_e2e_fleet.py` and `bench/fleet.py`: many simulated Talkover
environments of mixed sizes, seeded into a scratch database, and the checks of a fleet run.

The set-up and the convergence check run in a child process against the fleet's database
(`python -m tests.support.fleet seed|check`, a JSON spec on stdin), since the test's own Django
points at another database:

- `seed` creates one organisation per `per_org` environments (UTC), the environments (tokens
  encrypted with the processes' FIELD_ENCRYPTION_KEYS) and one daily summary per
  organisation due at the given times; prints {simulator key: environment id};
- `check` rebuilds the same simulator (a pure function of its config) and prints
  {key: differences} for every environment whose mirror is not exactly the ground truth.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from sync.simulator import EnvironmentSpec, SimulatorConfig

ROOT = Path(__file__).resolve().parent.parent.parent
SEED = 28


@dataclass
class FleetSpec:
    """What the simulator serves and how the environments are set up to read it."""

    environments: int
    calls_per_day: int  # of a small environment; every 10th is 50x, two in 10 are 10x
    days: int
    end: str  # last day of the data set (YYYY-MM-DD), whole: the clock is its 23:59:59
    base_url: str = ""
    requests_per_window: int = 100_000
    per_org: int = 10
    summaries_due: tuple[str, ...] = ()  # ISO times, one daily summary per organisation

    def key(self, i: int) -> str:
        return f"fleet-{i:04d}"

    def size(self, i: int) -> int:
        return self.calls_per_day * (50 if i % 10 == 0 else 10 if i % 10 in (1, 2) else 1)

    def config(self) -> SimulatorConfig:
        envs = {self.key(i): EnvironmentSpec("talkover", calls_per_day=self.size(i),
                                             utc_offset_hours=i % 7 - 3)
                for i in range(self.environments)}
        return SimulatorConfig(seed=SEED, days=self.days, calls_per_day=self.calls_per_day,
                               end_date=date.fromisoformat(self.end), environments=envs)

    def run(self, command: str, env: dict[str, str]) -> dict:
        """`python -m tests.support.fleet COMMAND` against the processes' database; its JSON."""
        result = subprocess.run(
            [sys.executable, "-m", "tests.support.fleet", command], cwd=ROOT, input=json.dumps(
                asdict(self)), env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
            capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout)


def most_in_window(times: Iterable[float], window: float) -> int:
    """The most of `times` that any half-open window [t, t + window) holds."""
    ordered, most, first = sorted(times), 0, 0
    for last, t in enumerate(ordered):
        while ordered[first] <= t - window:
            first += 1
        most = max(most, last - first + 1)
    return most


def requests_per_window(log: Iterable, window: float) -> dict[str, int]:
    """Per simulator environment (= per token): the most requests in any `window` seconds,
    from the simulator's request log (arrival times)."""
    times: dict[str, list[float]] = defaultdict(list)
    for entry in log:
        if entry.env:
            times[entry.env].append(entry.at)
    return {env: most_in_window(ts, window) for env, ts in times.items()}


def mail_recipients(mail_dir: Path) -> Counter:
    """Messages per recipient in the file backend's files (one message after another,
    each followed by a line of 79 dashes)."""
    counts: Counter = Counter()
    for path in mail_dir.glob("*.log"):
        for message in path.read_text(errors="replace").split("\n" + "-" * 79 + "\n"):
            for line in message.splitlines():
                if line.startswith("To: "):
                    counts[line[4:].strip()] += 1
                    break
    return counts


# --- the child process ------------------------------------------------------------------------

def _seed(spec: FleetSpec) -> dict[str, int]:
    from datetime import UTC, datetime

    from portal.models import Environment, Organization
    from reports.models import ReportSubscription

    sim_tokens = _simulator(spec).tokens
    ids: dict[str, int] = {}
    orgs: list[Organization] = []
    for i in range(spec.environments):
        if i % spec.per_org == 0:
            n = len(orgs)
            orgs.append(Organization.objects.create(slug=f"fleet-{n}", name=f"Fleet {n}",
                                                    timezone="UTC"))
        env = Environment(organization=orgs[-1], name=spec.key(i), provider="talkover",
                          base_url=spec.base_url, backfill_days=spec.days + 1,
                          requests_per_minute=spec.requests_per_window)
        env.set_token(sim_tokens[spec.key(i)])
        env.save()
        ids[spec.key(i)] = env.pk
    # Half a day away from now: each subscription's run after the due one is outside the run.
    hour = (datetime.now(UTC).hour + 12) % 24
    for org, due in zip(orgs, spec.summaries_due, strict=False):
        sub = ReportSubscription.objects.create(
            organization=org, name="Daily", all_environments=True, cadence="daily", hour=hour,
            addresses=[f"ops@{org.slug}.example.com"], attach_csv=False)
        ReportSubscription.objects.for_organization(org).filter(pk=sub.pk).update(
            next_run_at=datetime.fromisoformat(due))
    return ids


def _simulator(spec: FleetSpec):
    from sync.simulator import Simulator

    return Simulator(spec.config())


def _check(spec: FleetSpec) -> dict[str, list[str]]:
    from portal.models import Environment
    from tests.support.sync_support import mirror_diff

    sim = _simulator(spec)
    envs = {e.name: e for e in Environment.objects.filter(name__startswith="fleet-")}
    problems = {}
    for i in range(spec.environments):
        key = spec.key(i)
        found = mirror_diff(envs[key], sim, key) if key in envs else ["environment missing"]
        if found:
            problems[key] = found
    return problems


if __name__ == "__main__":
    import django

    django.setup()
    fleet = FleetSpec(**json.load(sys.stdin))
    fleet.summaries_due = tuple(fleet.summaries_due)
    action = {"seed": _seed, "check": _check}[sys.argv[1]]
    print(json.dumps(action(fleet)))
