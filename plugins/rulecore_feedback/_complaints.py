"""``complaint_flow``: a complaint is acknowledged in time and carried through its steps.

Complaint handling in the courseware runs Listen, Share, Probe, Check, Act, Satisfy.  What a
record can show of it is a *complaint* event, an *acknowledgement* to the customer, and the
*steps* the service then takes, in order (by default just the resolution of the complaint).
Each complaint is judged on its own; the measured value counts the lapses over all of them:
an acknowledgement missing or later than ``acknowledge_within``, and each step missing or out
of order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from rulecore import (
    SELECTOR_SCHEMA,
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Event,
    Evidence,
    Measurement,
    Record,
    compile_selector,
    describe_selector,
    format_duration,
    known_events,
    parse_duration,
)
from rulecore.i18n import _

DEFAULT_STEPS: list[dict[str, Any]] = [{"type": "complaint_resolved"}]

COMPLAINT_HANDLING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "complaint": {
            **SELECTOR_SCHEMA,
            "description": "The customer's complaint (default: type complaint).",
        },
        "acknowledgement": {
            **SELECTOR_SCHEMA,
            "description": "The acknowledgement to the customer (default: an agent's "
            "complaint_acknowledged event).",
        },
        "acknowledge_within": {
            "type": ["string", "number"],
            "description": "How soon the complaint must be acknowledged (default: 1h).",
        },
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {key: value for key, value in SELECTOR_SCHEMA.items() if key != "$defs"},
            "description": "The handling steps after the acknowledgement, in order "
            "(default: [{type: complaint_resolved}]).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_complaint_flow(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    is_complaint = compile_selector(params.get("complaint", {"type": "complaint"}))
    is_ack = compile_selector(
        params.get("acknowledgement", {"type": "complaint_acknowledged", "actor": "agent"})
    )
    ack_within = parse_duration(params.get("acknowledge_within", "1h"))
    step_specs: Sequence[Any] = params.get("steps", DEFAULT_STEPS)
    steps = [(compile_selector(spec), describe_selector(spec)) for spec in step_specs]

    def complaint_flow(record: Record, context: EvaluationContext) -> Measurement:
        events = record.events[: known_events(record, context.as_of)]
        complaints = [index for index, event in enumerate(events) if is_complaint(event)]
        if not complaints:
            return Measurement.not_applicable(_("no complaint"))
        evidence: list[Evidence] = []
        lapses = pending = 0
        for position, complaint in enumerate(complaints):
            # A complaint's handling runs until the next complaint starts.
            end = complaints[position + 1] if position + 1 < len(complaints) else len(events)
            found, missed, waiting = _handle(
                events, complaint, end, is_ack, ack_within, steps, context.as_of
            )
            evidence.extend(found)
            lapses += missed
            pending += waiting
        note = _("handling lapses: {lapses}, over complaints: {count}").format(
            lapses=lapses, count=len(complaints)
        )
        if pending:
            note += _("; {pending} steps still to come").format(pending=pending)
        return Measurement(float(lapses), tuple(evidence), note)

    return complaint_flow


def _handle(
    events: tuple[Event, ...],
    complaint: int,
    end: int,
    is_ack: Callable[[Event], bool],
    ack_within: float,
    steps: Sequence[tuple[Callable[[Event], bool], str]],
    as_of: datetime | None,
) -> tuple[list[Evidence], int, int]:
    """One complaint's evidence, lapses and steps still pending."""
    made = events[complaint]
    evidence = [Evidence("event", "complaint", made.at, None, complaint, made.type)]
    lapses = pending = 0
    ack = next((i for i in range(complaint + 1, end) if is_ack(events[i])), None)
    cursor = complaint
    if ack is None:
        overdue = as_of is None or (as_of - made.at).total_seconds() > ack_within
        if overdue:
            lapses += 1
            evidence.append(Evidence("note", "not_acknowledged", detail=_("never acknowledged")))
        else:
            pending += 1
    else:
        waited = (events[ack].at - made.at).total_seconds()
        label = "acknowledged" if waited <= ack_within else "acknowledged_late"
        lapses += label == "acknowledged_late"
        detail = _("acknowledged after {waited}").format(waited=format_duration(waited))
        evidence.append(Evidence("event", label, events[ack].at, None, ack, detail))
        cursor = ack
    for is_step, words in steps:
        step = next((i for i in range(cursor + 1, end) if is_step(events[i])), None)
        if step is None:
            if as_of is None:
                lapses += 1
                detail = _("missing or out of order: {step}").format(step=words)
                evidence.append(Evidence("note", "step_missing", detail=detail))
            else:
                pending += 1
            continue
        evidence.append(Evidence("event", "step", events[step].at, None, step, words))
        cursor = step
    return evidence, lapses, pending


COMPLAINT_HANDLING = Check(
    name="complaint_flow",
    dimension="feedback",
    doc=(
        "For each complaint (type complaint), counts the handling lapses: an acknowledgement "
        "(an agent's complaint_acknowledged event) missing or later than acknowledge_within "
        "(1h), and each of the steps (default: complaint_resolved) missing or out of order "
        "after it.  Run --as-of, steps not yet taken are pending, not lapses.  A record with "
        "no complaint is not applicable.  Lower is better; by default none passes, one "
        "warns, more fail.  Evidence follows each complaint through its handling."
    ),
    params_schema=COMPLAINT_HANDLING_SCHEMA,
    compile=compile_complaint_flow,
    unit="count",
    better="lower",
    default_thresholds={"desired": 0, "adequate": 1},
    example=(
        "- id: complaints-handled\n  check: complaint_flow\n"
        "  params:\n    acknowledge_within: 30m\n"
        "    steps: [{type: apology}, {type: complaint_resolved}]\n"
    ),
)
