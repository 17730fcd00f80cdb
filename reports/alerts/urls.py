"""Alert rule pages (`settings_urlpatterns`, mounted under /o/<org_slug>/settings/ by the one
settings include of portal/urls.py), and the signed acknowledge / snooze link of alert emails
(no login)."""
from __future__ import annotations

from django.urls import path

from reports.alerts import views

base = "alerts/"

settings_urlpatterns = [
    path(base, views.rule_list, name="alerts"),
    path(base + "new/", views.rule_create, name="alerts-new"),
    path(base + "<int:pk>/", views.rule_detail, name="alerts-rule"),
    path(base + "<int:pk>/edit/", views.rule_edit, name="alerts-edit"),
    path(base + "<int:pk>/delete/", views.rule_delete, name="alerts-delete"),
    path(base + "<int:pk>/action/", views.rule_action, name="alerts-action"),
    path(base + "<int:pk>/dismiss/", views.banner_dismiss, name="alerts-dismiss"),
]

urlpatterns = [
    path("alerts/email-action/<str:token>/", views.email_action, name="alerts-email-action"),
]
