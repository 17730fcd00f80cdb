"""Numbers left out of resolution (sync.excluded_numbers): a number on its organisation's list
has no number to match — its calls leave resolved, repeat and pending for answered without a
number, in the report and in the rollup (a recount), and are nobody's next contact; calls
written while it is listed are flagged as they are written; taking it off the list restores
every figure exactly; another organisation's list changes nothing here."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.tasks_client import enqueue
from reports.queries.outcomes import outcomes_summary
from sync.excluded_numbers import change_list
from sync.models import Call, OutcomeDayRollup
from sync.models.outcomes import REPEAT_COLUMNS
from sync.outcomes import settle_organisation
from tests.sync.test_outcomes_resolution import (
    NOW,
    _check_next,
    _contact,
    _rollup_is_a_recount,
    _row,
    _totals,
    _world,
    _write,
    mirrored,  # noqa: F401 (a fixture)
)

pytestmark = pytest.mark.django_db(transaction=True)

LISTED = "5511987654303"
START, END = date(2026, 3, 1), date(2026, 4, 7)


def _figures(envs) -> dict:
    summary = outcomes_summary(envs, START, END, "day", now=NOW)
    return {**_totals(summary), "no_number": summary.totals.no_number}


def _rollup(envs) -> list[tuple]:
    return sorted(OutcomeDayRollup.objects.filter(environment__in=envs).values_list(
        "environment_id", "day", "utc_day", "agent_external_id", "direction", "answered",
        "answered_no_number", *REPEAT_COLUMNS))


def _listed_calls(org) -> list[Call]:
    return [c for c in Call.objects.filter(environment__organization=org)
            if not c.is_testing and c.direction in ("inbound", "outbound")
            and _contact(c) == LISTED]


def _change(org, entries: dict[str, str]) -> None:
    """The list changed as the settings page changes it: written, then the task."""
    changed = change_list(org, entries)
    enqueue("sync.resettle_excluded_numbers", org.pk, changed)


def test_a_listed_number_has_no_number_to_match_and_unlisting_restores_it(
        org_a, env_a, org_b, mirrored, eager_tasks):  # noqa: F811
    env_a2, env_b2 = _world(org_a, env_a, org_b)
    envs = [env_a, env_a2]
    before, rollup_before = _figures(envs), _rollup(envs)
    others_before = _figures([env_b2])
    listed = _listed_calls(org_a)
    others_next = {c.external_id: c.next_contact_at
                   for c in Call.objects.filter(environment__organization=org_a)
                   if _contact(c) != LISTED}
    in_period = [c for c in listed if c.status == "completed"
                 and START <= c.started_at.astimezone(org_a.tzinfo).date() <= END]
    assert in_period and any(c.next_contact_at for c in listed)

    _change(org_a, {LISTED: "switchboard"})
    after = _figures(envs)
    # Every answered call of the number moved to answered without a number.
    assert after["no_number"] == before["no_number"] + len(in_period)
    assert after["answered"] == before["answered"]
    assert (after["settled"] + after["pending"]
            == before["settled"] + before["pending"] - len(in_period))
    assert after["resolved"] + after["repeat_contacts"] == after["settled"]
    assert all(c.contact_excluded and c.next_contact_at is None for c in _listed_calls(org_a))
    # Nobody's next contact: every other call keeps the one it had (only calls of one number
    # are each other's contacts), and a set-based recount from scratch agrees.
    assert {c.external_id: c.next_contact_at for c in Call.objects.filter(
        environment__organization=org_a) if _contact(c) != LISTED} == others_next
    assert settle_organisation(org_a.pk) == 0
    _rollup_is_a_recount(envs)
    # Another organisation's calls of the same digits are not its list's.
    assert _figures([env_b2]) == others_before
    assert not Call.objects.filter(environment=env_b2, contact_excluded=True).exists()

    # A call of the number written while it is listed is flagged as it is written, and
    # settles no earlier call.
    late = _row(env_a, "late-listed", datetime(2026, 3, 20, 9, tzinfo=UTC), "+55 11 98765-4303",
                "inbound", "completed")
    _write(env_a, [late])
    call = Call.objects.get(external_id="late-listed")
    assert call.contact_excluded and call.next_contact_at is None
    assert not Call.objects.filter(next_contact_at=late["started_at"]).exists()
    assert settle_organisation(org_a.pk) == 0
    _rollup_is_a_recount(envs)
    Call.objects.filter(pk=call.pk).delete()
    settle_organisation(org_a.pk)

    # Off the list: every figure, next contact and rollup row as before.
    _change(org_a, {})
    assert _figures(envs) == before
    assert _rollup(envs) == rollup_before
    assert not Call.objects.filter(contact_excluded=True).exists()
    _check_next(org_a)


def test_a_label_alone_changes_no_call(org_a, env_a):
    assert change_list(org_a, {LISTED: "trunk"}) == [LISTED]
    assert change_list(org_a, {LISTED: "the trunk"}) == []
    assert change_list(org_a, {}) == [LISTED]
