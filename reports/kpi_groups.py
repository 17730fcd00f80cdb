"""Which calls each KPI of `reports.queries.kpis` counts: the conditions (`KPI_CALLS`, defined
once in `sync.kpi_calls`: the report, its day rollup and the explorer's `kpi` filter read
them; each group's meaning is told there) and their labels.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sync.kpi_calls import KPI_CALLS, WITH_NUMBER, kpi_sums
from sync.models.core import Judgement

__all__ = ["JUDGEMENT_LABELS", "KPI_CALLS", "KPI_LABELS", "WITH_NUMBER", "kpi_sums"]

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
