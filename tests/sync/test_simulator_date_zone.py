"""The simulator's `date_zone`: Talkover's date filters and callback-stats days counted in an
IANA zone, not UTC (its docs do not say which), so the sync is tested against an upstream
whose days are not ours."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sync.providers.talkover.simulator.store import NO_FILTER
from sync.simulator import Simulator
from tests.support.sync_support import END, ENV, small_config

ZONES = ["Etc/GMT+12", "America/Sao_Paulo", "UTC", "Asia/Kolkata", "Pacific/Kiritimati"]


@pytest.mark.parametrize("zone", ZONES)
def test_date_filters_and_callback_days_are_the_zones_days(zone):
    sim = Simulator(small_config(days=4, calls_per_day=80, date_zone=zone,
                                 now=datetime(END.year, END.month, END.day, 23, 0, tzinfo=UTC)))
    tz = ZoneInfo(zone)
    assert sim.today == sim.now.astimezone(tz).date()
    everything = list(sim.truth.calls(ENV))
    days = sorted({datetime.fromisoformat(c["created_at"]).astimezone(tz).date()
                   for c in everything})
    listed = 0
    for day in days:
        calls = list(sim.truth.calls(ENV, day, day))
        assert calls, day
        assert {datetime.fromisoformat(c["created_at"]).astimezone(tz).date()
                for c in calls} == {day}
        assert sim.truth.call_count(ENV, day, day) == len(calls)
        listed += len(calls)
    assert listed == len(everything)
    # One-day callback figures add up to the range's, whatever the zone.
    first, last = days[0], days[-1]
    whole = sim.truth.callback_stats(ENV, first, last)
    received = sum(sim.truth.callback_stats(ENV, d, d)["total_callbacks_received"]
                   for d in days)
    assert received == whole["total_callbacks_received"] > 0


def test_pages_of_a_zoned_day_are_its_listing_in_order():
    sim = Simulator(small_config(days=3, calls_per_day=120, date_zone="America/New_York"))
    store = sim.talkover_store(ENV)
    day = (END - timedelta(days=1)).toordinal()
    total, first = store.page(NO_FILTER, day, day, sim.now_ts(), 0, 7)
    ids = [r.id for r in store.listed(NO_FILTER, day, day, sim.now_ts())]
    assert total == len(ids) and [r.id for r in first] == ids[:7]
    _, later = store.page(NO_FILTER, day, day, sim.now_ts(), 7, 1000)
    assert [r.id for r in first + later] == ids


def test_an_unknown_zone_is_refused():
    with pytest.raises(ValueError, match="IANA"):
        small_config(date_zone="Mars/Olympus")


def test_inserts_land_in_the_zones_day():
    sim = Simulator(small_config(days=2, calls_per_day=40, date_zone="Asia/Tokyo"))
    day = date.fromordinal(sim.today.toordinal() - 1)
    before = sim.truth.call_count(ENV, day, day)
    sim.insert_calls(ENV, 3, lo=day.toordinal(), hi=day.toordinal())
    assert sim.truth.call_count(ENV, day, day) == before + 3
