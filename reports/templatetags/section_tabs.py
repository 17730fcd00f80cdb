"""`{% section_tabs name %}`: the organisation's section tabs in every page's header.

Written in Python: the links of `base.html`'s navigation, each with `{% url %}`, a
`carried_query`, an `if` for the current section and a `translate`, were ~1 ms of every
organisation page's template time. The same bytes as the template lines they
replaced (`TABS` in tests/portal/test_section_tabs.py, rendered beside this tag over every
section, with and without Origins AI, as owner and viewer, in both languages).
"""
from __future__ import annotations

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from portal.form_renderer import template_text
from portal.kept_urls import kept_reverse
from reports.templatetags.drill_tags import carried_query
from reports.templatetags.quality_tags import has_quality

register = template.Library()

CURRENT = ' aria-current="page"'


def _tab(href: str, label: str, current: bool) -> str:
    return (f'<a href="{template_text(href)}"{CURRENT if current else ""}>'
            f"{template_text(label)}</a>")


@register.simple_tag(takes_context=True)
def section_tabs(context, name: str | None) -> str:
    """The tabs of the organisation's sections, the current one (`name`, the URL name)
    marked; the Quality tab only with an Origins AI environment, Settings opening the
    environments for an admin and the API tokens for anyone else."""
    slug, name = context["org"].slug, name or ""

    def carried(page: str) -> str:
        return kept_reverse(page, (slug,)) + carried_query(context, page)

    tabs = [
        _tab(carried("dashboard"), _("Dashboard"), name == "dashboard"),
        _tab(carried("calls"), _("Calls"), name in ("calls", "call-detail")),
        _tab(carried("callbacks"), _("Callbacks"), name == "callbacks"),
        _tab(carried("agents"), _("Agents"), name == "agents"),
        _tab(carried("outcomes"), _("Outcomes"), name == "outcomes"),
        _tab(carried("kpis"), _("KPIs"), name == "kpis"),
        _tab(carried("quality"), _("Quality"), name == "quality")
        if has_quality(context.get("org_environments")) else "",
        _tab(kept_reverse("live", (slug,)), _("Live"), name in ("live", "live-thresholds")),
        _tab(kept_reverse("saved-views", (slug,)), _("Saved views"), name == "saved-views"),
        _tab(kept_reverse("sync-status", (slug,)), _("Sync"), name == "sync-status"),
        _tab(kept_reverse("settings-environments" if context.get("can_admin")
                          else "settings-tokens", (slug,)), _("Settings"),
             any(word in name for word in ("settings", "subscription", "alerts"))),
    ]
    return SafeString("\n  ".join(tabs))
