"""Invitations: how a person joins an organisation — by accepting, never by being added.

An admin types an address; we email a signed link that expires (`Invitation.make_token`).
Whoever opens it while logged in accepts it for their own account; without an account they
create one through it (its email is the invited address). The admin's page says the same
thing whether or not the address has an account, and nothing about the invitee's account
changes until they accept.

Accepting is single-use under any concurrency: one conditional UPDATE claims the invitation
(`accepted_at IS NULL`), and the membership — and, through the link, the new account — is
created in the same transaction only by the request that claimed it; a parallel accept finds
it claimed and is rolled back whole (no account, no membership). An invitation binds to the
invited address: a signed-in user whose email is another one is told so and not joined.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import UserCreationForm
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from portal import audit
from portal.auth.backend import USER_BACKEND
from portal.emails import absolute_url
from portal.models import Invitation, Membership, Organization


def send_invitation(org: Organization, email: str, role: str, inviter) -> Invitation:
    """Create (or renew) the pending invitation of `email` to `org` and email its link."""
    with transaction.atomic():
        Invitation.objects.for_organization(org).filter(email__iexact=email,
                                                        accepted_at=None).delete()
        invitation = Invitation.objects.create(organization=org, email=email, role=role,
                                               invited_by=inviter)
    link = absolute_url(reverse("invitation-accept", args=[invitation.make_token()]))
    context = {"org": org, "inviter": inviter, "link": link, "invitation": invitation,
               "role": invitation.get_role_display(), "expires_at": invitation.expires_at}
    # The expiry in the organisation's time, its zone named (it said "(UTC)").
    with timezone.override(org.tzinfo):
        message = EmailMultiAlternatives(
            render_to_string("registration/invite_subject.txt", context).strip(),
            render_to_string("registration/invite_email.txt", context),
            None, [email],
        )
        message.attach_alternative(render_to_string("registration/invite_email.html", context),
                                   "text/html")
    message.send()
    return invitation


class SignUpForm(UserCreationForm):
    """A new account for the invited address (the address is the invitation's, not typed)."""

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username",)
        labels = {"username": gettext_lazy("Username")}


class AlreadyAccepted(Exception):
    """Another request accepted the invitation first (raised to roll the caller back)."""


def _accept(invitation: Invitation, user) -> None:
    """Claim the invitation for `user` and add the membership, or raise AlreadyAccepted."""
    with transaction.atomic():
        # The signed link is the credential (`Invitation.from_token`), not a membership.
        claimed = Invitation.objects.across_organizations().filter(
            pk=invitation.pk, accepted_at=None).update(
            accepted_at=timezone.now(), accepted_by=user)
        if not claimed:
            raise AlreadyAccepted
        try:
            with transaction.atomic():
                Membership.objects.create(user=user, organization=invitation.organization,
                                          role=invitation.role)
        except IntegrityError:
            pass  # already a member: accepting changes nothing about their role
        audit.record("member.joined", actor=user, organization=invitation.organization,
                     target=invitation, role=invitation.role)


def _is_invited(user, invitation: Invitation) -> bool:
    return bool(user.email) and user.email.strip().lower() == invitation.email.strip().lower()


def _used(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/invitation.html", {"invalid": True}, status=410)


@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the invitation; POST accepts it (logged in) or creates the account."""
    invitation = Invitation.from_token(token)
    if invitation is None:
        return _used(request)
    org = invitation.organization
    if request.user.is_authenticated:
        if not _is_invited(request.user, invitation):
            return render(request, "portal/invitation.html",
                          {"invitation": invitation, "other_address": True}, status=403)
        if request.method == "POST":
            try:
                _accept(invitation, request.user)
            except AlreadyAccepted:
                return _used(request)
            messages.success(request, _("Welcome to %(org)s.") % {"org": org.name})
            return redirect("dashboard", org.slug)
        return render(request, "portal/invitation.html", {"invitation": invitation})
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save(commit=False)
                user.email = invitation.email
                user.save()
                _accept(invitation, user)
        except AlreadyAccepted:
            return _used(request)
        login(request, user, backend=USER_BACKEND)
        messages.success(request, _("Welcome to %(org)s.") % {"org": org.name})
        return redirect("dashboard", org.slug)
    login_url = reverse("login") + "?next=" + request.path
    return render(request, "portal/invitation.html",
                  {"invitation": invitation, "form": form, "login_url": login_url},
                  status=400 if form.errors else 200)
