"""``manage.py simulate_upstream``: serve every provider's simulator until Ctrl-C."""
from __future__ import annotations

import re
import time
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sync.simulator import Dip, Faults, Lateness, Simulator, SimulatorConfig
from sync.simulator.plugins import plugins


class Command(BaseCommand):
    """Serve every provider's API from a seeded data set (see ``sync.simulator``)."""

    help = (
        "Serve the simulated API of every provider whose package has a simulator, from a "
        "seeded data set, with optional fault injection, until Ctrl-C."
    )
    # Needs neither the database nor URLconf: skip the system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
        parser.add_argument("--seed", type=int, default=42,
                            help="Seed of the data set and of the tokens printed.")
        parser.add_argument("--days", type=int, default=90, help="Days of history served.")
        parser.add_argument("--calls-per-day", type=int, default=500,
                            help="average calls a day per environment (unless its vendor "
                                 "sets its own)")
        parser.add_argument("--end-date", help="last day of the data set, YYYY-MM-DD "
                                               "(default: today, UTC)")
        parser.add_argument("--token", help="bearer token for the first environment whose "
                                            "vendor's tokens start as it does (e.g. talq_...), "
                                            "instead of the derived one")
        parser.add_argument("--faults", default="", help='e.g. "500=0.1,429=0.05,insert=30@2"')
        parser.add_argument("--lateness", default="",
                            help='late final statuses, SHARE:MIN_HOURS-MAX_HOURS,... '
                                 '(default "0.01:0.5-4,0.002:12-30,0.0005:72-120"), or "off"')
        parser.add_argument("--dip", action="append", default=[], metavar="START/HOURS/FACTOR",
                            help="volume × FACTOR for HOURS from START (UTC), e.g. "
                                 "2026-11-18T14:00Z/3h/0.1; repeatable")
        parser.add_argument("--clock-offset", default="0", metavar="[+-]HOURS",
                            help="the simulator's clock runs this many hours ahead of the "
                                 "wall clock (negative: behind), e.g. -3 or 1.5")
        parser.add_argument("--date-zone", default=None, metavar="IANA_ZONE",
                            help="count the vendors' date filters and statistics days in "
                                 "this zone (e.g. America/Sao_Paulo) instead of UTC")
        parser.add_argument("--realtime", action="store_true",
                            help="let the simulator clock tick with the wall clock")

    def handle(self, *args: Any, **options: Any) -> None:
        config = self._config(options)
        try:
            faults = Faults.parse(options["faults"], seed=config.seed)
        except ValueError as exc:
            raise CommandError(f"--faults: {exc}") from exc
        try:
            sim = Simulator(config)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        sim.faults = faults
        try:
            server = sim.serve(options["host"], options["port"])
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}") from exc
        out = self.stdout
        try:
            # Ctrl-C or SIGTERM (`portal.interrupts`) from here on (even while these lines
            # print) stops the server cleanly.
            out.write(f"Simulator serving {sim.start_date} .. clock {sim.now.isoformat()} "
                      f"(seed {config.seed}, {config.calls_per_day} calls/day)")
            served = [(key, plugin) for key, plugin in plugins().items() if sim.envs_of(key)]
            for key, plugin in served:
                out.write(f"{plugin.label} base URL: {server.url_of(key)}")
            width = max((len(key) for key, _plugin in served), default=0)
            for key, plugin in served:
                for env in sim.envs_of(key):
                    extra = plugin.describe(sim, env)
                    out.write(f"  {key:<{width}} {env}: {sim.tokens[env]}"
                              + (f" {extra}" if extra else ""))
            out.write(f"Faults: {faults.to_spec() or 'none'}")
            late = config.lateness.to_spec() if config.lateness else "off"
            out.write(f"Late final statuses: {late}")
            for dip in config.dips:
                out.write(f"Dip: volume × {dip.factor:g} from {dip.start:%Y-%m-%d %H:%M} UTC "
                          f"for {dip.hours:g} h")
            out.write("Press Ctrl-C to stop.")
            out.flush()
            while True:
                time.sleep(0.5)
        except KeyboardInterrupt as exc:
            # The command's one line on the way out: "Stopped by Ctrl-C: served N requests."
            exc.detail = f"served {server.request_count} requests"  # type: ignore[attr-defined]
            raise
        finally:
            server.stop()

    def _config(self, options: dict[str, Any]) -> SimulatorConfig:
        end_date = None
        if options["end_date"]:
            try:
                if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", options["end_date"]):
                    raise ValueError
                end_date = date.fromisoformat(options["end_date"])
            except ValueError:
                raise CommandError(
                    f"--end-date: {options['end_date']!r} is not a YYYY-MM-DD date") from None
        if not 0 <= options["port"] <= 65535:
            raise CommandError("--port must be within 0..65535")
        probe = SimulatorConfig()
        tokens = {}
        if options["token"] is not None:
            token = options["token"]
            prefixes = {key: plugin.token_prefix for key, plugin in plugins().items()}
            vendor = next((key for key, prefix in prefixes.items()
                           if re.fullmatch(re.escape(prefix) + r"[A-Za-z0-9_\-]+", token)), None)
            first = next((k for k, s in probe.environments.items() if s.vendor == vendor), None)
            if first is None:
                raise CommandError("--token must look like a served vendor's prefix ("
                                   + ", ".join(sorted({prefixes[s.vendor] for s in
                                                       probe.environments.values()}))
                                   + ") followed by letters or digits")
            tokens[first] = token
        try:
            lateness = Lateness.parse(options["lateness"])
        except ValueError as exc:
            raise CommandError(f"--lateness: {exc}") from None
        try:
            offset = timedelta(hours=float(options["clock_offset"]))
        except ValueError:
            raise CommandError(f"--clock-offset: {options['clock_offset']!r} is not a number "
                               f"of hours") from None
        try:
            dips = tuple(Dip.parse(text) for text in options["dip"])
        except ValueError as exc:
            raise CommandError(f"--dip: {exc}") from exc
        try:
            return SimulatorConfig(seed=options["seed"], days=options["days"],
                                   calls_per_day=options["calls_per_day"], end_date=end_date,
                                   tokens=tokens, realtime=options["realtime"],
                                   lateness=lateness, dips=dips, clock_offset=offset,
                                   date_zone=options["date_zone"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
