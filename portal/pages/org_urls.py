"""Organisation settings pages (`settings_urlpatterns`), mounted under /o/<org_slug>/settings/
by the one settings include of portal/urls.py."""
from __future__ import annotations

from django.urls import path

from portal.pages import member_views, retention_views, team_views, views

settings_urlpatterns = [
    path("", views.environment_list, name="settings-environments"),
    path("environments/", views.environment_list, name="settings-environments-list"),
    path("environments/add/", views.environment_add, name="settings-environment-add"),
    path("environments/<int:env_id>/token/", views.environment_token,
         name="settings-environment-token"),
    path("environments/<int:env_id>/agents/", views.environment_agents,
         name="settings-environment-agents"),
    path("environments/<int:env_id>/webhooks/", views.environment_webhooks,
         name="settings-environment-webhooks"),
    path("environments/<int:env_id>/toggle/", views.environment_toggle,
         name="settings-environment-toggle"),
    path("environments/<int:env_id>/delete/", views.environment_delete,
         name="settings-environment-delete"),
    path("members/", member_views.member_list, name="settings-members"),
    path("members/<int:member_id>/role/", member_views.member_role, name="settings-member-role"),
    path("members/<int:member_id>/remove/", member_views.member_remove,
         name="settings-member-remove"),
    path("invitations/<int:invitation_id>/cancel/", member_views.invitation_cancel,
         name="settings-invitation-cancel"),
    path("teams/", team_views.team_list, name="settings-teams"),
    path("teams/<int:team_id>/", team_views.team_edit, name="settings-team-edit"),
    path("teams/<int:team_id>/delete/", team_views.team_delete, name="settings-team-delete"),
    path("members/<int:member_id>/teams/", team_views.member_teams,
         name="settings-member-teams"),
    path("retention/", retention_views.retention, name="settings-retention"),
    path("tokens/", member_views.token_list, name="settings-tokens"),
    path("tokens/<int:token_id>/revoke/", member_views.token_revoke, name="settings-token-revoke"),
]
