"""The sync side's answers to tenancy signals (connected in `SyncConfig.ready`)."""
from __future__ import annotations

from django.db.models import F
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from portal.models import Environment, Organization
from portal.signals import organization_timezone_changed
from sync import under_way  # noqa: F401  (marks an interrupted command's runs stopped)
from sync.callback_links import relink_environment
from sync.write.rollups import rebuild_rollups


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


@receiver(pre_save, sender=Environment, dispatch_uid="sync.callback_window_before")
def _remember_match_window(sender, instance: Environment, update_fields=None, **kwargs) -> None:
    if instance.pk is None or (update_fields is not None
                               and "callback_match_days" not in update_fields):
        instance._match_days_before = None
        return
    instance._match_days_before = Environment.objects.filter(pk=instance.pk).values_list(
        "callback_match_days", flat=True).first()


@receiver(post_save, sender=Environment, dispatch_uid="sync.callback_window_after")
def relink_on_new_match_window(sender, instance: Environment, created: bool, **kwargs) -> None:
    """A new callback match window relinks the environment's callbacks (one statement)."""
    before = getattr(instance, "_match_days_before", None)
    if not created and before is not None and before != instance.callback_match_days:
        relink_environment(instance)
        Environment.objects.filter(pk=instance.pk).update(data_version=F("data_version") + 1)
