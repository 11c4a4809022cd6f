"""Timeliness (时限): is the customer served within the time standard, and not too rushed?"""

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
    describe_selector,
    find_event,
    format_duration,
    hookimpl,
)

ENDPOINT_SCHEMA: dict[str, Any] = {
    **SELECTOR_SCHEMA,
    "properties": {
        **SELECTOR_SCHEMA["properties"],
        "occurrence": {
            "enum": ["first", "last"],
            "description": "Which matching event to take (default: first).",
        },
    },
}

ELAPSED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["from", "to"],
    "additionalProperties": False,
    "properties": {
        "from": {**ENDPOINT_SCHEMA, "description": "The event that starts the clock."},
        "to": {
            **ENDPOINT_SCHEMA,
            "description": "The event that stops it; searched for after the 'from' event.",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_elapsed(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    start_spec, stop_spec = params["from"], params["to"]
    is_start, is_stop = (
        compile_selector(_selector(start_spec)),
        compile_selector(_selector(stop_spec)),
    )
    start_occurrence = start_spec.get("occurrence", "first")
    stop_occurrence = stop_spec.get("occurrence", "first")
    start_words, stop_words = describe_selector(start_spec), describe_selector(stop_spec)

    def elapsed(record: Record, context: EvaluationContext) -> Measurement:
        start = find_event(record, is_start, start_occurrence)
        if start is None:
            return Measurement.not_applicable(f"no {start_words} event")
        stop = find_event(record, is_stop, stop_occurrence, after=start)
        if stop is None:
            return Measurement.not_applicable(f"no {stop_words} event after the {start_words}")
        started, stopped = record.events[start].at, record.events[stop].at
        seconds = (stopped - started).total_seconds()
        evidence: tuple[Evidence, ...] = (
            Evidence("event", "from", started, event_index=start, detail=start_words),
            Evidence("event", "to", stopped, event_index=stop, detail=stop_words),
            Evidence("segment", "counted", started, stopped, detail=format_duration(seconds)),
        )
        if record.reordered:
            evidence += (Evidence("note", "reordered", detail="events were sorted by time"),)
        return Measurement(seconds, evidence)

    return elapsed


def _selector(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in spec.items() if key != "occurrence"}


ELAPSED = Check(
    name="elapsed",
    dimension="timeliness",
    doc=(
        "Time between two events in the timeline, such as opened → first agent reply or "
        "opened → resolved.  Each end is an event selector (type, actor, where) plus which "
        "occurrence to take, first or last; the 'to' event is searched for after the 'from' "
        "event.  Measured in seconds of calendar time; lower is better.  A record without "
        "either event is not_applicable, with a note that says which is missing."
    ),
    params_schema=ELAPSED_SCHEMA,
    compile=compile_elapsed,
    unit="seconds",
    better="lower",
    example=(
        "- id: first-reply\n"
        "  check: elapsed\n"
        "  params:\n"
        "    from: {type: opened}\n"
        "    to: {type: message, actor: agent}\n"
        "  thresholds: {desired: 1m, adequate: 5m}\n"
    ),
)


@hookimpl
def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
    register(ELAPSED)
