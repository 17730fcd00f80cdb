"""One way to write a duration, in the portal and in the emails alike.

Units stay readable at any size: "45 s", "3 m 05 s", and long totals in hours ("183 h 21 m")
rather than days or a clock reading such as "183:21:04" that looks like a time of day.
"""
from __future__ import annotations


def format_duration(seconds: int | float | None, empty: str = "–") -> str:
    """Seconds as "45 s", "3 m 05 s" or "183 h 21 m" (`empty` for None)."""
    if seconds is None:
        return empty
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} m"
    if minutes:
        return f"{minutes} m {secs:02d} s"
    return f"{secs} s"
