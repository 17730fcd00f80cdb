"""The one place that decides what a user may see and do.

HTML views call `get_organization_for_user` / `get_environment_for_user`; the API goes through
`portal.api.TenantScopedViewSet`, which uses `organizations_for_user`. Another organisation's
object is a 404 (we do not confirm it exists); a member whose role is too low gets a 403.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from portal.models import Environment, Membership, Organization, Role


def organizations_for_user(user) -> QuerySet[Organization]:
    if not getattr(user, "is_authenticated", False):
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user)


def environments_for_user(user) -> QuerySet[Environment]:
    return Environment.objects.filter(organization__in=organizations_for_user(user))


def membership_for(user, organization: Organization) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, organization=organization).first()


def _require_role(membership: Membership | None, min_role: str) -> Membership:
    if membership is None:
        raise Http404(_("No such organisation."))
    if not membership.has_role(min_role):
        raise PermissionDenied(
            _("Your role (%(role)s) cannot do this; it needs %(needed)s or above.")
            % {"role": membership.role, "needed": min_role}
        )
    return membership


def get_organization_for_user(user, slug: str, min_role: str = Role.VIEWER) -> Organization:
    """The organisation `slug` if `user` belongs to it with at least `min_role`, else 404/403."""
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        raise Http404(_("No such organisation."))
    _require_role(membership_for(user, org), min_role)
    return org


def get_environment_for_user(user, environment_id: int, min_role: str = Role.VIEWER) -> Environment:
    """The environment if `user` belongs to its organisation with at least `min_role`."""
    env = Environment.objects.select_related("organization").filter(pk=environment_id).first()
    if env is None:
        raise Http404(_("No such environment."))
    _require_role(membership_for(user, env.organization), min_role)
    return env
