"""``repeated_information``: after a handoff, the customer is not asked again for what they gave.

A system designed around the customer passes what it learnt along with the case.  Where the
records say what the customer provided (an account number, an order id, the fault's symptoms),
the same piece given again after the case changed hands is the customer doing the system's
work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

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
    describe_selector,
    owner_changes,
)
from rulecore.i18n import _

from ._common import normalised_name

DEFAULT_PROVIDED: dict[str, Any] = {"type": "provided_info", "actor": "customer"}

REPEATED_INFORMATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "provided": {
            **SELECTOR_SCHEMA,
            "description": "An event in which the customer gives a piece of information "
            "(default: {type: provided_info, actor: customer}).",
        },
        "key_field": {
            "type": "string",
            "minLength": 1,
            "description": "The field that names which information was given, such as "
            "account_number (default: key).",
        },
        "value_field": {
            "type": "string",
            "minLength": 1,
            "description": "Optional field with the value given.  When set, the same key "
            "with a different value is new information (a correction), not a repeat.",
        },
        "owner_field": {
            "type": "string",
            "minLength": 1,
            "description": "The event field that names who owns the case; a change of its "
            "value is a handoff (default: team; use agent for agent handoffs).",
        },
        "assignments": {
            **SELECTOR_SCHEMA,
            "description": "Which events carry assignments (default: any event with the "
            "owner field).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


class _FirstGiven(NamedTuple):
    """Where a piece of information was first given: before which handoff, at which event."""

    stage: int  #: how many handoffs had happened when it was given
    event_index: int
    value: str | None


def compile_repeated_information(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    """Compile one rule: selectors and field names are read once, here, not per record."""
    provided_spec = params.get("provided", DEFAULT_PROVIDED)
    is_provided = compile_selector(provided_spec)
    key_field = params.get("key_field", "key")
    value_field = params.get("value_field")
    owner_field = params.get("owner_field", "team")
    carries_assignment = compile_selector(params.get("assignments"))
    provided_words = describe_selector(provided_spec)

    def repeated_information(record: Record, context: EvaluationContext) -> Measurement:
        handoffs = {
            change.event_index: change
            for change in owner_changes(record, owner_field, carries_assignment)
            if change.is_handoff
        }
        first_given: dict[str, _FirstGiven] = {}
        evidence: list[Evidence] = []
        stage = 0
        handoff_after_information = False
        for index, event in enumerate(record.events):
            change = handoffs.get(index)
            if change is not None:
                stage += 1
                if first_given:
                    handoff_after_information = True
                    evidence.append(
                        Evidence(
                            "event",
                            "handoff",
                            event.at,
                            event_index=index,
                            detail=f"{change.before} → {change.after}",
                        )
                    )
            if not is_provided(event):
                continue
            key = normalised_name(event.fields.get(key_field))
            if key is None:
                continue
            value = normalised_name(event.fields.get(value_field)) if value_field else None
            earlier = first_given.get(key)
            if earlier is None or (value_field and earlier.value != value):
                first_given[key] = _FirstGiven(stage, index, value)
            elif earlier.stage < stage:
                evidence.append(
                    Evidence(
                        "event",
                        "repeated",
                        event.at,
                        event_index=index,
                        detail=_(
                            "{key} given again after a handoff (first given at event {event})"
                        ).format(key=key, event=earlier.event_index),
                    )
                )
        if not first_given:
            return Measurement.not_applicable(
                _("the record has no {event} event with a {field!r} field").format(
                    event=provided_words, field=key_field
                )
            )
        if not handoff_after_information:
            return Measurement.not_applicable(
                _("the case did not change hands after the customer gave information")
            )
        repeats = sum(1 for piece in evidence if piece.label == "repeated")
        note = _("{count} pieces of information given again after a handoff").format(count=repeats)
        return Measurement(float(repeats), tuple(evidence), note)

    return repeated_information


REPEATED_INFORMATION = Check(
    name="repeated_information",
    dimension="adaptability",
    doc=(
        "After a handoff, the customer did not have to give the same information again.  "
        "The records must say what the customer gave: events matching the provided selector "
        "(default: type provided_info by the customer) with a key_field (default key) naming "
        "the piece of information.  A handoff is a change of the owner_field (default team) "
        "on an assignment event, read as the flow handoffs check reads it.  A piece given "
        "again after a handoff that followed its first giving is a repeat; given twice to "
        "the same owner, it is not counted.  With value_field, a new value for the same key "
        "is a correction, not a repeat.  Measured: the number of repeats.  Lower is better; "
        "the default zone allows none.  not_applicable when the record carries no such "
        "events, or the case did not change hands after the customer gave information.  "
        "Evidence: each handoff after information was given, and each repeat with the event "
        "where the piece was first given."
    ),
    params_schema=REPEATED_INFORMATION_SCHEMA,
    compile=compile_repeated_information,
    unit="count",
    better="lower",
    default_thresholds={"max": 0},
    example=(
        "- id: tell-us-once\n"
        "  check: repeated_information\n"
        "  params:\n"
        "    provided: {type: provided_info, actor: customer}\n"
        "    key_field: key\n"
        "    owner_field: team\n"
    ),
)
