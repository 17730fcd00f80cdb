"""Context processor: the "firing now" banner on every page of an organisation."""
from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from reports.alerts.models import AlertRule, RuleState


def firing_alerts(request: HttpRequest) -> dict:
    """Enabled rules of the page's organisation that are firing (read only if the page
    shows the banner; `portal.pages.render_org_page` sets `request.organization`)."""
    organization = getattr(request, "organization", None)
    if organization is None:
        return {}
    return {"firing_alerts": SimpleLazyObject(lambda: list(
        AlertRule.objects.filter(organization=organization, enabled=True,
                                 state=RuleState.FIRING).order_by("name")[:5]))}
