"""Server-side binding with psycopg's automatic prepared statements (`DB_PREPARED_STATEMENTS`,
portal/settings.py): a statement a connection runs often is prepared there, so PostgreSQL
parses it once and may reuse its plan; DDL, which takes no bound parameters, is written with
literals (a month's partition bound)."""
from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from django.db import connection

from portal.tenancy.environment_lookup import member_environment
from sync.partitions import ddl

pytestmark = pytest.mark.django_db


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def test_settings_bind_on_the_server_and_prepare():
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5


def test_a_statement_run_often_is_prepared_on_its_connection(env_a, alice):
    for _ in range(6):  # prepared from the 5th run on (psycopg's prepare_threshold)
        assert member_environment(env_a.pk, alice.pk) == env_a
    assert any("portal_environment" in s and "portal_membership" in s
               for s in prepared_statements())


def test_a_months_bound_is_written_as_literals():
    assert ddl.month_bounds_sql(date(2026, 12, 1)) == (
        "FROM ('2026-12-01T00:00:00+00:00') TO ('2027-01-01T00:00:00+00:00')")
