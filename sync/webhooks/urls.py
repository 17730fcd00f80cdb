"""Webhook receivers (included by portal/urls.py under `hooks/`)."""
from django.urls import path

from sync.webhooks import receiver as webhook_receiver

urlpatterns = [
    path("talkover/<str:key>/", webhook_receiver.talkover_hook, name="talkover-hook"),
]
