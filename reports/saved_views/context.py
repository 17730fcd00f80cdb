"""Context processor: the member's saved views, listed beside "Save this view" on the report
pages (read only when a page shows them; `render_org_page` sets `request.organization`)."""
from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from reports.saved_views.models import SavedView, visible_to

MENU_SIZE = 12


def saved_views(request: HttpRequest) -> dict:
    organization = getattr(request, "organization", None)
    if organization is None or not request.user.is_authenticated:
        return {}
    if "view" not in getattr(request, "frame_kinds", {"view"}):
        return {"saved_views": []}  # none in the organisation (page_state.frame_parts)
    return {"saved_views": SimpleLazyObject(lambda: list(visible_to(
        SavedView.objects.for_organization(organization), request.user)[:MENU_SIZE]))}
