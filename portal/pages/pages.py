"""What every organisation page shows around its content: switcher, freshness, warnings.

Views call `render_org_page` instead of `render`, so the header of every page states which
organisation and environments it shows, when they last synced, and whether a sync failed.
"""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone
from django.utils.safestring import SafeString

from portal.models import Organization
from portal.tenancy.access import membership_for, organizations_for_user

LAST_ORG_SESSION_KEY = "last_org"


def remember_organization(request: HttpRequest, organization: Organization) -> None:
    """The organisation the member opened last (home goes there). Written only when it
    changes: an assignment marks the session modified, and every page view then paid for a
    session UPDATE in its own transaction."""
    if request.session.get(LAST_ORG_SESSION_KEY) != organization.slug:
        request.session[LAST_ORG_SESSION_KEY] = organization.slug


def render_org_page(
    request: HttpRequest,
    organization: Organization,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    """Render `template` with the organisation frame (switcher, freshness, warnings)."""
    remember_organization(request, organization)
    # The environment chips come from `sync.health.environment_health` (a context processor).
    request.organization = organization
    tenant = getattr(request, "tenant", None)  # set by portal.tenancy.access.org_page
    if tenant is not None and tenant.organization.pk == organization.pk:
        membership = tenant.membership
    else:
        tenant = None
        membership = membership_for(request.user, organization)
    # The switcher's organisations: read by the page's door with the membership.
    user_orgs = tenant.user_organizations if tenant is not None else None
    if user_orgs is None:
        user_orgs = organizations_for_user(request.user).order_by("name")
    frame = {
        "org": organization,
        "membership": membership,
        "can_admin": membership is not None and membership.has_role("admin"),
        "user_orgs": list(user_orgs),
    }
    frame.update(context or {})
    # Every time on an organisation's pages is shown in the organisation's timezone.
    with timezone.override(organization.tzinfo):
        return render(request, template, frame, status=status)


def render_org_part(
    request: HttpRequest, organization: Organization, template: str, context: dict[str, Any]
) -> SafeString:
    """Render a part of an organisation page on its own (the calls explorer's results, sent
    inside a kept frame: `reports.pages.page_cache`): in the organisation's timezone, with the
    request and the organisation but none of the frame's context processors (the part reads
    none of them, and they would ask the frame's queries)."""
    with timezone.override(organization.tzinfo):
        part = get_template(template).template.render(
            Context({"request": request, "org": organization, **context}))
    return SafeString(part)
