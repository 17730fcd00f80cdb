"""What a member's frame around a report page shows, read in two plain SQL queries.

A kept frame (`reports.pages.page_cache.PageFrame`) may be sent only while everything it shows is
unchanged, so every request reads that state: the organisation's environments (name, status,
data version, last sync and its words, overdue, the latest run's outcome), the firing rules
(every stored column, whether this member dismissed the banner, whether it is snoozed now,
who acknowledged it), the organisation's saved views and this member's organisations and
role. Through the ORM that was four querysets whose compiling cost more than everything else
a kept page does; here it is two statements written once (portable SQL: PostgreSQL and
SQLite), with every column of each row read, so a column added later is part of the stamp
without anyone remembering it. Rows are a superset of what the frame shows (all the
organisation's saved views, dismissed banners flagged rather than left out): a change may
re-render a frame that did not need it, never leave one stale.
"""
from __future__ import annotations

from datetime import datetime
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection

from portal.models import Environment, Membership, Organization
from portal.templatetags.portal_tags import synced_ago
from reports.alerts.models import AlertRule, BannerDismissal, RuleState
from reports.saved_views.models import SavedView
from sync.models import SyncRun


def _row(alias: str, model) -> str:
    """Every stored column of `model` (as `alias`) as one text: `a|b|…` (NULL as empty)."""
    quote = connection.ops.quote_name
    return " || '|' || ".join(f"COALESCE(CAST({alias}.{quote(f.column)} AS TEXT), '')"
                              for f in model._meta.concrete_fields)


@cache
def _statements() -> tuple[str, str]:
    env, run = Environment._meta.db_table, SyncRun._meta.db_table
    environments = (
        f"SELECT e.*, (SELECT r.status FROM {run} r WHERE r.environment_id = e.id "
        f"ORDER BY r.started_at DESC LIMIT 1) AS last_run_status FROM {env} e "
        "WHERE e.organization_id = %s ORDER BY e.id")
    rule, dismissal = AlertRule._meta.db_table, BannerDismissal._meta.db_table
    user = get_user_model()._meta.db_table
    views = SavedView._meta.db_table
    member, org = Membership._meta.db_table, Organization._meta.db_table
    rest = (
        f"SELECT 'rule', a.id, {_row('a', AlertRule)} || '|' || "
        "CASE WHEN a.snoozed_until > %s THEN 'snoozed' ELSE '' END || '|' || "
        f"CASE WHEN EXISTS (SELECT 1 FROM {dismissal} d WHERE d.rule_id = a.id "
        "AND d.user_id = %s AND d.state_seq = a.state_seq) THEN 'dismissed' ELSE '' END "
        f"|| '|' || COALESCE((SELECT u.username FROM {user} u "
        "WHERE u.id = a.acknowledged_by_id), '') "
        f"FROM {rule} a WHERE a.organization_id = %s AND a.enabled AND a.state = %s "
        f"UNION ALL SELECT 'view', v.id, {_row('v', SavedView)} FROM {views} v "
        "WHERE v.organization_id = %s "
        f"UNION ALL SELECT 'org', o.id, {_row('o', Organization)} || '|' || m.role "
        f"FROM {member} m JOIN {org} o ON o.id = m.organization_id WHERE m.user_id = %s "
        "ORDER BY 1, 2")
    return environments, rest


def frame_state(organization: Organization, user, now: datetime) -> tuple:
    """The stamp of everything a member's frame shows besides the URL, language and day."""
    environments_sql, rest_sql = _statements()
    environments = [
        (_values(e), e.last_run_status, e.is_overdue(now), str(synced_ago(e.last_synced_at)))
        for e in Environment.objects.raw(environments_sql, [organization.pk])]
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(rest_sql, [at, user.pk, organization.pk, RuleState.FIRING,
                                  organization.pk, user.pk])
        rest = cursor.fetchall()
    return (user.pk, user.get_username(), environments, rest)


def _values(instance) -> tuple:
    return tuple(getattr(instance, f.attname) for f in instance._meta.concrete_fields)
