"""Flow (流程): how the parts of the delivery system hand work to each other."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rulecore import (
    SELECTOR_SCHEMA,
    AnyCheck,
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Evidence,
    Measurement,
    Record,
    compile_selector,
    hookimpl,
)

HANDOFFS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "field": {
            "type": "string",
            "minLength": 1,
            "description": "The event field that names who owns the case (default: team).",
        },
        "events": {
            **SELECTOR_SCHEMA,
            "description": "Which events carry assignments (default: any event with the field).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_handoffs(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    field = params.get("field", "team")
    carries_assignment = compile_selector(params.get("events"))

    def handoffs(record: Record, context: EvaluationContext) -> Measurement:
        owner: Any = None
        evidence: list[Evidence] = []
        for index, event in enumerate(record.events):
            value = event.fields.get(field)
            if value is None or not carries_assignment(event):
                continue
            if owner is not None and value != owner:
                evidence.append(
                    Evidence(
                        "event", "handoff", event.at, event_index=index, detail=f"{owner} → {value}"
                    )
                )
            owner = value
        if owner is None:
            return Measurement.not_applicable(f"no event in the timeline names a {field}")
        return Measurement(float(len(evidence)), tuple(evidence))

    return handoffs


HANDOFFS = Check(
    name="handoffs",
    dimension="flow",
    doc=(
        "Number of handoffs: changes of owner (by default the event field 'team'; use "
        "field: agent for agents) along the timeline.  The first assignment is not a handoff; "
        "each later change of value is, so A → B → A counts two.  Lower is better.  A record "
        "whose events never name an owner is not_applicable.  Evidence lists each handoff "
        "as 'from → to' at its event."
    ),
    params_schema=HANDOFFS_SCHEMA,
    compile=compile_handoffs,
    unit="count",
    better="lower",
    default_thresholds={"desired": 1, "adequate": 2},
    example=(
        "- id: few-handoffs\n"
        "  check: handoffs\n"
        "  params: {field: team}\n"
        "  thresholds: {desired: 1, adequate: 2}\n"
    ),
)


@hookimpl
def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
    register(HANDOFFS)
