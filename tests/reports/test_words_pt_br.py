"""pt-BR agrees with itself: a run's record counts are plural together ("Criados,
Atualizados, Inalterados"), while the wallboard's one moment is its last sync."""
from __future__ import annotations

from django.test import Client
from django.utils import timezone

from sync.models import SyncRun
from sync.models.core import RunStatus, Stream


def test_run_counts_and_one_moment_agree_in_number(env_a, alice):
    SyncRun.objects.create(environment=env_a, stream=Stream.CALLS, status=RunStatus.SUCCEEDED,
                           trigger="manual", finished_at=timezone.now(), created=3)
    client = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    client.force_login(alice)
    html = client.get("/o/org-a/sync/").content.decode()
    assert ">Criados<" in html and ">Atualizados<" in html and ">Inalterados<" in html
    board = client.get("/o/org-a/live/").content.decode()
    # The board's one moment is its figures' last sync (it has no "refreshed" of its own).
    assert "Números da última sincronização:" in board and "Atualizados:" not in board
