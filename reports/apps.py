from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from portal import startup_gc


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from reports import demo_tour  # noqa: F401  (the demo's anomaly rule)
        from reports.alerts import receivers  # noqa: F401  (evaluates alerts after syncs)

        self.declare_tenancy()
        self.declare_personal_fields()
        # The last installed app: start-up is over (portal/startup_gc.py).
        startup_gc.resume()

    @staticmethod
    def declare_personal_fields() -> None:
        """The reading side's fields that may quote a caller's number, for erasures
        (`sync.privacy.fields`): alert snapshots, saved searches, delivery errors, the
        audit log's details."""
        from sync.privacy.fields import register

        for model, field in (("reports.AlertRule", "last_reading"),
                             ("reports.AlertRule", "last_note"),
                             ("reports.AlertEvent", "coverage"),
                             ("reports.AlertEvent", "error"),
                             ("reports.AlertEvent", "recipients"),
                             ("reports.SavedView", "query"),
                             ("reports.SavedView", "name"),
                             ("reports.ReportDelivery", "error")):
            register(model, field)
        register("portal.AuditLog", "details")
        register("portal.AuditLog", "target_repr")

    @staticmethod
    def declare_tenancy() -> None:
        """How the reading side's models reach their organisation (portal.tenancy.registry)."""
        from portal.tenancy import registry as tenancy
        from portal.tenancy.restriction import restrict
        from reports.models import (
            AlertEvent,
            AlertRule,
            BannerDismissal,
            Holiday,
            ReportDelivery,
            ReportSubscription,
            SavedView,
            WallboardThresholds,
        )

        tenancy.register(ReportSubscription, AlertRule, AlertEvent, SavedView,
                         WallboardThresholds, Holiday, path="organization")
        tenancy.register(ReportDelivery, path="subscription__organization")
        tenancy.register(BannerDismissal, path="rule__organization")
        # A member restricted to teams sees their teams' rules only (portal.tenancy.restriction).
        restrict(AlertRule, kind="team", team="team")
        restrict(AlertEvent, kind="team", team="rule__team")
        restrict(ReportSubscription, ReportDelivery, SavedView, BannerDismissal,
                 WallboardThresholds, Holiday, kind="open")
