from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from reports.alerts import receivers  # noqa: F401  (evaluates alerts after syncs)

        self.declare_tenancy()

    @staticmethod
    def declare_tenancy() -> None:
        """How the reading side's models reach their organisation (portal.tenancy.registry)."""
        from portal.tenancy import registry as tenancy
        from reports.models import (
            AlertEvent,
            AlertRule,
            BannerDismissal,
            ReportDelivery,
            ReportSubscription,
            SavedView,
        )

        tenancy.register(ReportSubscription, AlertRule, AlertEvent, SavedView,
                         path="organization")
        tenancy.register(ReportDelivery, path="subscription__organization")
        tenancy.register(BannerDismissal, path="rule__organization")
