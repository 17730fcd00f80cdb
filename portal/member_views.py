"""Settings pages for people: members and roles (invite by email) and personal API tokens."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import audit
from portal.access import get_organization_for_user, membership_for
from portal.forms import ApiTokenForm, InviteForm, RoleForm
from portal.models import ApiToken, Membership, Organization, Role
from portal.pages import render_org_page


@login_required
def member_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = get_organization_for_user(request.user, org_slug, Role.ADMIN)
    actor = membership_for(request.user, org)
    form = InviteForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        member = _invite(request, org, form.cleaned_data["email"], form.cleaned_data["role"])
        audit.record("member.invited", actor=request.user, organization=org, target=member,
                     email=form.cleaned_data["email"], role=member.role)
        messages.success(request, _("%(email)s was added as %(role)s and emailed a link.")
                         % {"email": form.cleaned_data["email"], "role": member.get_role_display()})
        return redirect("settings-members", org.slug)
    members = Membership.objects.filter(organization=org).select_related("user").order_by(
        "user__username")
    rows = [(m, RoleForm(initial={"role": m.role}, actor=actor, prefix=f"m{m.pk}"))
            for m in members]
    return render_org_page(request, org, "portal/settings/members.html",
                           {"rows": rows, "form": form, "actor": actor},
                           status=400 if form.errors else 200)


def _invite(request: HttpRequest, org: Organization, email: str, role: str) -> Membership:
    """Add the user with this email (created without a password if new) and email them."""
    users = get_user_model().objects
    with transaction.atomic():
        user = users.filter(email__iexact=email).first()
        created = user is None
        if created:
            user = users.create_user(username=email, email=email)
            user.set_unusable_password()
            user.save(update_fields=["password"])
        member = Membership.objects.create(user=user, organization=org, role=role)
    link = settings.PORTAL_BASE_URL.rstrip("/") + (
        reverse("password_reset_confirm", args=[urlsafe_base64_encode(force_bytes(user.pk)),
                                                default_token_generator.make_token(user)])
        if created else reverse("dashboard", args=[org.slug]))
    context = {"org": org, "inviter": request.user, "link": link, "new_user": created,
               "username": user.get_username()}
    send_mail(
        render_to_string("registration/invite_subject.txt", context).strip(),
        render_to_string("registration/invite_email.txt", context),
        None, [email],
    )
    return member


def _target_member(request: HttpRequest, org_slug: str, member_id: int) -> tuple[
        Organization, Membership, Membership]:
    org = get_organization_for_user(request.user, org_slug, Role.ADMIN)
    actor = membership_for(request.user, org)
    member = get_object_or_404(Membership, pk=member_id, organization=org)
    if member.role == Role.OWNER and not actor.has_role(Role.OWNER):
        raise PermissionDenied(_("Only an owner can change or remove an owner."))
    return org, actor, member


def _is_last_owner(member: Membership) -> bool:
    return member.role == Role.OWNER and not Membership.objects.filter(
        organization=member.organization, role=Role.OWNER).exclude(pk=member.pk).exists()


@login_required
@require_POST
def member_role(request: HttpRequest, org_slug: str, member_id: int) -> HttpResponse:
    org, actor, member = _target_member(request, org_slug, member_id)
    form = RoleForm(request.POST, actor=actor, prefix=f"m{member.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose one of the listed roles."))
    elif _is_last_owner(member) and form.cleaned_data["role"] != Role.OWNER:
        messages.error(request, _("The organisation needs at least one owner."))
    else:
        old, member.role = member.role, form.cleaned_data["role"]
        member.save(update_fields=["role"])
        audit.record("member.role_changed", actor=request.user, organization=org, target=member,
                     old=old, new=member.role)
        messages.success(request, _("Role of %(user)s is now %(role)s.")
                         % {"user": member.user.get_username(), "role": member.get_role_display()})
    return redirect("settings-members", org.slug)


@login_required
@require_POST
def member_remove(request: HttpRequest, org_slug: str, member_id: int) -> HttpResponse:
    org, actor, member = _target_member(request, org_slug, member_id)
    if _is_last_owner(member):
        messages.error(request, _("The organisation needs at least one owner."))
    else:
        audit.record("member.removed", actor=request.user, organization=org, target=member,
                     username=member.user.get_username())
        member.delete()
        messages.success(request, _("%(user)s was removed.") % {"user": member.user.get_username()})
    return redirect("settings-members", org.slug)


@login_required
def token_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Personal API tokens: any member manages their own; the raw value is shown once."""
    org = get_organization_for_user(request.user, org_slug)
    form = ApiTokenForm(request.POST or None)
    raw = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data.get("expires_in_days")
        expires = timezone.now() + timedelta(days=days) if days else None
        token, raw = ApiToken.issue(request.user, form.cleaned_data["name"], expires)
        audit.record("api_token.created", actor=request.user, organization=org, target=token,
                     prefix=token.prefix)
        form = ApiTokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render_org_page(request, org, "portal/settings/tokens.html",
                           {"form": form, "tokens": tokens, "raw_token": raw},
                           status=400 if form.errors else 200)


@login_required
@require_POST
def token_revoke(request: HttpRequest, org_slug: str, token_id: int) -> HttpResponse:
    org = get_organization_for_user(request.user, org_slug)
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    token.revoke()
    audit.record("api_token.revoked", actor=request.user, organization=org, target=token,
                 prefix=token.prefix)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("settings-tokens", org.slug)
