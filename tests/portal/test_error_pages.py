"""A person meets the portal's own 404 and 403 pages, in their language, even with DEBUG on
(the demo): never Django's technical page listing the URL patterns; role names translated."""
from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.parametrize("debug", [True, False])
def test_not_found_is_the_portals_page_in_the_readers_language(settings, debug, bob):
    settings.DEBUG = debug
    client = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    client.force_login(bob)
    for path in ("/o/org-a/calls/999999999/", "/no/such/page/", "/o/org-b/"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        html = answer.content.decode()
        assert "Não encontrado" in html and "URLconf" not in html, path
        assert "Using the URLconf" not in html and "technical" not in html


@pytest.mark.parametrize("debug", [True, False])
def test_forbidden_names_the_roles_in_the_readers_language(settings, debug, bob):
    settings.DEBUG = debug
    client = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    client.force_login(bob)
    answer = client.get("/o/org-a/live/thresholds/")
    assert answer.status_code == 403
    html = answer.content.decode()
    assert "Seu papel (Leitor)" in html and "é preciso Administrador" in html
    assert "(viewer)" not in html and " admin " not in html
