"""Every model of the `reports` app, by the package that defines it (one door: `reports.models`).

Emailed summaries (`reports.summaries.models`), alert rules and events (`reports.alerts.models`),
the holiday calendar (`reports.holidays.models`)
and saved views (`reports.saved_views.models`) keep their models beside their feature; the tables
belong to this app. Choices are imported from the module that defines them.
"""
from reports.alerts.models import AlertEvent, AlertRule, BannerDismissal
from reports.holidays.models import Holiday
from reports.saved_views.models import SavedView
from reports.summaries.models import ReportDelivery, ReportSubscription
from reports.wallboard.models import WallboardThresholds

__all__ = [
    "AlertEvent",
    "AlertRule",
    "BannerDismissal",
    "Holiday",
    "ReportDelivery",
    "ReportSubscription",
    "SavedView",
    "WallboardThresholds",
]
