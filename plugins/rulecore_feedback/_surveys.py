"""``survey_follows``: a satisfaction survey follows the resolution.

The measured value is the time from the case's last resolution to the first survey after
it.  A resolved case with no survey fails once ``within`` has passed (or at once, without
``--as-of``); a case not resolved is not judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
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
    format_duration,
    known_events,
    parse_duration,
)
from rulecore.i18n import _

SURVEY_FOLLOWS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "resolved": {
            **SELECTOR_SCHEMA,
            "description": "The event that resolves the case; the last one counts "
            "(default: type resolved or closed).",
        },
        "survey": {
            **SELECTOR_SCHEMA,
            "description": "The survey sent to the customer (default: type survey_sent).",
        },
        "within": {
            "type": ["string", "number"],
            "description": "How long after the resolution a missing survey is judged missing "
            "when auditing --as-of (default: 3d).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_survey_follows(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    is_resolved = compile_selector(params.get("resolved", {"type": ["resolved", "closed"]}))
    is_survey = compile_selector(params.get("survey", {"type": "survey_sent"}))
    within = timedelta(seconds=parse_duration(params.get("within", "3d")))

    def survey_follows(record: Record, context: EvaluationContext) -> Measurement:
        events = record.events[: known_events(record, context.as_of)]
        resolved = next(
            (index for index in range(len(events) - 1, -1, -1) if is_resolved(events[index])),
            None,
        )
        if resolved is None:
            return Measurement.not_applicable(_("the case is not resolved"))
        resolved_at: datetime = events[resolved].at
        at_resolution = Evidence(
            "event", "resolved", resolved_at, None, resolved, events[resolved].type
        )
        survey = next(
            (index for index in range(resolved + 1, len(events)) if is_survey(events[index])),
            None,
        )
        if survey is not None:
            waited = (events[survey].at - resolved_at).total_seconds()
            sent = Evidence("event", "survey", events[survey].at, None, survey, events[survey].type)
            note = _("survey sent {waited} after the resolution").format(
                waited=format_duration(waited)
            )
            return Measurement(waited, (at_resolution, sent), note)
        if context.as_of is not None and context.as_of < resolved_at + within:
            return Measurement.not_applicable(
                _("resolved {at}; no survey yet").format(at=resolved_at.isoformat()),
                (at_resolution,),
            )
        return Measurement(
            None, (at_resolution,), _("no survey followed the resolution"), outcome="fail"
        )

    return survey_follows


SURVEY_FOLLOWS = Check(
    name="survey_follows",
    dimension="feedback",
    doc=(
        "Measures the time from the case's last resolution (type resolved or closed) to the "
        "first satisfaction survey after it (type survey_sent).  A resolved case with no "
        "survey fails; run --as-of, it is not judged until `within` (3d) has passed since "
        "the resolution.  A case not resolved is not applicable.  Lower is better; by "
        "default a survey within a day passes and within three days warns.  Evidence: the "
        "resolution and the survey."
    ),
    params_schema=SURVEY_FOLLOWS_SCHEMA,
    compile=compile_survey_follows,
    unit="seconds",
    better="lower",
    default_thresholds={"desired": "1d", "adequate": "3d"},
    example=(
        "- id: ask-how-it-went\n  check: survey_follows\n"
        "  thresholds: {desired: 4h, adequate: 1d}\n"
    ),
)
