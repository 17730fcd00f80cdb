"""Settings pages for people: members and roles (invite by email) and personal API tokens.

Adding someone sends an invitation (`portal.auth.invitations`); the page says the same thing
whether or not the address has an account. Personal API tokens are their owner's alone: an
organisation admin never sees or touches another member's tokens here.
"""
from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.auth.invitations import send_invitation
from portal.models import RESTRICTABLE_ROLES, ApiToken, Invitation, Membership, Role, Team
from portal.pages.forms import ApiTokenForm, InviteForm, RoleForm
from portal.pages.pages import render_org_page
from portal.tenancy.access import WRITE_METHODS, Tenant, org_page


@org_page(Role.ADMIN, WRITE_METHODS)
def member_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org, actor = tenant.organization, tenant.membership
    form = InviteForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        email, role = form.cleaned_data["email"], form.cleaned_data["role"]
        invitation = send_invitation(org, email, role, request.user)
        audit.record("member.invited", actor=request.user, organization=org, target=invitation,
                     email=email, role=role)
        messages.success(request, _("An invitation to join as %(role)s was sent to %(email)s. "
                                    "They become a member when they accept it.")
                         % {"email": email, "role": invitation.get_role_display()})
        return redirect("settings-members", org.slug)
    members = tenant.scoped(Membership).select_related("user").prefetch_related(
        "teams").order_by("user__username")
    rows = [(m, RoleForm(initial={"role": m.role}, actor=actor, prefix=f"m{m.pk}"))
            for m in members]
    teams = list(tenant.scoped(Team).prefetch_related("leads").order_by("name"))
    pending = [i for i in tenant.scoped(Invitation).filter(accepted_at=None)
               if i.is_pending]
    return render_org_page(request, org, "portal/settings/members.html",
                           {"rows": rows, "form": form, "actor": actor, "invitations": pending,
                            "teams": teams, "restrictable": RESTRICTABLE_ROLES},
                           status=400 if form.errors else 200)


@org_page(Role.ADMIN, ("POST",))
def invitation_cancel(request: HttpRequest, tenant: Tenant, invitation_id: int) -> HttpResponse:
    org = tenant.organization
    invitation = tenant.get(Invitation, pk=invitation_id, accepted_at=None)
    audit.record("member.invitation_cancelled", actor=request.user, organization=org,
                 target=invitation, email=invitation.email)
    invitation.delete()
    messages.success(request, _("The invitation to %(email)s was withdrawn.")
                     % {"email": invitation.email})
    return redirect("settings-members", org.slug)


def _target_member(request: HttpRequest, member_id: int) -> Membership:
    actor = request.tenant.membership
    member = get_object_or_404(request.tenant.scoped(Membership).select_related("user"),
                               pk=member_id)
    if member.role == Role.OWNER and not actor.has_role(Role.OWNER):
        raise PermissionDenied(_("Only an owner can change or remove an owner."))
    return member


def _is_last_owner(request: HttpRequest, member: Membership) -> bool:
    return member.role == Role.OWNER and not request.tenant.scoped(Membership).filter(
        role=Role.OWNER).exclude(pk=member.pk).exists()


@org_page(Role.ADMIN, ("POST",))
def member_role(request: HttpRequest, tenant: Tenant, member_id: int) -> HttpResponse:
    """A member's row, saved once: their role and, for an analyst or a viewer, the teams
    that restrict them (the row's checkboxes, present when the row shows them)."""
    from portal.pages.team_views import MemberTeamsForm, set_member_teams

    org, actor = tenant.organization, tenant.membership
    member = _target_member(request, member_id)
    form = RoleForm(request.POST, actor=actor, prefix=f"m{member.pk}")
    teams = MemberTeamsForm(request.POST, request=request, prefix=f"t{member.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose one of the listed roles."))
    elif _is_last_owner(request, member) and form.cleaned_data["role"] != Role.OWNER:
        messages.error(request, _("The organisation needs at least one owner."))
    elif not teams.is_valid():
        messages.error(request, _("Choose among the listed teams."))
    else:
        old, member.role = member.role, form.cleaned_data["role"]
        if old != member.role:
            member.save(update_fields=["role"])
            audit.record("member.role_changed", actor=request.user, organization=org,
                         target=member, old=old, new=member.role)
            messages.success(request, _("Role of %(user)s is now %(role)s.") % {
                "user": member.user.get_username(), "role": member.get_role_display()})
        if member.role in RESTRICTABLE_ROLES:
            shown = f"t{member.pk}-shown" in request.POST
            set_member_teams(request, member, teams.cleaned_data["teams"] if shown
                             else member.teams.all())
    return redirect("settings-members", org.slug)


@org_page(Role.ADMIN, ("POST",))
def member_remove(request: HttpRequest, tenant: Tenant, member_id: int) -> HttpResponse:
    org = tenant.organization
    member = _target_member(request, member_id)
    if _is_last_owner(request, member):
        messages.error(request, _("The organisation needs at least one owner."))
    else:
        audit.record("member.removed", actor=request.user, organization=org, target=member,
                     username=member.user.get_username())
        member.delete()
        messages.success(request, _("%(user)s was removed.") % {"user": member.user.get_username()})
    return redirect("settings-members", org.slug)


@org_page(Role.VIEWER, WRITE_METHODS)
def token_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """Personal API tokens: every member manages their own; the raw value is shown once.
    Only `request.user`'s tokens are ever listed, whatever the caller's role."""
    org = tenant.organization
    form = ApiTokenForm(request.POST or None)
    raw = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data.get("expires_in_days")
        expires = timezone.now() + timedelta(days=days) if days else None
        token, raw = ApiToken.issue(request.user, form.cleaned_data["name"], expires)
        # Personal, not the organisation's: its admins do not see it in their audit log.
        audit.record("api_token.created", actor=request.user, organization=None, target=token,
                     prefix=token.prefix)
        form = ApiTokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render_org_page(request, org, "portal/settings/tokens.html",
                           {"form": form, "tokens": tokens, "raw_token": raw},
                           status=400 if form.errors else 200)


@org_page(Role.VIEWER, ("POST",))
def token_revoke(request: HttpRequest, tenant: Tenant, token_id: int) -> HttpResponse:
    org = tenant.organization
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    token.revoke()
    audit.record("api_token.revoked", actor=request.user, organization=None, target=token,
                 prefix=token.prefix)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("settings-tokens", org.slug)
