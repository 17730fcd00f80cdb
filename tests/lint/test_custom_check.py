"""`make lint`'s own rules (tests/lint/custom_check.py, source_rules.py): each flags the lines
and modules it carries as bad and passes the good ones; a finding names its file and line."""
from __future__ import annotations

from tests.lint import custom_check, source_rules, vendor_words


def test_every_rule_flags_its_bad_samples_and_passes_its_good_ones():
    assert custom_check.rule_defects() == []


def test_a_finding_names_the_file_and_line():
    tracker = custom_check.RULES[0]
    text = '"""Totals."""\n# the fix for iss' + 'ue 57\nx = 1\n'  # (split: lint reads this file)
    assert list(custom_check._line_findings(tracker, "sync/x.py", text)) == [
        f"sync/x.py:2: {tracker.description}"]
    long_body = "def f():\n" + "".join(f"    a{i} = {i}\n" for i in range(61))
    assert [f.split(":")[:2] for f in source_rules.findings("reports/x.py", long_body, ())] == [
        ["reports/x.py", "1"]]


def test_vendor_words_are_read_in_labels_identifiers_and_templates_outside_their_package():
    vendors = ("talkover", "origins", "vapi", "retell")
    flagged = {
        "portal/pages/forms.py": 'x = forms.CharField(label=_("Agent ids (Origins AI)"))\n',
        "reports/queries/quality.py": "def origins_environments(envs):\n    return envs\n",
        "sync/demo.py": 'KEYS = {"origins-demo": "Acme Quality"}\n',
        "templates/reports/callbacks.html": '{% translate "as Talkover counts" %}\n',
        "templates/emails/summary.txt": "Your Vapi calls\n",
        "sync/providers/vapi/x.py": "RETELL = 1\n",
    }
    for rel, text in flagged.items():
        assert [f.split(":")[:2] for f in vendor_words.findings(rel, text, vendors)] == [
            [rel, "1"]], rel
    passed = {
        "sync/providers/vapi/x.py": 'LABEL = "Vapi"\n',
        "reports/talkover/views.py": 'TALKOVER = "talkover"\n',
        "portal/migrations/0001_initial.py": 'x = ("origins", "Origins AI")\n',
        "tests/sync/test_x.py": 'x = "Talkover"\n',
        "portal/x.py": '"""Talkover\'s words, in a docstring."""\n# and Vapi in a comment\n',
        "templates/x.html": "{% comment %}Vapi{% endcomment %}{# Retell #}\n",
        "reports/api/urls.py": 'include("reports.talkover.urls")\n',
    }
    for rel, text in passed.items():
        assert list(vendor_words.findings(rel, text, vendors)) == [], rel
