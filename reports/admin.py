"""Admin for emailed summaries: subscriptions (with "send test now") and the delivery log
(with "re-send failed"). Scoped like every admin by `portal.admin.base.TenantAdminMixin`:
staff see only organisations they administer; deliveries are read-only records.
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portal import audit
from portal.admin.base import ReadOnlyTenantInline, TenantModelAdmin

# The alerts' and saved views' admins live with them; Django imports this module only, so it
# names theirs (registering them with the admin site).
from reports.alerts import admin as alerts_admin
from reports.holidays import admin as holidays_admin
from reports.models import ReportDelivery, ReportSubscription
from reports.privacy import admin as privacy_admin
from reports.resolution import admin as resolution_admin
from reports.saved_views import admin as saved_views_admin
from reports.summaries.models import DeliveryStatus


class DeliveryInline(ReadOnlyTenantInline):
    model = ReportDelivery
    fields = ["period_start", "period_end", "is_test", "status", "attempts", "sent_at", "error"]
    readonly_fields = fields


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(TenantModelAdmin):
    list_display = ["name", "organization", "cadence", "schedule", "language", "active",
                    "next_run_at", "last_status"]
    list_filter = ["cadence", "active", "language", "attach_csv", "organization"]
    search_fields = ["name", "organization__name", "organization__slug"]
    list_select_related = ["organization"]
    filter_horizontal = ["environments", "members"]
    readonly_fields = ["next_run_at", "created_by", "created_at", "updated_at"]
    inlines = [DeliveryInline]
    actions = ["send_test_now"]

    @admin.display(description=_lazy("schedule"))
    def schedule(self, obj: ReportSubscription) -> str:
        day = f"{obj.get_weekday_display()} " if obj.cadence == "weekly" else ""
        return f"{day}{obj.hour:02d}:00 {obj.tz_name}"

    @admin.display(description=_lazy("last delivery"))
    def last_status(self, obj: ReportSubscription) -> str:
        last = obj.deliveries.order_by("-created_at").first()
        return f"{last.get_status_display()} ({last.period_start})" if last else "—"

    def save_model(self, request, obj: ReportSubscription, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        schedule_fields = {"cadence", "weekday", "hour", "timezone", "active"}
        if not change or schedule_fields & set(form.changed_data):
            obj.reschedule()
        super().save_model(request, obj, form, change)  # the mixin writes the audit entry

    @admin.action(description=_lazy("Send test now (to me)"))
    def send_test_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        if not request.user.email:
            self.message_user(request, _("Your account has no email address."),
                              messages.ERROR)
            return
        # The sending chain (rendering, charts, mail) is imported when an action sends, not
        # by every process that starts Django and so registers the admin.
        from reports.summaries.actions import send_test

        for sub in queryset.select_related("organization"):
            delivery = send_test(sub, request.user)
            audit.record("subscription.send_test", actor=request.user,
                         organization=sub.organization, target=sub, status=delivery.status)
            level = messages.SUCCESS if delivery.status == DeliveryStatus.SENT else messages.ERROR
            self.message_user(request, f"{sub.name}: {delivery.get_status_display()} "
                                       f"{delivery.error}".strip(), level)


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(TenantModelAdmin):
    read_only = True  # deliveries are made by the dispatcher, never by hand
    list_display = ["subscription", "organization", "period_start", "period_end", "is_test",
                    "status", "attempts", "sent_at", "short_error"]
    list_filter = ["status", "is_test", "subscription__cadence", "subscription__organization"]
    search_fields = ["subscription__name", "subscription__organization__name", "error"]
    list_select_related = ["subscription__organization"]
    date_hierarchy = "created_at"
    readonly_fields = ["subscription", "period_start", "period_end", "scheduled_for", "is_test",
                       "requested_by", "status", "recipient_states", "attempts",
                       "next_attempt_at", "claimed_at", "sent_at", "error", "created_at"]
    exclude = ["recipients"]
    actions = ["resend_failed"]

    @admin.display(description=_lazy("organisation"),
                   ordering="subscription__organization__name")
    def organization(self, obj: ReportDelivery):
        return obj.subscription.organization

    @admin.display(description=_lazy("error"))
    def short_error(self, obj: ReportDelivery) -> str:
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error

    @admin.display(description=_lazy("recipients"))
    def recipient_states(self, obj: ReportDelivery) -> str:
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li>{}: {} {}</li>",
            ((email, s.get("status"), s.get("error", "")) for email, s in obj.recipients.items()),
        ))

    @admin.action(description=_lazy(
        "Re-send failed deliveries (to recipients who did not get them)"))
    def resend_failed(self, request: HttpRequest, queryset: QuerySet) -> None:
        from reports.summaries.actions import resend  # imported on use: see send_test_now
        from reports.summaries.dispatch import send_claimed

        now = timezone.now()
        done = 0
        for delivery in queryset.filter(status=DeliveryStatus.FAILED):
            if resend(delivery, now):
                send_claimed(delivery.pk, now)
                done += 1
                audit.record("delivery.resend", actor=request.user,
                             organization=delivery.subscription.organization, target=delivery)
        skipped = queryset.count() - done
        self.message_user(request, _(
            "Re-sent %(done)d failed delivery(ies); %(skipped)d skipped (only failed "
            "deliveries can be re-sent).") % {"done": done, "skipped": skipped})

__all__ = ["ReportDeliveryAdmin", "ReportSubscriptionAdmin", "alerts_admin", "holidays_admin",
           "privacy_admin", "resolution_admin", "saved_views_admin"]
