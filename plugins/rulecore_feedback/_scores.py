"""``satisfaction_score``: the customer's own score, against the zone of tolerance.

Customers hold two levels of expectation: the *desired service* they hope for and the
*adequate service* they will put up with; between them lies the *zone of tolerance*.  A
score at or above the desired level passes, one inside the zone warns, and one below the
adequate level fails: that customer is being lost.  For NPS (0 to 10) the zone is the
classic reading: promoters (9-10) pass, passives (7-8) warn, detractors (0-6) fail.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rulecore import (
    SELECTOR_SCHEMA,
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Evidence,
    Measurement,
    Record,
    compile_selector,
    known_events,
)
from rulecore.i18n import _

#: The scales a score may be on, and their bounds.
SCALES = {"csat": (1.0, 5.0), "nps": (0.0, 10.0), "any": (-math.inf, math.inf)}

SATISFACTION_SCORE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "response": {
            **SELECTOR_SCHEMA,
            "description": "The customer's answer to a survey (default: type survey_response).",
        },
        "field": {
            "type": "string",
            "minLength": 1,
            "description": "The response's field holding the score (default: score).",
        },
        "scale": {
            "enum": sorted(SCALES),
            "description": "csat (1 to 5, the default), nps (0 to 10), or any: a score outside "
            "the scale is an error, not a verdict.",
        },
        "use": {
            "enum": ["last", "first", "lowest"],
            "description": "Which response counts when there are several (default: last).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_satisfaction_score(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    is_response = compile_selector(params.get("response", {"type": "survey_response"}))
    field: str = params.get("field", "score")
    scale: str = params.get("scale", "csat")
    low, high = SCALES[scale]
    use: str = params.get("use", "last")

    def satisfaction_score(record: Record, context: EvaluationContext) -> Measurement:
        events = record.events[: known_events(record, context.as_of)]
        scored: list[tuple[float, int]] = []
        for index, event in enumerate(events):
            if not is_response(event):
                continue
            value = event.fields.get(field)
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                continue
            try:
                score = float(value)
            except ValueError:
                continue
            if not low <= score <= high or not math.isfinite(score):
                detail = _("score {score} is outside the {scale} scale").format(
                    score=value, scale=scale
                )
                return Measurement(
                    None,
                    (Evidence("event", "response", event.at, None, index, detail),),
                    detail,
                    outcome="error",
                )
            scored.append((score, index))
        if not scored:
            return Measurement.not_applicable(
                _("no survey response with a {field}").format(field=field)
            )
        if use == "first":
            score, index = scored[0]
        elif use == "lowest":
            score, index = min(scored)
        else:
            score, index = scored[-1]
        detail = _("{scale} score {score:g}").format(scale=scale, score=score)
        evidence = (Evidence("event", "response", events[index].at, None, index, detail),)
        return Measurement(score, evidence, detail)

    return satisfaction_score


SATISFACTION_SCORE = Check(
    name="satisfaction_score",
    dimension="feedback",
    doc=(
        "The score the customer gave in a survey response (type survey_response, field "
        "score), judged against the zone of tolerance: at or above the desired service "
        "level passes, between desired and adequate service warns, below adequate service "
        "fails.  scale: csat (1-5, default) or nps (0-10; set desired 9 and adequate 7 for "
        "promoters, passives and detractors).  A score outside the scale is an error.  "
        "Higher is better; by default 4 and 5 pass, 3 warns, 1 and 2 fail."
    ),
    params_schema=SATISFACTION_SCORE_SCHEMA,
    compile=compile_satisfaction_score,
    unit="score",
    better="higher",
    default_thresholds={"desired": 4, "adequate": 3},
    example=(
        "- id: nps\n  check: satisfaction_score\n  params: {scale: nps}\n"
        "  thresholds: {desired: 9, adequate: 7}\n"
    ),
)
