"""Which calls each KPI of `reports.queries.kpis` counts, as conditions on a call: the one
definition the report's sums (`Count(filter=…)`) and the explorer's `kpi` filter (the drill
links of every KPI figure) both read. Test calls are left out by the callers, as everywhere.

- answered: answered or completed (the report's "answered", `call_filter.OUTCOMES`);
- abandoned: inbound calls that ended before being answered (busy, no answer, failed);
- voicemail / transferred: the provider said so (`Call.voicemail`, `Call.transferred`);
- contained: answered and not transferred;
- timed: answered calls with an answer time (the average time to answer's calls);
- evaluated: the vendor judged them (succeeded or failed); succeeded: judged successful.
"""
from __future__ import annotations

from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from sync.models.core import CallStatus, Direction, Judgement

ANSWERED = Q(status__in=(CallStatus.ANSWERED, CallStatus.COMPLETED))
# A call with a number to match, as the outcome report counts them (`sync.outcomes.PHONE`):
# only those are settled, repeats or pending.
WITH_NUMBER = (Q(direction=Direction.OUTBOUND, to_number__regex=r"\d")
               | Q(direction=Direction.INBOUND, from_number__regex=r"\d"))
ENDED_UNANSWERED = (CallStatus.NO_ANSWER, CallStatus.BUSY, CallStatus.FAILED)
KPI_CALLS: dict[str, Q] = {
    "answered": ANSWERED,
    "inbound": Q(direction=Direction.INBOUND),
    "abandoned": Q(direction=Direction.INBOUND, status__in=ENDED_UNANSWERED),
    "voicemail": Q(voicemail=True),
    "transferred": Q(transferred=True),
    "contained": ANSWERED & Q(transferred=False),
    "timed": ANSWERED & Q(answered_at__isnull=False, answered_at__gte=F("started_at")),
    "evaluated": Q(judgement__in=(Judgement.SUCCEEDED, Judgement.FAILED)),
    "succeeded": Q(judgement=Judgement.SUCCEEDED),
}
KPI_LABELS = {
    "answered": _("Answered (incl. completed)"), "inbound": _("Inbound"),
    "abandoned": _("Abandoned (inbound, ended before an answer)"),
    "voicemail": _("Voicemail"), "transferred": _("Transferred"),
    "contained": _("Contained (answered, not transferred)"),
    "timed": _("Answered, with an answer time"),
    "evaluated": _("Judged by the vendor"), "succeeded": _("Judged successful"),
}
# The explorer's `judgement` filter: the normalised judgement ("not_evaluated" is "").
JUDGEMENT_LABELS = {Judgement.SUCCEEDED.value: Judgement.SUCCEEDED.label,
                    Judgement.FAILED.value: Judgement.FAILED.label,
                    "not_evaluated": Judgement.NOT_EVALUATED.label}
