"""`make lint`'s own rules (tests/lint/custom_check.py, source_rules.py): each flags the lines
and modules it carries as bad and passes the good ones; a finding names its file and line."""
from __future__ import annotations

from tests.lint import custom_check, source_rules


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
