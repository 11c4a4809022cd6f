"""``supervisor_signoff``: escalations and refusals are signed off by a supervisor.

Some decisions should not rest on one agent: taking a case up a level, or telling a
customer "no".  Each such *decision* needs a *sign-off* within ``within`` of it, before
(approved in advance) or after (reviewed).  The measured value counts the decisions left
without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
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

SUPERVISOR_SIGNOFF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "decisions": {
            **SELECTOR_SCHEMA,
            "description": "The decisions that need a sign-off (default: type escalated or "
            "request_declined).",
        },
        "signoff": {
            **SELECTOR_SCHEMA,
            "description": "A supervisor's sign-off (default: type signoff by a supervisor).",
        },
        "within": {
            "type": ["string", "number"],
            "description": "How far from the decision, before or after, a sign-off counts "
            "(default: 1d).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_supervisor_signoff(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    is_decision = compile_selector(
        params.get("decisions", {"type": ["escalated", "request_declined"]})
    )
    is_signoff = compile_selector(params.get("signoff", {"type": "signoff", "actor": "supervisor"}))
    within = timedelta(seconds=parse_duration(params.get("within", "1d")))

    def supervisor_signoff(record: Record, context: EvaluationContext) -> Measurement:
        events = record.events[: known_events(record, context.as_of)]
        signoffs = [index for index, event in enumerate(events) if is_signoff(event)]
        evidence: list[Evidence] = []
        judged = unsigned = pending = 0
        for index, event in enumerate(events):
            if not is_decision(event):
                continue
            near = [i for i in signoffs if abs(events[i].at - event.at) <= within]
            if near:
                gap = (events[near[0]].at - event.at).total_seconds()
                when = (
                    _("{gap} after").format(gap=format_duration(gap))
                    if gap >= 0
                    else _("{gap} before").format(gap=format_duration(-gap))
                )
                detail = _("{decision} signed off {when}").format(decision=event.type, when=when)
                evidence.append(Evidence("event", "signed_off", event.at, None, index, detail))
                judged += 1
            elif context.as_of is not None and context.as_of < event.at + within:
                pending += 1
            else:
                detail = _("{decision} with no sign-off within {within}").format(
                    decision=event.type, within=format_duration(within.total_seconds())
                )
                evidence.append(Evidence("event", "not_signed_off", event.at, None, index, detail))
                judged += 1
                unsigned += 1
        if not judged:
            note = (
                _("{pending} decisions awaiting sign-off").format(pending=pending)
                if pending
                else _("no decision that needs a sign-off")
            )
            return Measurement.not_applicable(note)
        note = _("{unsigned} of {judged} decisions not signed off").format(
            unsigned=unsigned, judged=judged
        )
        return Measurement(float(unsigned), tuple(evidence), note)

    return supervisor_signoff


SUPERVISOR_SIGNOFF = Check(
    name="supervisor_signoff",
    dimension="supervision",
    doc=(
        "Counts the decisions that need a supervisor (by default escalated and "
        "request_declined events) with no sign-off (a signoff event by a supervisor) within "
        "`within` (1d) of them, before or after.  Run --as-of, a decision younger than "
        "`within` is not judged yet.  A record with no such decision is not applicable.  "
        "Lower is better; by default every decision must be signed off.  Evidence gives "
        "each decision with its sign-off, or its lack of one."
    ),
    params_schema=SUPERVISOR_SIGNOFF_SCHEMA,
    compile=compile_supervisor_signoff,
    unit="count",
    better="lower",
    default_thresholds={"desired": 0, "adequate": 0},
    example="- id: refusals-signed-off\n  check: supervisor_signoff\n"
    "  params: {decisions: {type: request_declined}, within: 4h}\n",
)
