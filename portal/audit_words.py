"""Audit-log actions as sentences in the reader's language ("environment.token_replaced" →
"Environment token replaced" / "Token do ambiente substituído"), for the admin's audit log.

The log stores stable codes (`portal.audit.record`); a code this table does not know (a new
model changed through the admin) is shown as it is stored, never hidden.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SENTENCES = {
    "organization.created": _("Organisation created"),
    "organization.call_retention": _("Call retention changed"),
    "organization.excluded_numbers": _("Numbers left out of resolution changed"),
    "organization.changed": _("Organisation changed in the admin"),
    "member.added": _("Member added"),
    "member.invited": _("Member invited"),
    "member.joined": _("Member joined"),
    "member.invitation_cancelled": _("Invitation withdrawn"),
    "member.role_changed": _("Member's role changed"),
    "member.removed": _("Member removed"),
    "membership.changed": _("Membership changed in the admin"),
    "membership.deleted": _("Membership deleted in the admin"),
    "environment.created": _("Environment added"),
    "environment.changed": _("Environment changed in the admin"),
    "environment.token_replaced": _("Environment token replaced"),
    "environment.agent_ids_changed": _("Environment agents changed"),
    "environment.sync_requested": _("Sync requested"),
    "environment.disconnected": _("Environment removed"),
    "environment.auth_failed": _("Environment token rejected by the upstream"),
    "environment.webhooks_registered": _("Webhooks registered"),
    "environment.webhook_secret_replaced": _("Webhook secret replaced"),
    "api_token.created": _("API token created"),
    "api_token.revoked": _("API token revoked"),
    "subscription.create": _("Summary subscription created"),
    "subscription.update": _("Summary subscription changed"),
    "subscription.delete": _("Summary subscription deleted"),
    "subscription.send_test": _("Test summary sent"),
    "subscription.unsubscribe": _("Unsubscribed from a summary by its link"),
    "subscription.self_subscribe": _("Member subscribed to a summary"),
    "subscription.self_unsubscribe": _("Member unsubscribed from a summary"),
    "delivery.resend": _("Summary sent again"),
    "saved_view.create": _("Saved view created"),
    "saved_view.share": _("Saved view shared"),
    "saved_view.delete": _("Saved view deleted"),
    "alert_rule.create": _("Alert rule created"),
    "alert_rule.update": _("Alert rule changed"),
    "alert_rule.delete": _("Alert rule deleted"),
    "wallboard.thresholds": _("Wallboard thresholds changed"),
}


def action_sentence(code: str) -> str:
    """The action as a sentence, or the stored code when it is not known here."""
    sentence = SENTENCES.get(code)
    return str(sentence) if sentence is not None else code
