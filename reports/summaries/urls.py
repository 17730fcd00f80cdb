"""Settings pages for emailed summaries, and the signed unsubscribe link (no login)."""
from __future__ import annotations

from django.urls import path

from reports.summaries import views

base = "o/<slug:org_slug>/settings/subscriptions/"

urlpatterns = [
    path(base, views.subscription_list, name="subscription-list"),
    path(base + "new/", views.subscription_create, name="subscription-create"),
    path(base + "<int:pk>/", views.subscription_detail, name="subscription-detail"),
    path(base + "<int:pk>/edit/", views.subscription_edit, name="subscription-edit"),
    path(base + "<int:pk>/delete/", views.subscription_delete, name="subscription-delete"),
    path(base + "<int:pk>/send-test/", views.subscription_send_test, name="subscription-send-test"),
    path(base + "<int:pk>/me/", views.subscription_self, name="subscription-self"),
    path("summaries/unsubscribe/<str:token>/", views.unsubscribe, name="subscription-unsubscribe"),
]
