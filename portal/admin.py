"""Admin for tenancy objects. The environment token is write-only: only its hint is shown."""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count

from portal import audit
from portal.models import ApiToken, AuditLog, Environment, Membership, Organization


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "member_count", "environment_count", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _members=Count("memberships", distinct=True),
                _envs=Count("environments", distinct=True),
            )
        )

    @admin.display(description="members", ordering="_members")
    def member_count(self, obj) -> int:
        return obj._members

    @admin.display(description="environments", ordering="_envs")
    def environment_count(self, obj) -> int:
        return obj._envs


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]


class EnvironmentAdminForm(forms.ModelForm):
    token = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave empty to keep the current token.",
    )

    class Meta:
        model = Environment
        fields = [
            "organization", "name", "provider", "base_url", "provider_settings", "status",
            "status_reason", "sync_enabled", "sync_interval_minutes", "lookback_days",
            "backfill_days", "requests_per_minute",
        ]

    def clean(self):
        cleaned = super().clean()
        if not self.instance.has_token and not cleaned.get("token"):
            self.add_error("token", "A new environment needs its upstream token.")
        return cleaned

    def save(self, commit: bool = True):
        env = super().save(commit=False)
        if self.cleaned_data.get("token"):
            env.set_token(self.cleaned_data["token"])
        if commit:
            env.save()
        return env


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    form = EnvironmentAdminForm
    list_display = [
        "name", "organization", "provider", "status", "token_hint", "sync_enabled",
        "last_synced_at",
    ]
    list_filter = ["provider", "status", "sync_enabled", "organization"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization"]
    readonly_fields = ["token_hint", "last_synced_at", "data_version", "created_at"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        audit.record(
            "environment.changed" if change else "environment.created",
            actor=request.user,
            organization=obj.organization,
            target=obj,
            fields=sorted(f for f in form.changed_data if f != "token"),
            token_replaced=bool(form.cleaned_data.get("token")),
        )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at",
                    "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["prefix", "last_used_at", "created_at"]
    list_select_related = ["user"]

    def has_add_permission(self, request) -> bool:
        # A token's raw value is shown once at creation: issue them in the portal or CLI.
        return False


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "organization", "actor", "action", "target_repr"]
    list_filter = ["action", "organization"]
    search_fields = ["action", "target_repr", "actor__username"]
    date_hierarchy = "created_at"
    list_select_related = ["organization", "actor"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
