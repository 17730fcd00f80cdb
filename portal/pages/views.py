"""Portal pages owned by the tenancy app: the landing redirect and environment settings.

Every organisation page is decorated with `portal.tenancy.access.org_page` (404 for other tenants,
403 for a too-low role, 405 for other methods); report pages live in `reports/pages/`.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from portal import audit
from portal.emails import absolute_url
from portal.models import Environment, EnvironmentStatus, Role
from portal.pages.forms import (
    AgentIdsForm,
    DeleteEnvironmentForm,
    EnvironmentForm,
    ReplaceTokenForm,
)
from portal.pages.pages import LAST_ORG_SESSION_KEY, render_org_page
from portal.tasks_client import QueueUnavailable, TaskNotAvailable, enqueue
from portal.tenancy.access import WRITE_METHODS, Tenant, org_page, organizations_for_user


def environment_in_org(request: HttpRequest, env_id: int) -> Environment:
    """The environment of the page's organisation (404 for any other id)."""
    env = request.tenant.get(Environment, pk=env_id)
    env.organization = request.tenant.organization
    return env


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to the organisation they used last (or their first one)."""
    orgs = organizations_for_user(request.user).order_by("name")
    last = request.session.get(LAST_ORG_SESSION_KEY)
    org = orgs.filter(slug=last).first() if last else None
    org = org or orgs.first()
    if org is None:
        return render(request, "portal/home.html", {"organizations": []})
    return redirect("dashboard", org.slug)


@org_page()
def environment_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """Settings' first page: the environments for owners and admins; a member below them
    is sent to what they may see there (their API tokens), never to a bare 403."""
    org = tenant.organization
    if not tenant.can_admin:
        return redirect("settings-tokens", org.slug)
    return render_org_page(request, org, "portal/settings/environments.html")


@org_page(Role.ADMIN, WRITE_METHODS)
def environment_add(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    form = EnvironmentForm(request.POST or None, organization=org)
    if request.method == "POST" and form.is_valid():
        env = form.save()
        secret = env.first_webhook_secret()
        audit.record("environment.created", actor=request.user, organization=org, target=env,
                     provider=env.provider, token_hint=env.token_hint,
                     secret_hint=env.webhook_secret_hint)
        messages.success(request, _("Environment “%(name)s” added. Its token is stored "
                                    "encrypted and will not be shown again.") % {"name": env.name})
        if secret:
            # Its webhook signing secret is shown here, once (the page after this POST).
            return render_org_page(request, org, "portal/settings/environment_webhooks.html",
                                   _webhooks_context(env, secret), status=201)
        return redirect("settings-environments", org.slug)
    return render_org_page(request, org, "portal/settings/environment_form.html", {"form": form},
                           status=400 if form.errors else 200)


@org_page(Role.ADMIN, WRITE_METHODS)
def environment_token(request: HttpRequest, tenant: Tenant, env_id: int) -> HttpResponse:
    env = environment_in_org(request, env_id)
    org = env.organization
    form = ReplaceTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        env.set_token(form.cleaned_data["token"])
        if env.status == EnvironmentStatus.AUTH_FAILED:
            env.status, env.status_reason = EnvironmentStatus.ACTIVE, ""
        env.save(update_fields=["token_ciphertext", "token_hint", "status", "status_reason"])
        audit.record("environment.token_replaced", actor=request.user, organization=org,
                     target=env, token_hint=env.token_hint)
        messages.success(request, _("Token of “%(name)s” replaced.") % {"name": env.name})
        return redirect("settings-environments", org.slug)
    return render_org_page(request, org, "portal/settings/environment_token.html",
                           {"form": form, "environment": env}, status=400 if form.errors else 200)


@org_page(Role.ADMIN, WRITE_METHODS)
def environment_agents(request: HttpRequest, tenant: Tenant, env_id: int) -> HttpResponse:
    """Edit the agent ids of an environment whose provider cannot list its agents."""
    env = environment_in_org(request, env_id)
    if not env.spec.agent_ids:
        raise Http404(_("%(provider)s environments have no agent ids to edit.")
                      % {"provider": env.spec.label})
    current = ", ".join(str(i) for i in env.agent_ids)
    form = AgentIdsForm(request.POST or None, initial={"agent_ids": current},
                        provider=env.provider)
    if request.method == "POST" and form.is_valid():
        ids = form.cleaned_data["agent_ids"]
        env.provider_settings = {**env.provider_settings, "agent_ids": ids}
        env.save(update_fields=["provider_settings"])
        audit.record("environment.agent_ids_changed", actor=request.user,
                     organization=env.organization, target=env, agent_ids=ids)
        messages.success(request, _("Agent ids of “%(name)s” saved.") % {"name": env.name})
        return redirect("settings-environments", tenant.organization.slug)
    return render_org_page(request, env.organization, "portal/settings/environment_agents.html",
                           {"form": form, "environment": env},
                           status=400 if form.errors else 200)


@org_page(Role.ADMIN, WRITE_METHODS)
def environment_webhooks(request: HttpRequest, tenant: Tenant, env_id: int) -> HttpResponse:
    """The hook URL and secret to give the provider, and (where its API allows) registering
    it on every agent.

    Registration runs as the task `sync.register_webhooks` (queued by name: the portal does
    not import the sync); its per-agent outcome is kept on the environment and shown here.
    A new secret is shown once, on the answer to the POST that made it.
    """
    env = environment_in_org(request, env_id)
    if not env.spec.webhooks:
        raise Http404(_("This provider sends no webhooks."))
    org = env.organization
    context = _webhooks_context(env, None)
    action = request.POST.get("action") if request.method == "POST" else None
    made_here = not env.spec.own_webhook_secret
    if made_here and (action == "new_secret"
                      or (action == "register" and not env.webhook_secret_hint)):
        # Registering signs every delivery: a secret made for it is shown here, never silent.
        context["secret"] = env.replace_webhook_secret()
        audit.record("environment.webhook_secret_replaced", actor=request.user,
                     organization=org, target=env, secret_hint=env.webhook_secret_hint)
    if action == "register" and env.spec.registers_webhooks:
        _queue_registration(request, env)
        if not context["secret"]:
            return redirect("settings-environment-webhooks", org.slug, env.pk)
    elif request.method == "POST":
        return render_org_page(request, org, "portal/settings/environment_webhooks.html",
                               context, status=400)
    env.refresh_from_db(fields=["webhook_registration", "webhook_secret_hint"])
    return render_org_page(request, org, "portal/settings/environment_webhooks.html", context)


def _queue_registration(request: HttpRequest, env: Environment) -> None:
    """Queue "Register on every agent"; the page shows it pending until its outcome is in."""
    previous = env.webhook_registration
    env.webhook_registration = {**previous, "pending": True}
    env.save(update_fields=["webhook_registration"])
    try:
        enqueue("sync.register_webhooks", env.pk, settings.PORTAL_BASE_URL)
    except (QueueUnavailable, TaskNotAvailable):
        Environment.objects.filter(pk=env.pk).update(webhook_registration=previous)
        env.webhook_registration = previous
        messages.error(request, _("The registration could not be queued; try again shortly."))
        return
    audit.record("environment.webhooks_registered", actor=request.user,
                 organization=env.organization, target=env)
    messages.success(request, _("Registration on every agent queued; its outcome per agent "
                                "appears below."))
    env.refresh_from_db(fields=["webhook_registration"])


def _webhooks_context(env: Environment, secret: str | None) -> dict:
    """The webhooks page's context; `secret`: a new one, shown on this answer only."""
    return {"environment": env, "secret": secret,
            "hook_url": absolute_url(reverse("webhook",
                                             args=[env.provider, env.ensure_webhook_key()]))}


@org_page(Role.ADMIN, ("POST",))
def environment_toggle(request: HttpRequest, tenant: Tenant, env_id: int) -> HttpResponse:
    """Pause or resume an environment's scheduled sync."""
    env = environment_in_org(request, env_id)
    env.sync_enabled = not env.sync_enabled
    if env.status in (EnvironmentStatus.ACTIVE, EnvironmentStatus.PAUSED):
        env.status = EnvironmentStatus.ACTIVE if env.sync_enabled else EnvironmentStatus.PAUSED
    env.save(update_fields=["sync_enabled", "status"])
    action = "environment.resumed" if env.sync_enabled else "environment.paused"
    audit.record(action, actor=request.user, organization=env.organization, target=env)
    text = _("Sync of “%(name)s” resumed.") if env.sync_enabled else _(
        "Sync of “%(name)s” paused.")
    messages.success(request, text % {"name": env.name})
    return redirect("settings-environments", env.organization.slug)


@org_page(Role.ADMIN, WRITE_METHODS)
def environment_delete(request: HttpRequest, tenant: Tenant, env_id: int) -> HttpResponse:
    """Delete, asking whether mirrored data stays (disconnect) or goes (cascade)."""
    env = environment_in_org(request, env_id)
    org = env.organization
    form = DeleteEnvironmentForm(request.POST or None, environment=env)
    if request.method == "POST" and form.is_valid():
        keep = form.cleaned_data["mirrored_data"] == DeleteEnvironmentForm.KEEP
        with transaction.atomic():
            audit.record("environment.disconnected" if keep else "environment.deleted",
                         actor=request.user, organization=org, target=env, kept_data=keep)
            if keep:
                env.token_ciphertext, env.sync_enabled = "", False
                env.status = EnvironmentStatus.PAUSED
                env.status_reason = _("Disconnected; mirrored data kept.")
                env.save(update_fields=["token_ciphertext", "sync_enabled", "status",
                                        "status_reason"])
            else:
                env.delete()
        messages.success(request, _("Environment “%(name)s” removed.") % {"name": env.name})
        return redirect("settings-environments", org.slug)
    return render_org_page(request, org, "portal/settings/environment_delete.html",
                           {"form": form, "environment": env}, status=400 if form.errors else 200)
