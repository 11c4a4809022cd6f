"""``event_count``: how many events of a kind a case went through.

Some standards are a plain count: no more than two transfers, at most three customer
chasers, no more than one escalation.  The events are picked by the shared event selector
(type, actor, where), so any kind of event can be counted without a check of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rulecore import (
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Evidence,
    Measurement,
    Record,
    compile_selector,
    positions_of,
    selector_types,
    timeline_index,
)
from rulecore.i18n import _, ngettext

from ._common import SELECTOR_DEFS, describe_event, event_evidence, selector

EVENT_COUNT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["events"],
    "additionalProperties": False,
    "properties": {
        "events": selector(
            "Which events to count: a selector {type, actor, where}, such as {type: transfer}."
        ),
    },
    "$defs": SELECTOR_DEFS,
}


def compile_event_count(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    """Compile one ``event_count`` rule: the selector is compiled here, once."""
    spec = params["events"]
    matches = compile_selector(spec)
    types = selector_types(spec)  # a types-only selector is counted from the record's index
    words = describe_event(spec)
    kind = "" if words == "any event" else words

    def event_count(record: Record, context: EvaluationContext) -> Measurement:
        events = record.events
        if not events:
            return Measurement.not_applicable(_("the record has no events"))
        if types is not None:
            count = len(positions_of(timeline_index(record), types))
        else:
            count = sum(1 for event in events if matches(event))

        def evidence() -> tuple[Evidence, ...]:  # built only if the outcome is reported
            return tuple(
                event_evidence(record, index, "counted", words)
                for index, event in enumerate(events)
                if matches(event)
            )

        note = (
            ngettext("{count} {kind} event", "{count} {kind} events", count)
            if kind
            else ngettext("{count} event", "{count} events", count)
        )
        return Measurement(float(count), evidence, note.format(count=count, kind=kind))

    return event_count


EVENT_COUNT = Check(
    name="event_count",
    dimension="flow",
    doc=(
        "Number of events that match a selector (type, actor, where): transfers, escalations, "
        "customer chasers, notes by a given team.  Every matching event in the timeline "
        "counts, wherever it falls.  Lower is better; the rule gives its own zone, such as "
        "{max: 2} for 'no more than two transfers' (three or more fail).  A record with no "
        "events is not_applicable; a record with events but none that match measures 0.  "
        "Evidence marks each counted event."
    ),
    params_schema=EVENT_COUNT_SCHEMA,
    compile=compile_event_count,
    unit="count",
    better="lower",
    example=(
        "- id: few-transfers\n"
        "  check: event_count\n"
        "  params:\n"
        "    events: {type: transfer}\n"
        "  thresholds: {desired: 1, adequate: 2}\n"
    ),
)
