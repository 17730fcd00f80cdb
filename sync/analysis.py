"""A call's analysis as the vendor judged it, normalised (pure functions, and the re-judging
of an agent's calls when its threshold changes).

Each provider package maps its vendor's shape (Vapi `analysis`, Origins AI `call_insights`)
to `Analysis`; this module turns a success judgement, whatever its kind, into one of
`Judgement` and keeps the vendor's value as sent (`raw`):

- a boolean, or the text "true" / "false" (any case), is succeeded / failed;
- a score is put on a 0–100 scale (`score_of`) and compared with the agent's threshold
  (`Agent.success_threshold`, `DEFAULT_THRESHOLD` when the organisation set none): at or above
  it succeeded, below failed. A number up to 10 is a 1–10 score (×10), up to 100 a percentage;
  a letter grade A–F, a descriptive word (Excellent, Good, Fair, Poor) or a Likert answer
  (Strongly agree … Strongly disagree) by `WORD_SCORES`;
- anything else (absent, empty, a checklist or matrix object, an unknown word) is not
  evaluated, its value still kept in `raw`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models

from portal.models import Environment
from sync.models import Agent
from sync.models.core import Judgement
from sync.outcomes import refresh_outcome_days
from sync.write.kpi_rollups import refresh_kpi_days

# 7 of 10, 70 %, a B, "Good" and "Agree" succeed; 6 of 10, a C, "Fair" fail.
DEFAULT_THRESHOLD = 70.0
RAW_MAX = 255
WORD_SCORES: dict[str, float] = {
    "a": 100, "b": 80, "c": 60, "d": 40, "e": 20, "f": 0,
    "excellent": 100, "good": 75, "fair": 50, "poor": 25,
    "strongly agree": 100, "agree": 75, "neutral": 50, "disagree": 25,
    "strongly disagree": 0,
}


# The explorer's and the API's word for "not evaluated" (the stored value is "").
NOT_EVALUATED_KEY = "not_evaluated"
ANALYSIS_FIELDS = ["summary", "judgement", "judgement_raw", "judgement_score",
                   "analysis_fields", "transferred", "voicemail"]


@dataclass(frozen=True, slots=True)
class Analysis:
    """What a provider read from one record: the summary, the success judgement as sent, the
    fields the vendor extracted, and whether the call was transferred or met voicemail."""

    summary: str = ""
    success: Any = None
    fields: dict[str, Any] = field(default_factory=dict)
    transferred: bool = False
    voicemail: bool = False

    def columns(self, threshold: float | None = None) -> dict[str, Any]:
        """The Call columns of `ANALYSIS_FIELDS` (`threshold`: the agent's, else default)."""
        judgement, raw, score = judge(self.success, threshold)
        return {"summary": self.summary.replace("\x00", "")[:20_000], "judgement": judgement,
                "judgement_raw": raw, "judgement_score": score,
                "analysis_fields": self.fields or None, "transferred": self.transferred,
                "voicemail": self.voicemail}


def raw_text(value: Any) -> str:
    """The vendor's value as kept: text as sent, anything else as JSON ("" when absent)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text.replace("\x00", "")[:RAW_MAX]


def score_of(value: Any) -> float | None:
    """A score's place on 0–100 (see the module docstring), None when it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in WORD_SCORES:
            return float(WORD_SCORES[text])
        try:
            value = float(text.rstrip("%"))
        except ValueError:
            return None
    if not isinstance(value, int | float) or value != value or value < 0 or value > 100:
        return None
    return float(value) * 10 if value <= 10 else float(value)


def judge(value: Any, threshold: float | None = None) -> tuple[str, str, float | None]:
    """(judgement, raw value as kept, score or None) of a vendor's success judgement."""
    raw = raw_text(value)
    if isinstance(value, bool):
        return (Judgement.SUCCEEDED if value else Judgement.FAILED), raw, None
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return (Judgement.SUCCEEDED if value.strip().lower() == "true"
                else Judgement.FAILED), raw, None
    score = score_of(value)
    if score is None:
        return Judgement.NOT_EVALUATED, raw, None
    limit = DEFAULT_THRESHOLD if threshold is None else threshold
    return (Judgement.SUCCEEDED if score >= limit else Judgement.FAILED), raw, score


def thresholds(environment_id: int) -> dict[str, float]:
    """The thresholds the organisation set for this environment's agents (by external id)."""
    return {ext: float(t) for ext, t in Agent.objects.across_organizations().filter(
        environment_id=environment_id, success_threshold__isnull=False)
        .values_list("external_id", "success_threshold")}


def set_threshold(agent: Any, threshold: float | None) -> int:
    """Set an agent's threshold (None: the default) and judge its scored calls again (the days of
    the calls judged anew recounted in the rollups); the number of calls whose judgement
    changed. Reports read calls, so the environment's data
    version moves (no cached report keeps the old judgements)."""
    Agent.objects.across_organizations().filter(pk=agent.pk).update(
        success_threshold=threshold)
    limit = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sync_call SET judgement = CASE WHEN judgement_score >= %s THEN %s ELSE %s "
            "END WHERE environment_id = %s AND agent_external_id = %s "
            "AND judgement_score IS NOT NULL AND judgement <> CASE WHEN judgement_score >= %s "
            "THEN %s ELSE %s END RETURNING started_at",
            [limit, Judgement.SUCCEEDED, Judgement.FAILED, agent.environment_id,
             agent.external_id, limit, Judgement.SUCCEEDED, Judgement.FAILED])
        moments = [started_at for (started_at,) in cursor.fetchall()]
    changed = len(moments)
    if moments:
        # The rollups counting judgements: the KPI report's and the outcome report's
        # successful calls (their days recounted from the calls).
        environment = Environment.objects.across_organizations().select_related(
            "organization").get(pk=agent.environment_id)
        days = {moment.astimezone(environment.organization.tzinfo).date()
                for moment in moments}
        refresh_kpi_days(environment, days)
        refresh_outcome_days(environment, days)
    Environment.objects.filter(pk=agent.environment_id).update(
        data_version=models.F("data_version") + 1)
    return changed
