"""Portuguese everywhere a user reads: every page, form (with its errors), email and message
rendered in pt-BR shows no English text that the catalogues (or the sources' gettext calls
and {% translate %} tags) know as a msgid.

The English side is collected from the two .po files and from the sources themselves (a
string wrapped in gettext but never added to a catalogue counts too); a visible text node of
a pt-BR page that equals such a msgid (or matches one with placeholders) is a failure, except
for the short list of words Portuguese keeps as they are. `msgfmt --statistics` must report
no untranslated or fuzzy entry.
"""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
from datetime import UTC, datetime
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize

from portal.auth.invitations import send_invitation
from portal.models import Environment
from reports.alerts.deliver import render_email
from reports.models import (
    AlertEvent,
    AlertRule,
    ReportDelivery,
    ReportSubscription,
    SavedView,
)
from reports.privacy.service import render_receipt
from reports.summaries.actions import send_test
from sync.models import CallbackSourceDay, Erasure
from sync.notify import notify_token_rejected
from tests.support.routes import all_routes, fill, sample_values

ROOT = Path(settings.BASE_DIR)
CATALOGUES = [ROOT / "locale/pt_BR/LC_MESSAGES/django.po",
              ROOT / "reports/locale/pt_BR/LC_MESSAGES/django.po"]
SOURCES = ("portal", "reports", "sync")
GETTEXT_NAMES = {"_", "_lazy", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy",
                 "ngettext", "ngettext_lazy", "gettext_noop"}
# Words Portuguese keeps as they are (names, units, loan words): allowed to show unchanged.
SAME_IN_PORTUGUESE = frozenset({
    "Switchboard", "Talkover", "Origins AI", "OK", "Email", "E-mail", "Webhook", "webhook",
    "Webhooks",
    "CSV", "API", "ID", "SID", "Status", "Slack", "JSON", "URL", "Token", "token", "Total",
    "Info", "Insight", "Insights", "Manual", "MOS", "Jitter",
    "vs", "min", "s", "h", "%", "p95", "p50",
})
HIDDEN_TAGS = {"script", "style", "code", "pre", "template"}
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


def _unquote(chunk: str) -> str:
    return ast.literal_eval('"' + chunk + '"') if chunk else ""


def po_entries(path: Path) -> dict[str, str]:
    """msgid → msgstr (the first plural form) of one .po file, header left out."""
    entries: dict[str, str] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = _unquote(match.group(2))
            elif line.startswith('"') and key:
                fields[key] += _unquote(line[1:-1])
        if fields.get("msgid"):
            entries[fields["msgid"]] = fields.get("msgstr", fields.get("msgstr[0]", ""))
            if "msgid_plural" in fields:
                entries[fields["msgid_plural"]] = fields.get("msgstr[1]", "")
    return entries


def _python_msgids(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in GETTEXT_NAMES:
                args = node.args[1:] if name.startswith("pgettext") else node.args
                found |= {a.value for a in args[:2]
                          if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return found


def _template_msgids(path: Path) -> set[str]:
    """{% translate %} / {% blocktranslate %} msgids, as Django's makemessages sees them."""
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    found = set()
    literal = r"""u?('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
    for call in re.finditer(rf"\b(n?p?gettext)\(((?:\s*{literal}\s*,?)+)", code):
        literals = [m.group(1) for m in re.finditer(literal, call.group(2))]
        if call.group(1).startswith(("pgettext", "npgettext")):
            literals = literals[1:]
        found |= {ast.literal_eval(text) for text in literals}
    return found


@cache
def source_msgids() -> frozenset[str]:
    found: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts:
                found |= _python_msgids(path)
    for path in (ROOT / "templates").rglob("*"):
        if path.suffix in (".html", ".txt"):
            found |= _template_msgids(path)
    return frozenset(m for m in found if m.strip())


@cache
def catalogue() -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in CATALOGUES:
        for msgid, msgstr in po_entries(path).items():
            merged[msgid] = merged.get(msgid) or msgstr
    return merged


def _pattern(msgid: str) -> tuple[str, re.Pattern] | None:
    """A regex for a msgid with placeholders (%(name)s, %s, %d), matched against one node,
    with its longest literal part (a cheap test before the regex)."""
    parts = re.split(r"%\(\w+\)[sdfi]|%[sdfi]|\{\w*\}", msgid)
    if len(parts) == 1:
        return None
    literal = max((_normal(p) for p in parts), key=len)
    if not re.search(r"[A-Za-z]{3}", literal):
        return None
    # A space beside a placeholder stays: "Agent %(id)s" must not match "Agentes".
    spaced = [re.sub(r"\s+", " ", p.replace("%%", "%")) for p in parts]
    spaced[0], spaced[-1] = spaced[0].lstrip(), spaced[-1].rstrip()
    return literal, re.compile("^" + ".+?".join(re.escape(p) for p in spaced) + "$", re.S)


def _normal(text: str) -> str:
    return " ".join(text.replace("%%", "%").split())


@cache
def english() -> tuple[frozenset[str], tuple[tuple[str, re.Pattern], ...]]:
    """The English msgids a pt-BR page must not show: plain ones and placeholder patterns."""
    plain, patterns = set(), []
    for msgid in set(catalogue()) | source_msgids():
        text = _normal(msgid)
        if not re.search(r"[A-Za-z]", text) or text in SAME_IN_PORTUGUESE:
            continue
        pattern = _pattern(msgid)
        if pattern is not None:
            patterns.append(pattern)
        elif "%(" not in msgid:
            # As written, and with a capital first letter as forms and the admin show
            # a model field's name ("created at" → "Created at").
            plain |= {text, text[:1].upper() + text[1:]} - SAME_IN_PORTUGUESE
    return frozenset(plain), tuple(patterns)


class VisibleText(HTMLParser):
    """Text nodes a person reads, plus the attributes read aloud or shown on hover."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in HIDDEN_TAGS:
            self.hidden += 1
        values = dict(attrs)
        self.nodes += [values[a] for a in READ_ATTRIBUTES if values.get(a)]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.nodes.append(values["value"])

    def handle_endtag(self, tag) -> None:
        if tag in HIDDEN_TAGS and self.hidden:
            self.hidden -= 1

    def handle_data(self, data) -> None:
        if not self.hidden and data.strip():
            self.nodes.append(data)


@cache
def _english_in(node: str) -> tuple[str, ...]:
    """The English msgids one normalised text node shows (nodes repeat across pages)."""
    plain, patterns = english()
    pieces = {node} | {p.strip(" .:·—–()[]|,;*") for p in re.split(r" [·|—–] |: |\(|\)", node)}
    hits = sorted(p for p in pieces if p in plain)
    hits += [node for literal, pattern in patterns
             if literal in node and pattern.match(node)][:1]
    return tuple(f"{hit!r} in {node[:80]!r}" if hit != node else repr(hit) for hit in hits)


def untranslated(text: str, *, html: bool = True) -> list[str]:
    """The English msgids found in `text` (an HTML page or a plain-text email)."""
    if html:
        parser = VisibleText()
        parser.feed(text)
        nodes = parser.nodes
    else:
        nodes = text.splitlines()
    return [hit for node in nodes for hit in _english_in(_normal(node))]


def test_catalogues_have_no_untranslated_or_fuzzy_entry():
    if not shutil.which("msgfmt"):
        pytest.skip("msgfmt (gettext) is not installed")
    for path in CATALOGUES:
        result = subprocess.run(["msgfmt", "--statistics", "-o", "/dev/null", str(path)],
                                capture_output=True, text=True, check=True)
        assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, \
            (path, result.stderr)


def test_every_wrapped_string_of_the_sources_is_in_a_catalogue_and_translated():
    entries = catalogue()
    missing = sorted(m for m in source_msgids() if not entries.get(m))
    if missing:
        pytest.fail("Not translated in the catalogues:\n" + "\n".join(map(repr, missing)))
    same = sorted(m for m, t in entries.items() if t == m and m not in SAME_IN_PORTUGUESE)
    assert not same, same


def _text_outside_translate_tags(source: str) -> list[str]:
    """Literal words of a template that no {% translate %} / {% blocktranslate %} covers."""
    for pattern in (r"\{%\s*blocktrans(?:late)?\b.*?\{%\s*endblocktrans(?:late)?\s*%\}",
                    r"\{#.*?#\}", r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}",
                    r"<(script|style)\b.*?</\1>", r"\{%.*?%\}", r"\{\{.*?\}\}"):
        source = re.sub(pattern, " ", source, flags=re.S)
    attributes = re.findall(r'(?:title|placeholder|aria-label|alt)="([^"]*)"', source)
    source = re.sub(r"<[^>]*>", " ", source)
    words = re.findall(r"[A-Za-z][A-Za-z'’-]+", source + " " + " ".join(attributes))
    return [w for w in words if w not in SAME_IN_PORTUGUESE and w not in ("ms", "px")]


def test_templates_have_no_text_outside_translate_tags():
    """What the catalogues cannot know: English typed into a template without a tag."""
    found = {str(path.relative_to(ROOT)): words for path in (ROOT / "templates").rglob("*")
             if path.suffix in (".html", ".txt")
             and (words := _text_outside_translate_tags(path.read_text(encoding="utf-8")))}
    assert not found, found


def test_the_check_catches_english():
    """The walk below can fail: an English msgid shown unchanged is found."""
    assert untranslated("<p>Painel</p><p><b>Calls</b> · Agentes</p>") == ["'Calls'"]
    assert untranslated("<th>Last synced at</th>") == ["'Last synced at'"]
    assert untranslated("<input placeholder='Save'><script>Calls</script>") == ["'Save'"]
    assert untranslated("<p>Alert firing (Crítico): “Queda”.</p>") != []
    assert untranslated("<p>Chamadas</p><p>Painel</p>") == []


def _pt_client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="pt-BR", raise_request_exception=True)
    client.force_login(user)
    return client


def _page_routes(shown) -> list[str]:
    rule = shown.pairs[AlertRule][0]
    urls = []
    for route in all_routes():
        if route.path.startswith(("admin/", "api/")) or route.name in (
                "logout", "set_language", "favicon", "healthz", "readyz"):
            continue
        values = sample_values(shown, route)
        if route.name and route.name.startswith("alerts") and "pk" in values:
            values["pk"] = str(rule.pk)
        if route.name and route.name.startswith("saved-view") and "pk" in values:
            values["pk"] = str(shown.pairs[SavedView][0].pk)
        urls.append(fill(route, values))
    return urls


@pytest.mark.django_db
def test_every_page_form_and_message_reads_in_portuguese(rich_world):
    alice = rich_world.users["alice"]
    # Every banner shows: a firing rule and an environment whose token was rejected.
    AlertRule.objects.across_organizations().filter(pk=rich_world.pairs[AlertRule][0].pk).update(
        state="firing", last_evaluated_at=datetime(2026, 11, 20, tzinfo=UTC))
    rich_world.env_a.status = "auth_failed"
    rich_world.env_a.save()
    # A delivery whose recipients' states show (one interrupted mid-send).
    delivery = rich_world.pairs[ReportDelivery][0]
    delivery.recipients = {"a@example.com": {"status": "sent"},
                           "b@example.com": {"status": "unknown"}}
    delivery.save(update_fields=["recipients"])
    # The world names a source agent "Outbound" (an English word as data, not as UI).
    CallbackSourceDay.objects.update(name="Retorno 1")
    client = _pt_client(alice)
    failures: dict[str, list[str]] = {}
    for url in _page_routes(rich_world):
        response = client.get(url)
        if response.status_code < 300 and "html" in response.get("Content-Type", ""):
            failures[url] = untranslated(response.content.decode())
    # Forms with their validation errors, and the messages after an action.
    slug, rule = "org-a", rich_world.pairs[AlertRule][0]
    for url, data in [
        (f"/o/{slug}/settings/alerts/new/", {"threshold": "x", "webhook_url": "nope"}),
        (f"/o/{slug}/settings/subscriptions/new/", {"hour": "99", "addresses": "x@"}),
        (f"/o/{slug}/settings/environments/add/", {"base_url": "ftp://x"}),
        (f"/o/{slug}/settings/members/", {"email": "not-an-email"}),
        ("/accounts/password_change/", {"old_password": "wrong"}),
        (f"/o/{slug}/settings/alerts/{rule.pk}/action/", {"action": "acknowledge"}),
        (f"/o/{slug}/settings/alerts/{rule.pk}/action/", {"action": "snooze", "for": "1h"}),
    ]:
        response = client.post(url, data, follow=True)
        failures["POST " + url] = untranslated(response.content.decode())
    detail = client.get(f"/o/{slug}/settings/subscriptions/{delivery.subscription_id}/")
    assert "b@example.com: Desconhecido" in detail.content.decode()
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="pt-BR")
    response = anonymous.post("/accounts/login/", {"username": "alice", "password": "no"})
    failures["POST login"] = untranslated(response.content.decode())
    lines = sorted({f"{hit}  ({url})" for url, found in failures.items() for hit in found})
    if lines:
        pytest.fail(f"{len(lines)} English texts on pt-BR pages:\n" + "\n".join(lines))


@pytest.mark.django_db
def test_every_email_reads_in_portuguese(rich_world):
    alice = rich_world.users["alice"]
    org = rich_world.env_a.organization
    sub = ReportSubscription.objects.across_organizations().filter(organization=org).first()
    sub.language = "pt-br"
    sub.attach_csv = True
    sub.save()
    send_test(sub, alice)
    rule = rich_world.pairs[AlertRule][0]
    rule.language = "pt-br"
    rule.save()
    for state in ("firing", "resolved"):
        event = AlertEvent(rule=rule, organization=org, seq=9, state=state, metric=rule.metric,
                           value=3, threshold=1, calls=3,
                           window_start=datetime(2026, 11, 20, 3, tzinfo=UTC),
                           window_end=datetime(2026, 11, 21, 3, tzinfo=UTC),
                           coverage="x", created_at=datetime(2026, 11, 21, 9, tzinfo=UTC))
        mail.outbox.append(render_email(event, "on-call@example.com"))
    mail.outbox.append(render_receipt(rich_world.pairs[Erasure][0], "owner@example.com", "pt-br"))
    with translation.override("pt-br"):
        send_invitation(org, "new@example.com", "analyst", alice)
        notify_token_rejected(rich_world.env_a)
    Client(HTTP_ACCEPT_LANGUAGE="pt-BR").post("/accounts/password_reset/",
                                              {"email": alice.email})
    assert len(mail.outbox) >= 6
    failures = []
    for message in mail.outbox:
        found = untranslated(message.subject, html=False) + untranslated(message.body,
                                                                         html=False)
        for body, kind in getattr(message, "alternatives", []):
            found += untranslated(body) if kind == "text/html" else []
        if found:
            failures.append((message.subject, found))
    if failures:
        pytest.fail("English in pt-BR emails:\n" + "\n".join(map(str, failures)))


def _admin_pages(world) -> list[str]:
    """What a staff owner opens in the admin: the index, each app's index, every list, and
    the add, change and history pages of one of their own objects of each model."""
    pages = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        pages.append(reverse("admin:app_list", args=[meta.app_label]))
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        if model in world.pairs:
            own = world.pairs[model][1]
            for view in ("change", "history"):
                pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}",
                                     args=[own.pk]))
    return list(dict.fromkeys(pages))


@pytest.mark.django_db
def test_the_admin_a_staff_owner_sees_reads_in_portuguese(world):
    """carol, staff owner of org B: every admin page she may open, in pt-BR (Django's own
    words come from its catalogue; the models' and our admin's from ours)."""
    CallbackSourceDay.objects.update(name="Retorno 1")  # "Outbound" is data, not UI
    client = Client(HTTP_ACCEPT_LANGUAGE="pt-BR")  # pages she may not open answer 403
    client.force_login(world.users["carol"])
    failures: dict[str, list[str]] = {}
    opened = 0
    for url in _admin_pages(world):
        response = client.get(url)
        if response.status_code == 200:
            opened += 1
            failures[url] = untranslated(response.content.decode())
    # An action's message and a form's errors (the environment form, saved empty).
    env = world.pairs[Environment][1]
    changelist = reverse("admin:portal_environment_changelist")
    response = client.post(changelist, {"action": "pause_sync", "_selected_action": [env.pk]},
                           follow=True)
    failures["POST pause_sync"] = untranslated(response.content.decode())
    response = client.post(reverse("admin:portal_environment_change", args=[env.pk]),
                           {"name": ""})
    failures["POST environment"] = untranslated(response.content.decode())
    assert opened > 40
    lines = sorted({f"{hit}  ({url})" for url, found in failures.items() for hit in found})
    if lines:
        pytest.fail(f"{len(lines)} English texts on pt-BR admin pages:\n" + "\n".join(lines))
