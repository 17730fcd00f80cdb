"""Admin for tenancy objects, scoped by `portal.admin.base.TenantAdminMixin`.

The environment token is write-only: only its hint is shown. Staff org admins manage their
own organisations; creating or deleting organisations and environments is for superusers.
"""
from __future__ import annotations

import json

from axes import admin as axes_admin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.db.models import BigIntegerField, Count, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from portal.admin import actions as admin_actions
from portal.admin.base import TenantAdminMixin, TenantModelAdmin
from portal.audit_words import action_sentence
from portal.models import (
    ApiToken,
    AuditLog,
    Environment,
    EnvironmentStatus,
    Membership,
    Organization,
    Role,
    Team,
    TeamAgent,
)
from portal.pages.forms import (
    agent_ids_help,
    agent_ids_required,
    parse_agent_ids,
    test_connection,
)
from portal.providers import spec_for
from portal.signals import organization_timezone_changed
from portal.tasks_client import QueueUnavailable, TaskNotAvailable, enqueue
from portal.timezones import timezone_choices


def rebuild_reporting_days(organization: Organization) -> int:
    """Ask the apps that keep per-day rows to rebuild them (sync: the rollups) after a
    timezone change; returns the number of environments rebuilt."""
    answers = organization_timezone_changed.send(sender=Organization,
                                                 organization=organization)
    return max((n for _, n in answers if isinstance(n, int)), default=0)


def may_manage_owners(request: HttpRequest, organization: Organization | None) -> bool:
    """Only superusers and the organisation's owners grant, change or remove the owner role."""
    if request.user.is_superuser:
        return True
    return organization is not None and Membership.objects.for_organization(organization).filter(
        user=request.user, role=Role.OWNER).exists()


def guard_owner_role(form_class: type[forms.ModelForm], request: HttpRequest,
                     organization: Organization | None = None) -> type[forms.ModelForm]:
    """`form_class` refusing owner-role changes by an org admin who is not an owner."""

    class OwnerGuardedForm(form_class):
        def clean(self):
            cleaned = super().clean()
            org = organization or cleaned.get("organization")
            was_owner = self.instance.pk is not None and self.instance.role == Role.OWNER
            if self.has_changed() and (cleaned.get("role") == Role.OWNER or was_owner) \
                    and not may_manage_owners(request, org):
                raise forms.ValidationError(
                    _("Only an owner of the organisation can grant or change the owner role."))
            return cleaned

    return OwnerGuardedForm


class MembershipInline(TenantAdminMixin, admin.TabularInline):
    model = Membership
    extra = 0
    # People join by accepting an invitation (portal: Settings → Members); only superusers
    # add a membership directly.
    superuser_adds = True

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = guard_owner_role(formset.form, request, obj)
        return formset

    def get_autocomplete_fields(self, request: HttpRequest) -> list[str]:
        # Staff pick among their organisations' members; the user list is not theirs to see.
        return ["user"] if request.user.is_superuser else []


@admin.register(Organization)
class OrganizationAdmin(TenantModelAdmin):
    list_display = ["name", "slug", "timezone", "call_retention_months", "member_count",
                    "environment_count", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    # Meta.ordering is dropped from GROUP BY queries (the counts below); keep pages stable.
    ordering = ["name"]
    superuser_adds = True
    superuser_deletes = True

    def safely_narrow_queryset(self, request: HttpRequest, queryset):
        return queryset.annotate(
            _members=Count("memberships", distinct=True),
            _envs=Count("environments", distinct=True),
        )

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        # The slug is in every portal URL; renaming it is an operator's decision.
        kept = ["call_retention_pending"]
        return kept if request.user.is_superuser else ["slug", *kept]

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        """The time zone picked from the portal's one list (`portal.timezones`), not typed:
        a typo is no zone, and four hundred names want their places said."""
        form = super().get_form(request, obj, change, **kwargs)
        if "timezone" in form.base_fields:
            current = obj.timezone if obj is not None else ""
            form.base_fields["timezone"] = forms.ChoiceField(
                label=form.base_fields["timezone"].label, choices=timezone_choices(current),
                initial=current or "UTC")
        return form

    def get_prepopulated_fields(self, request: HttpRequest, obj=None) -> dict:
        return self.prepopulated_fields if request.user.is_superuser else {}

    def save_model(self, request: HttpRequest, obj: Organization, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "call_retention_months" in form.changed_data:
            # Calls move to the new tier (and what it no longer keeps is dropped) by task.
            Organization.objects.filter(pk=obj.pk).update(call_retention_pending=True)
            try:
                enqueue("sync.apply_call_retention", obj.pk)
                self.message_user(request, "Call retention changed: calls are being moved; "
                                  "months the new retention no longer keeps are deleted.")
            except (QueueUnavailable, TaskNotAvailable):
                self.message_user(request, "Call retention changed: the next daily "
                                  "maintenance moves the calls.", level="warning")
        if change and "timezone" in form.changed_data:
            rebuilt = rebuild_reporting_days(obj)
            self.message_user(request, ngettext(
                "Timezone changed: rebuilt the daily rollups of %(n)d environment, so every "
                "report now uses the new local days.",
                "Timezone changed: rebuilt the daily rollups of %(n)d environments, so every "
                "report now uses the new local days.", rebuilt) % {"n": rebuilt})

    @admin.display(description=_lazy("members"), ordering="_members")
    def member_count(self, obj: Organization) -> int:
        return obj._members

    @admin.display(description=_lazy("environments"), ordering="_envs")
    def environment_count(self, obj: Organization) -> int:
        return obj._envs


class TeamAgentInline(TenantAdminMixin, admin.TabularInline):
    model = TeamAgent
    extra = 1
    fields = ["environment", "agent_external_id"]


@admin.register(Team)
class TeamAdmin(TenantModelAdmin):
    """Teams: name and agents; their leads are shown, and chosen on Settings → Teams (a
    lead who is an analyst or a viewer is restricted to the team there,
    `portal.models.teams.restrict_leads`; the admin lists no user a staff member may not
    see)."""

    list_display = ["name", "organization", "agent_count", "lead_names", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name"]
    # Meta.ordering is dropped from the agents count's GROUP BY: keep pages (and the
    # autocomplete's) stable.
    ordering = ["name", "pk"]
    list_select_related = ["organization"]
    fields = ["organization", "name", "lead_names"]
    readonly_fields = ["lead_names"]
    inlines = [TeamAgentInline]

    def safely_narrow_queryset(self, request: HttpRequest, queryset):
        return queryset.annotate(_agents=Count("agents", distinct=True)).prefetch_related(
            "leads")

    @admin.display(description=_lazy("agents"), ordering="_agents")
    def agent_count(self, obj: Team) -> int:
        return obj._agents

    @admin.display(description=_lazy("leads"))
    def lead_names(self, obj: Team) -> str:
        if obj.pk is None:
            return "—"
        return ", ".join(sorted(u.get_username() for u in obj.leads.all())) or "—"


@admin.register(Membership)
class MembershipAdmin(TenantModelAdmin):
    # People join by accepting an invitation (portal: Settings → Members); only superusers
    # add a membership directly, so no organisation enrols someone who did not accept.
    superuser_adds = True
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    list_select_related = ["user", "organization"]

    def get_autocomplete_fields(self, request: HttpRequest) -> list[str]:
        return ["user", "organization"] if request.user.is_superuser else []

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        return guard_owner_role(super().get_form(request, obj, change, **kwargs), request)


class EnvironmentAdminForm(forms.ModelForm):
    token = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        label=_lazy("Token"),
        help_text=_lazy("Write-only. Leave empty to keep the current token."),
    )
    agent_ids = forms.CharField(required=False, label=_lazy("Agent ids"))

    class Meta:
        model = Environment
        fields = [
            "organization", "name", "provider", "base_url", "provider_settings", "status",
            "status_reason", "sync_enabled", "sync_interval_minutes", "lookback_days",
            "backfill_days", "callback_match_days", "requests_per_minute", "price_per_minute",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and isinstance(self.instance.provider_settings, dict):
            ids = self.instance.provider_settings.get("agent_ids") or []
            self.fields["agent_ids"].initial = ", ".join(str(i) for i in ids)
        self.fields["agent_ids"].help_text = _(
            "%(help)s Saved as provider_settings[\"agent_ids\"] (this field wins).") % {
            "help": agent_ids_help()}

    def clean_agent_ids(self) -> list:
        return parse_agent_ids(self.cleaned_data.get("agent_ids", ""),
                               self.cleaned_data.get("provider"))

    def clean(self):
        cleaned = super().clean()
        if not self.instance.has_token and not cleaned.get("token"):
            self.add_error("token", _("A new environment needs its upstream token."))
        spec = spec_for(cleaned.get("provider") or "")
        if spec.agent_ids and not cleaned.get("agent_ids") and "agent_ids" not in self.errors:
            self.add_error("agent_ids", agent_ids_required(spec))
        if not self.instance.pk or {"token", "base_url", "provider", "agent_ids"} & set(
                self.changed_data):
            token = cleaned.get("token") or (self.instance.get_token()
                                             if self.instance.has_token else "")
            test_connection(self, cleaned.get("provider"), cleaned.get("base_url") or "", token,
                            cleaned.get("agent_ids") or [])
        return cleaned

    def save(self, commit: bool = True):
        env = super().save(commit=False)
        ids = self.cleaned_data.get("agent_ids")
        if ids:
            env.provider_settings = {**(env.provider_settings or {}), "agent_ids": ids}
        if self.cleaned_data.get("token"):
            env.set_token(self.cleaned_data["token"])
            # A new token answers the "token rejected" state unless the admin set a status.
            if env.status == EnvironmentStatus.AUTH_FAILED and "status" not in self.changed_data:
                env.status = (EnvironmentStatus.ACTIVE if env.sync_enabled
                              else EnvironmentStatus.PAUSED)
                env.status_reason = ""
        if commit:
            env.save()
        return env


def _calls_mirrored() -> Coalesce:
    # Summed from the daily rollups the sync keeps current: its cost follows days × agents,
    # where counting the calls themselves reads every mirrored call of each listed environment.
    # Through the reverse relation (`rollups`, sync's CallRollup): portal imports no sync code.
    totals = (
        Environment.objects.filter(pk=OuterRef("pk")).order_by()
        .values("pk").annotate(n=Sum("rollups__count")).values("n")
    )
    return Coalesce(Subquery(totals, output_field=BigIntegerField()), 0)


@admin.register(Environment)
class EnvironmentAdmin(TenantModelAdmin):
    form = EnvironmentAdminForm
    action_form = admin_actions.EnvironmentActionForm
    actions = [
        admin_actions.sync_now, admin_actions.backfill, admin_actions.pause_sync,
        admin_actions.resume_sync, admin_actions.mark_token_replaced,
    ]
    list_display = [
        "name", "organization", "provider", "status", "sync_enabled", "last_synced_at",
        "overdue", "calls_mirrored", "token_hint",
    ]
    list_filter = ["provider", "status", "sync_enabled", "organization"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization"]
    readonly_fields = ["token_hint", "last_synced_at", "next_sync_at", "data_version",
                       "created_at"]
    superuser_adds = True
    superuser_deletes = True

    def safely_narrow_queryset(self, request: HttpRequest, queryset):
        return queryset.annotate(_calls=_calls_mirrored())

    @admin.display(description=_lazy("overdue"), boolean=True)
    def overdue(self, obj: Environment) -> bool:
        """Last sync older than twice the interval (see Environment.is_overdue)."""
        return obj.is_overdue()

    @admin.display(description=_lazy("calls mirrored"), ordering="_calls")
    def calls_mirrored(self, obj: Environment) -> int:
        return obj._calls

    def _changed_fields(self, form) -> list[str]:
        fields = super()._changed_fields(form)
        return fields + ["token (replaced)"] if form.cleaned_data.get("token") else fields

    def save_model(self, request: HttpRequest, obj: Environment, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        secret = None if change else obj.first_webhook_secret()
        if secret:
            # A new Talkover environment's signing secret: shown to its creator, once.
            messages.warning(request, _("Webhook signing secret of “%(name)s” (shown only "
                                        "now): %(secret)s") % {"name": obj.name,
                                                               "secret": secret})


@admin.register(ApiToken)
class ApiTokenAdmin(TenantModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at",
                    "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username", "prefix"]
    fields = ["name", "user", "prefix", "expires_at", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "prefix", "last_used_at", "created_at", "revoked_at"]
    list_select_related = ["user"]
    actions = [admin_actions.revoke_tokens]
    superuser_deletes = True

    def has_tenant_access(self, request: HttpRequest) -> bool:
        # Personal tokens belong to their owner, who may be a member of other organisations
        # too: no organisation admin sees or manages them here, only superusers.
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        # A token's raw value is shown once at creation: issue them in the portal or CLI.
        return False


class AuditActionFilter(admin.SimpleListFilter):
    """The actions present in the user's organisations, named as sentences."""

    title = _lazy("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        codes = model_admin.get_queryset(request).order_by("action").values_list(
            "action", flat=True).distinct()
        return [(code, action_sentence(code)) for code in codes]

    def queryset(self, request: HttpRequest, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditLog)
class AuditLogAdmin(TenantModelAdmin):
    list_display = ["created_at", "organization", "actor", "action_words", "target_repr"]
    list_filter = [AuditActionFilter, "organization"]
    search_fields = ["action", "target_repr", "actor__username"]
    date_hierarchy = "created_at"
    list_select_related = ["organization", "actor"]
    exclude = ["details"]
    readonly_fields = ["details_pretty"]
    read_only = True

    @admin.display(description=_lazy("action"), ordering="action")
    def action_words(self, obj: AuditLog) -> str:
        """The action as a sentence in the reader's language (the code stays searchable)."""
        return action_sentence(obj.action)

    @admin.display(description=_lazy("details"))
    def details_pretty(self, obj: AuditLog) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.details, indent=2, ensure_ascii=False))


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    """django-axes' own admin, with its "clean up expired attempts" action working: the
    action reads `request.axes_attempt_time`, which axes sets only on login requests, so
    from the admin it always raised AttributeError (a 500). Unset means "now" to axes."""

    @admin.action(description=axes_admin.AccessAttemptAdmin.cleanup_expired_attempts
                  .short_description)
    def cleanup_expired_attempts(self, request: HttpRequest, queryset) -> None:
        if not hasattr(request, "axes_attempt_time"):
            request.axes_attempt_time = None
        super().cleanup_expired_attempts(request, queryset)


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, AccessAttemptAdmin)
