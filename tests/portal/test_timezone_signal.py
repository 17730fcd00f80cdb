"""portal/ imports neither sync/ nor reports/ (`make lint`: import-linter's contracts in
pyproject.toml): an organisation's new time zone reaches the sync through a signal."""
from __future__ import annotations


def test_timezone_change_reaches_sync_through_a_signal(org_a):
    from portal.models import Organization
    from portal.signals import organization_timezone_changed
    from sync.receivers import rebuild_reporting_days

    answers = organization_timezone_changed.send(sender=Organization, organization=org_a)
    assert (rebuild_reporting_days, 0) in answers  # (the rebuild itself: test_admin_scoping)
