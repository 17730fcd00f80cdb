"""Webhook receivers (included by portal/urls.py under `hooks/`): one door for every provider,
`/hooks/<provider>/<key>/` (the address Talkover environments were given keeps working)."""
from django.urls import path

from sync.webhooks import receiver as webhook_receiver

urlpatterns = [
    path("<slug:provider>/<str:key>/", webhook_receiver.hook, name="webhook"),
]
