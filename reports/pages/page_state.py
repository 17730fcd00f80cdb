"""What a member's frame around a report page shows, read in one plain SQL statement.

A kept frame (`reports.pages.page_cache.PageFrame`) may be sent only while everything it shows is
unchanged, so every request reads that state: the organisation's environments (name, status, data
version, last sync and its words, overdue, the latest run's outcome), the firing rules (every stored
column, whether this member dismissed the banner, whether it is snoozed now, who acknowledged it),
the organisation's saved views and teams (the filter's team choice) and this member's organisations
and role. Through the ORM that was four querysets whose compiling cost more than everything else a
kept page does; here it is one statement written once (each round trip is a tenth of a kept page's
time), with every column of each row read as text, so a column added later is part of the stamp
without anyone remembering it. An environment's row also carries the few typed columns its overdue
flag and "synced 4 min ago" are computed from (`Environment.is_overdue`, `synced_ago`): both change
with the clock, not the row. Rows are a superset of what the frame shows (all the organisation's
saved views, dismissed banners flagged rather than left out): a change may re-render a frame that
did not need it, never leave one stale.

The kinds of row it found also tell the frame's optional parts (banner, saved-views menu, team
choice) whether to ask their own queries; an organisation page that is not kept asks that of
one plain statement instead (`frame_parts`).
"""
from __future__ import annotations

from datetime import datetime
from functools import cache

from django.contrib.auth import get_user_model
from django.http import HttpRequest

from portal.models import Environment, Membership, Organization, Team
from portal.replicas import connection_for
from portal.templatetags.portal_tags import synced_ago
from reports.alerts.models import AlertRule, BannerDismissal, RuleState
from reports.saved_views.models import SavedView
from sync.models import SyncRun


def _row(alias: str, model) -> str:
    """Every stored column of `model` (as `alias`) as one text: `a|b|…` (NULL as empty)."""
    quote = connection_for(Environment).ops.quote_name
    return " || '|' || ".join(f"COALESCE(CAST({alias}.{quote(f.column)} AS TEXT), '')"
                              for f in model._meta.concrete_fields)


# The typed columns an environment's row carries besides its text (NULL on other rows).
CLOCK_COLUMNS = ("last_synced_at", "created_at", "sync_interval_minutes", "sync_enabled",
                 "status")


@cache
def _statement() -> str:
    env, run = Environment._meta.db_table, SyncRun._meta.db_table
    rule, dismissal = AlertRule._meta.db_table, BannerDismissal._meta.db_table
    user = get_user_model()._meta.db_table
    views, teams = SavedView._meta.db_table, Team._meta.db_table
    member, org = Membership._meta.db_table, Organization._meta.db_table
    quote = connection_for(Environment).ops.quote_name
    clock = ", ".join(f"e.{quote(Environment._meta.get_field(name).column)}"
                      for name in CLOCK_COLUMNS)
    none = ", ".join("NULL" for _ in CLOCK_COLUMNS)
    return (
        f"SELECT 'env', e.id, {_row('e', Environment)} || '|' || "
        f"COALESCE((SELECT r.status FROM {run} r WHERE r.environment_id = e.id "
        f"ORDER BY r.started_at DESC LIMIT 1), ''), {clock} FROM {env} e "
        "WHERE e.organization_id = %s "
        f"UNION ALL SELECT 'rule', a.id, {_row('a', AlertRule)} || '|' || "
        "CASE WHEN a.snoozed_until > %s THEN 'snoozed' ELSE '' END || '|' || "
        f"CASE WHEN EXISTS (SELECT 1 FROM {dismissal} d WHERE d.rule_id = a.id "
        "AND d.user_id = %s AND d.state_seq = a.state_seq) THEN 'dismissed' ELSE '' END "
        f"|| '|' || COALESCE((SELECT u.username FROM {user} u "
        f"WHERE u.id = a.acknowledged_by_id), ''), {none} "
        f"FROM {rule} a WHERE a.organization_id = %s AND a.enabled AND a.state = %s "
        f"UNION ALL SELECT 'view', v.id, {_row('v', SavedView)}, {none} FROM {views} v "
        "WHERE v.organization_id = %s "
        f"UNION ALL SELECT 'team', t.id, {_row('t', Team)}, {none} FROM {teams} t "
        "WHERE t.organization_id = %s "
        f"UNION ALL SELECT 'org', o.id, {_row('o', Organization)} || '|' || m.role, {none} "
        f"FROM {member} m JOIN {org} o ON o.id = m.organization_id WHERE m.user_id = %s "
        "ORDER BY 1, 2")


def frame_state(organization: Organization, user, now: datetime) -> tuple:
    """The stamp of everything a member's frame shows besides the URL, language and day."""
    at = connection_for(Environment).ops.adapt_datetimefield_value(now)
    with connection_for(Environment).cursor() as cursor:
        cursor.execute(_statement(), [organization.pk, at, user.pk, organization.pk,
                                      RuleState.FIRING, organization.pk, organization.pk,
                                      user.pk])
        rows = cursor.fetchall()
    state = []
    for kind, pk, text, *clock in rows:
        if kind == "env":
            typed = dict(zip(CLOCK_COLUMNS, clock, strict=True))
            env = Environment(**typed)
            text += f"|{env.is_overdue(now)}|{synced_ago(env.last_synced_at)}"
        state.append((kind, pk, text))
    return (user.pk, user.get_username(), state)


@cache
def _parts_statement() -> str:
    rule, views = AlertRule._meta.db_table, SavedView._meta.db_table
    teams = Team._meta.db_table
    return (f"SELECT EXISTS (SELECT 1 FROM {rule} WHERE organization_id = %s AND enabled "
            f"AND state = %s), EXISTS (SELECT 1 FROM {views} WHERE organization_id = %s), "
            f"EXISTS (SELECT 1 FROM {teams} WHERE organization_id = %s)")


def frame_parts(request: HttpRequest) -> dict:
    """Context processor: which of the frame's optional parts (the firing banner, the saved
    views menu, the team choice) the page's organisation has anything for, as
    `request.frame_kinds` ("rule", "view", "team"). A kept report page has it from its frame
    state already; any other organisation page asks one plain statement here. The banner,
    the menu and the team choice ask their own (ORM) queries only for a part that is there:
    on a page with none of them those three were 1.4-1.9 ms of building and compiling."""
    organization = getattr(request, "organization", None)
    if organization is not None and getattr(request, "frame_kinds", None) is None:
        with connection_for(Environment).cursor() as cursor:
            cursor.execute(_parts_statement(), [organization.pk, RuleState.FIRING,
                                                organization.pk, organization.pk])
            found = cursor.fetchone()
        request.frame_kinds = frozenset(
            kind for kind, there in zip(("rule", "view", "team"), found, strict=True) if there)
    return {}
