"""Settings pages for emailed summaries (`settings_urlpatterns`, mounted under
/o/<org_slug>/settings/ by the one settings include of portal/urls.py), and the signed
unsubscribe link (no login)."""
from __future__ import annotations

from django.urls import path

from reports.summaries import views

base = "subscriptions/"

settings_urlpatterns = [
    path(base, views.subscription_list, name="subscription-list"),
    path(base + "new/", views.subscription_create, name="subscription-create"),
    path(base + "<int:pk>/", views.subscription_detail, name="subscription-detail"),
    path(base + "<int:pk>/edit/", views.subscription_edit, name="subscription-edit"),
    path(base + "<int:pk>/delete/", views.subscription_delete, name="subscription-delete"),
    path(base + "<int:pk>/send-test/", views.subscription_send_test, name="subscription-send-test"),
    path(base + "<int:pk>/me/", views.subscription_self, name="subscription-self"),
]

urlpatterns = [
    path("summaries/unsubscribe/<str:token>/", views.unsubscribe, name="subscription-unsubscribe"),
]
