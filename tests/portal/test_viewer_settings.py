"""A viewer's Settings tab opens what a viewer may see (their API tokens, the summaries
they can subscribe to, the alerts they can read), never a bare 403 page."""
from __future__ import annotations

import re


def test_a_viewers_settings_tab_opens_their_tokens(bob, client):
    client.force_login(bob)
    dashboard = client.get("/o/org-a/").content.decode()
    tab = re.search(r'<a href="([^"]+)"[^>]*>Settings</a>', dashboard).group(1)
    assert tab == "/o/org-a/settings/tokens/"
    page = client.get(tab)
    assert page.status_code == 200
    html = page.content.decode()
    for reachable in ("/o/org-a/settings/subscriptions/", "/o/org-a/settings/alerts/"):
        assert reachable in html and client.get(reachable).status_code == 200
    # The settings root itself (a bookmark, a typed address) leads there too.
    root = client.get("/o/org-a/settings/")
    assert root.status_code == 302 and root["Location"] == tab


def test_owners_still_open_the_environments(alice, client):
    client.force_login(alice)
    assert client.get("/o/org-a/settings/").status_code == 200
    assert 'href="/o/org-a/settings/"' in client.get("/o/org-a/").content.decode()
