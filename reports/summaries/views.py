"""Settings pages for emailed summaries (every org object comes through portal.tenancy.access)."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from portal import audit
from portal.models import Role
from portal.pages.pages import render_org_page
from portal.tenancy.access import WRITE_METHODS, Tenant, org_page
from reports.models import ReportSubscription
from reports.summaries.actions import send_test
from reports.summaries.forms import SubscriptionForm
from reports.summaries.unsubscribe import Expired, read_token

DELIVERY_LOG_SIZE = 20


def _subscription(request: HttpRequest, org_slug: str, pk: int, min_role: str):
    org = request.tenant.organization
    sub = get_object_or_404(request.tenant.scoped(ReportSubscription), pk=pk)
    sub.organization = org
    return org, sub


@org_page(Role.VIEWER)
def subscription_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    subs = list(
        org.report_subscriptions.order_by("name", "pk").prefetch_related("members", "deliveries")
    )
    for sub in subs:
        sub.mine = request.user in sub.members.all()
        sub.last_delivery = next(iter(sub.deliveries.all()), None)
    can_edit = tenant.can_admin
    return render_org_page(request, org, "reports/subscriptions/list.html",
                           {"subscriptions": subs, "can_edit": can_edit})


@org_page(Role.VIEWER)
def subscription_detail(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    org, sub = _subscription(request, tenant.organization.slug, pk, Role.VIEWER)
    deliveries = sub.deliveries.select_related("requested_by")[:DELIVERY_LOG_SIZE]
    return render_org_page(request, org, "reports/subscriptions/detail.html", {
        "sub": sub, "deliveries": deliveries,
        "mine": sub.members.filter(pk=request.user.pk).exists(),
        "can_edit": tenant.can_admin,
        "environments": sub.selected_environments(), "recipients": sub.recipient_emails(),
    })


@org_page(Role.ADMIN, WRITE_METHODS)
def subscription_create(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    form = SubscriptionForm(request.POST or None, organization=org,
                            initial={"members": [request.user]})
    if request.method == "POST" and form.is_valid():
        form.instance.created_by = request.user
        sub = form.save()
        audit.record("subscription.create", actor=request.user, organization=org, target=sub)
        messages.success(request, _("Subscription created."))
        return redirect("subscription-detail", org.slug, sub.pk)
    status = 400 if form.errors else 200
    return render_org_page(request, org, "reports/subscriptions/form.html", {"form": form},
                           status=status)


@org_page(Role.ADMIN, WRITE_METHODS)
def subscription_edit(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    org, sub = _subscription(request, tenant.organization.slug, pk, Role.ADMIN)
    form = SubscriptionForm(request.POST or None, instance=sub, organization=org)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit.record("subscription.update", actor=request.user, organization=org, target=sub,
                     changed=form.changed_data)
        messages.success(request, _("Subscription saved."))
        return redirect("subscription-detail", org.slug, sub.pk)
    status = 400 if form.errors else 200
    return render_org_page(request, org, "reports/subscriptions/form.html",
                           {"form": form, "sub": sub}, status=status)


@org_page(Role.ADMIN, WRITE_METHODS)
def subscription_delete(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    org, sub = _subscription(request, tenant.organization.slug, pk, Role.ADMIN)
    if request.method == "POST":
        audit.record("subscription.delete", actor=request.user, organization=org, target=sub)
        sub.delete()
        messages.success(request, _("Subscription deleted."))
        return redirect("subscription-list", org.slug)
    return render_org_page(request, org, "reports/subscriptions/confirm_delete.html",
                           {"sub": sub})


@org_page(Role.ADMIN, ("POST",))
def subscription_send_test(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    org, sub = _subscription(request, tenant.organization.slug, pk, Role.ADMIN)
    if not request.user.email:
        messages.error(request, _("Your account has no email address; add one to get a test."))
        return redirect("subscription-detail", org.slug, sub.pk)
    delivery = send_test(sub, request.user)
    audit.record("subscription.send_test", actor=request.user, organization=org, target=sub,
                 status=delivery.status)
    if delivery.status == "sent":
        messages.success(request, _("Test sent to %(email)s.") % {"email": request.user.email})
    else:
        messages.error(request, _("Test not sent (%(status)s): %(error)s")
                       % {"status": delivery.get_status_display(), "error": delivery.error})
    return redirect("subscription-detail", org.slug, sub.pk)


@org_page(Role.VIEWER, ("POST",))
def subscription_self(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    """A member subscribes or unsubscribes themself (any role)."""
    org, sub = _subscription(request, tenant.organization.slug, pk, Role.VIEWER)
    action = request.POST.get("action")
    if action == "subscribe":
        sub.members.add(request.user)
        messages.success(request, _("You are subscribed to “%(name)s”.") % {"name": sub.name})
    elif action == "unsubscribe":
        sub.members.remove(request.user)
        messages.success(request, _("You are unsubscribed from “%(name)s”.") % {"name": sub.name})
    else:
        return HttpResponseBadRequest(_("action must be “subscribe” or “unsubscribe”."))
    audit.record(f"subscription.self_{action}", actor=request.user, organization=org, target=sub)
    if request.POST.get("back") == "list":
        return redirect("subscription-list", org.slug)
    return redirect("subscription-detail", org.slug, sub.pk)


def remove_recipient(sub: ReportSubscription, email: str) -> None:
    """Stop sending `sub` to `email`, whether it is a member's address or a plain one."""
    sub.members.remove(*sub.members.filter(email__iexact=email))
    if email in sub.addresses:
        sub.addresses = [a for a in sub.addresses if a != email]
        sub.save(update_fields=["addresses", "updated_at"])


@require_http_methods(["GET", "HEAD", "POST"])
@csrf_exempt  # mail clients POST here (RFC 8058) without a session; the token is the proof
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Signed one-click unsubscribe: GET asks to confirm (link scanners GET), POST acts."""
    try:
        data = read_token(token)
    except Expired:
        return render(request, "reports/subscriptions/unsubscribe.html", {"expired": True},
                      status=410)
    sub = None
    if data is not None:
        # The signed link is the credential, not a membership: the named door.
        sub = (ReportSubscription.objects.across_organizations().filter(pk=data[0])
               .select_related("organization").first())
    if sub is None:
        return render(request, "reports/subscriptions/unsubscribe.html", {"invalid": True},
                      status=404)
    email = data[1]
    done = request.method == "POST"
    if done:
        remove_recipient(sub, email)
        audit.record("subscription.unsubscribe", organization=sub.organization, target=sub,
                     email=email)
    return render(request, "reports/subscriptions/unsubscribe.html",
                  {"sub": sub, "email": email, "done": done})
