"""The sync side's answers to tenancy signals (connected in `SyncConfig.ready`)."""
from __future__ import annotations

from django.db.models import F
from django.dispatch import receiver

from portal.models import Environment, Organization
from portal.signals import organization_timezone_changed
from sync.rollups import rebuild_rollups


@receiver(organization_timezone_changed, dispatch_uid="sync.rebuild_rollups_on_timezone")
def rebuild_reporting_days(sender, organization: Organization, **kwargs) -> int:
    """Recompute the rollups (days are org-local) after a timezone change; bump data versions
    so no cached report keeps the old days. Returns the number of environments."""
    environments = list(organization.environments.all())
    for env in environments:
        env.organization = organization
        rebuild_rollups(env)
    Environment.objects.for_organization(organization).update(
        data_version=F("data_version") + 1)
    return len(environments)
