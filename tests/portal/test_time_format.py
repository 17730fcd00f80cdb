"""English times always carry their minutes and no full stop: "9:00 PM" beside "9:05 PM",
and a sentence ending on a time ends with one full stop ("… at 11/26/2026 12:41 AM.")."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone, translation

from portal.formatting import format_moment

TZ = ZoneInfo("America/Sao_Paulo")


def test_times_have_minutes_and_no_full_stop():
    with translation.override("en"), timezone.override(TZ):
        on_the_hour = format_moment(datetime(2026, 11, 26, 21, 0, tzinfo=TZ))
        after = format_moment(datetime(2026, 11, 26, 21, 5, tzinfo=TZ))
        night = format_moment(datetime(2026, 11, 26, 0, 41, tzinfo=TZ))
    assert (on_the_hour, after) == ("11/26/2026 9:00 PM", "11/26/2026 9:05 PM")
    assert not f"reconciled at {night}.".endswith("..")
    with translation.override("pt-br"), timezone.override(TZ):
        assert format_moment(datetime(2026, 11, 26, 21, 0, tzinfo=TZ)) == "26/11/2026 21:00"
