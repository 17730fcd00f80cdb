"""A time zone picker lists the common zones first, then every canonical zone once: no
"Factory", "localtime" or old `US/…` names, no alias beside its zone (Asia/Calcutta)."""
from __future__ import annotations

from reports.summaries.forms import SubscriptionForm


def _values(choices) -> list[str]:
    out = []
    for value, label in choices:
        out.extend(v for v, _l in label) if isinstance(label, (list, tuple)) else out.append(value)
    return out


def test_subscription_time_zones_are_canonical_and_common_first(org_a):
    form = SubscriptionForm(organization=org_a)
    choices = form.fields["timezone"].choices
    assert choices[0][0] == ""  # the organisation's default
    common = dict(choices[1:])
    first_group = next(iter(common.values()))
    assert [v for v, _l in first_group][:2] == ["America/Sao_Paulo", "America/New_York"]
    every = _values(choices[2:])
    assert "Asia/Kolkata" in every and "America/Sao_Paulo" in every and "UTC" in every
    for junk in ("Factory", "localtime", "posixrules", "Asia/Calcutta", "US/Eastern",
                 "Brazil/East", "Etc/GMT+3"):
        assert junk not in every, junk
    assert len(every) == len(set(every)) and len(every) < 450
