"""Template helpers for the portal frame: optional links, query-string edits, freshness."""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlencode

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.durations import format_duration
from portal.form_renderer import template_text
from portal.formatting import (
    format_change_pct,
    format_int,
    format_money,
    format_number,
    format_percent,
    format_points,
    format_points_change,
    format_price,
)
from portal.kept_urls import kept_reverse

register = template.Library()


@register.simple_tag
def kept_url(name: str, *args) -> str:
    """`{% url name args %}`, the same text, from the paths kept per process
    (`portal.kept_urls`): the header's links on every page."""
    return kept_reverse(name, args)


@register.simple_tag
def optional_url(name: str, *args) -> str:
    """The URL of `name`, or "" when that page is not installed (yet)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with `changes` applied (None/"" removes a key; a changed key
    moves to the end), encoded as `QueryDict.urlencode` does. Built from the pairs: a
    `QueryDict.copy()` is a deep copy, and a sorted table asks for a link per column."""
    pairs = [(key, value) for key, values in context["request"].GET.lists()
             if key not in changes for value in values]
    pairs += [(key, value) for key, value in changes.items() if value not in (None, "")]
    encoded = urlencode(pairs)
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_th(context, key: str, label, num: bool = False) -> str:
    """A sortable column's header: `<th>` with its `aria-sort` and a link that sorts by `key`
    (descending first, ascending when it already sorts descending), the page reset.

    Written in Python: the explorer and agents tables had one `{% include %}` per column
    (6 and 13), each with three `if`s and a `query_with`, ~1.5 ms of a search page's
    template time. The same bytes as `templates/reports/includes/sort_th.html`, which
    tests/reports/test_table_sorting.py renders beside it."""
    sort = context.get("sort")
    ascending, descending = sort == key, sort == f"-{key}"
    link = query_with(context, sort=key if descending else f"-{key}", page="")
    state = "ascending" if ascending else "descending" if descending else "none"
    arrow = " ▲" if ascending else " ▼" if descending else ""
    css = ' class="num"' if num else ""
    return SafeString(f'<th scope="col"{css} aria-sort="{state}">'
                      f'<a href="{template_text(link)}">{template_text(label)}{arrow}</a></th>\n')


@register.filter(is_safe=True)
def chart_json(value, element_id: str) -> str:
    """Django's `json_script` filter, the same bytes, with its three escapes made by
    `str.replace` rather than `str.translate`: a dashboard's chart data (17-60 KB) took
    1.6-2.6 ms of the cold dashboard's template time in `translate` alone (0.05 ms this way).
    tests/reports/test_chart_data.py holds the two equal."""
    text = json.dumps(value, cls=DjangoJSONEncoder)
    text = text.replace(">", "\\u003E").replace("<", "\\u003C").replace("&", "\\u0026")
    return SafeString(f'<script id="{template_text(element_id)}" type="application/json">'
                      f"{text}</script>")


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


# The formats of pages, charts and emails (portal.formatting, portal.durations) under their
# template names: durations ("3 m 05 s"), 0–1 rates ("64.6%"), changes of a rate in percentage
# points ("3.4", or with their unit: "+3.4 pts"), signed changes in percent ("+12.5%"), counts
# with the language's thousands separator ("8,516" / "8.516"), other figures with a number of
# decimals (`{{ minutes|number:2 }}`).
register.filter("duration", format_duration)
register.filter("percent", format_percent)
register.filter("points", format_points)
register.filter("points_change", format_points_change)
register.filter("change_pct", format_change_pct)
register.filter("count", format_int)
register.filter("number", format_number)


@register.filter
def money(value, currency: str | None = "USD") -> str:
    """A total in its currency: `{{ t.cost|money:t.currency }}` → "US$ 2,792.93"."""
    return format_money(value, currency)


@register.filter
def money_per_call(value, currency: str | None = "USD") -> str:
    """A per-call figure in its currency, up to four decimals under one cent."""
    return format_money(value, currency, per_call=True)


@register.filter
def price(value, currency: str | None = "USD") -> str:
    """A unit price (per minute) in its currency, up to four decimals."""
    return format_price(value, currency)


@register.filter
def minutes(delta) -> int:
    """A timedelta (e.g. the login cool-down) in whole minutes, at least 1."""
    return max(1, round(delta.total_seconds() / 60)) if delta else 0


@register.simple_tag(takes_context=True)
def team_choices(context) -> list[tuple[int, str]]:
    """The teams a page's team filter offers (`?team=`): every team of the organisation, or a
    restricted member's own. Declared across the filter on purpose: the page's context may be
    narrowed to one team already, and the selector still lists the member's others."""
    from portal.models import RESTRICTABLE_ROLES, Team

    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    if tenant is None or "team" not in getattr(request, "frame_kinds", {"team"}):
        return []  # no member, or the organisation has no team (frame_parts in reports)
    teams = Team.objects.for_organization(tenant.organization).across_organizations()
    if getattr(tenant.membership, "restricted", False) and \
            tenant.membership.role in RESTRICTABLE_ROLES:
        teams = teams.filter(members=tenant.membership)
    return list(teams.order_by("name").values_list("pk", "name"))
