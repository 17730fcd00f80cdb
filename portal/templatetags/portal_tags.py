"""Template helpers for the portal frame: optional links, query-string edits, freshness."""
from __future__ import annotations

from datetime import datetime

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


@register.simple_tag
def optional_url(name: str, *args) -> str:
    """The URL of `name`, or "" when that page is not installed (yet)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with `changes` applied (None/"" removes a key)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag
def synced_ago(moment: datetime | None) -> str:
    """"synced 4 min ago" / "never synced", short and translatable."""
    if moment is None:
        return _("never synced")
    minutes = int((timezone.now() - moment).total_seconds() // 60)
    if minutes < 1:
        return _("synced just now")
    if minutes < 120:
        return ngettext("synced %(n)d min ago", "synced %(n)d min ago", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("synced %(n)d hour ago", "synced %(n)d hours ago", hours) % {"n": hours}
    days = hours // 24
    return ngettext("synced %(n)d day ago", "synced %(n)d days ago", days) % {"n": days}


@register.filter
def duration(seconds: int | float | None) -> str:
    """Seconds as h:mm:ss or m:ss."""
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def percent(value: float | None) -> str:
    from django.utils.formats import number_format

    if value is None:
        return "–"
    return f"{number_format(value * 100, 1)} %"


@register.filter
def points(change: float | None) -> str:
    """A change of a rate (0.034) as localised percentage points ("3.4")."""
    from django.utils.formats import number_format

    return "–" if change is None else number_format(change * 100, 1)


def _int(value: int | None) -> str:
    from django.utils.formats import number_format

    return "–" if value is None else number_format(value, force_grouping=True)


@register.simple_tag
def series_rows(series) -> str:
    """The calls-per-day table body, built in one pass (hundreds of cells per page)."""
    from django.utils.formats import date_format
    from django.utils.html import format_html_join

    def cells(f) -> str:
        values = (_int(f.total), _int(f.answered), _int(f.no_answer), _int(f.busy),
                  _int(f.failed), percent(f.answer_rate))
        return format_html_join("", '<td class="num">{}</td>', ((v,) for v in values))

    return format_html_join("", "<tr><td>{}</td>{}</tr>", (
        (date_format(p.start, "SHORT_DATE_FORMAT"), cells(p.figures)) for p in series))


@register.simple_tag
def heatmap_rows(rows) -> str:
    """Heatmap body: one row per weekday, cells shaded by their share of the busiest hour."""
    from django.utils.html import format_html_join

    # Shading stops at 60 % opacity so the dark figures keep a contrast above 4.5:1.
    def cells(values):
        return format_html_join("", '<td style="background: rgba(29,78,216,{})" title="{}">{}</td>',
                                ((f"{share * 0.6:.2f}", _int(n), _int(n)) for n, share in values))

    return format_html_join("", '<tr><th scope="row">{}</th>{}</tr>',
                            ((str(day), cells(values)) for day, values in rows))
