"""Handoffs and ping-pong: how often the case changed hands, and how often it came back.

Both checks read the owner sequence with the core's :func:`rulecore.owner_changes`, as the
other dimensions do, so they all agree on what a handoff is: a change of the owner field from
one value to another.
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
    OwnerChange,
    Record,
    compile_selector,
    owner_changes,
)
from rulecore.i18n import _

from ._common import SELECTOR_DEFS, EventPredicate, event_evidence, selector

OWNER_PARAMS: dict[str, Any] = {
    "field": {
        "type": "string",
        "minLength": 1,
        "description": "The event field that names who owns the case (default: team).",
    },
    "events": selector("Which events carry assignments (default: any event with the field)."),
}

HANDOFFS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": OWNER_PARAMS,
    "$defs": SELECTOR_DEFS,
}


def _handoffs(record: Record, field: str, carries: EventPredicate) -> list[OwnerChange] | None:
    """Every handoff along the timeline; ``None`` when no event names an owner at all."""
    changes = list(owner_changes(record, field, carries))
    return [change for change in changes if change.is_handoff] if changes else None


def _words(change: OwnerChange) -> str:
    return f"{change.before} → {change.after}"


def compile_handoffs(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    field = params.get("field", "team")
    carries_assignment = compile_selector(params.get("events"))

    def handoffs(record: Record, context: EvaluationContext) -> Measurement:
        found = _handoffs(record, field, carries_assignment)
        if found is None:
            return Measurement.not_applicable(
                _("no event in the timeline names a {field}").format(field=field)
            )
        evidence = tuple(
            event_evidence(record, change.event_index, "handoff", _words(change))
            for change in found
        )
        return Measurement(float(len(evidence)), evidence)

    return handoffs


HANDOFFS = Check(
    name="handoffs",
    dimension="flow",
    doc=(
        "Number of handoffs: changes of owner (by default the event field 'team'; use "
        "field: agent for agents) along the timeline.  The first assignment is not a handoff; "
        "each later change of value is, so A → B → A counts two (the ping_pong check counts "
        "the returns on their own).  Lower is better.  A record whose events never name an "
        "owner is not_applicable.  Evidence lists each handoff as 'from → to' at its event."
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


# --- ping-pong --------------------------------------------------------------------------------

BACK_TO_PREVIOUS = "previous"
BACK_TO_ANY_EARLIER = "any_earlier"

PING_PONG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **OWNER_PARAMS,
        "back_to": {
            "enum": [BACK_TO_PREVIOUS, BACK_TO_ANY_EARLIER],
            "description": "What counts as a return (default: previous).  previous: the case "
            "goes straight back to the owner it just left (A → B → A).  any_earlier: it goes "
            "back to any owner that held it before, also round a loop (A → B → C → A).",
        },
    },
    "$defs": SELECTOR_DEFS,
}


def compile_ping_pong(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    field = params.get("field", "team")
    carries_assignment = compile_selector(params.get("events"))
    any_earlier = params.get("back_to", BACK_TO_PREVIOUS) == BACK_TO_ANY_EARLIER

    def ping_pong(record: Record, context: EvaluationContext) -> Measurement:
        found = _handoffs(record, field, carries_assignment)
        if found is None:
            return Measurement.not_applicable(
                _("no event in the timeline names a {field}").format(field=field)
            )
        evidence = tuple(_returns(record, found, any_earlier))
        note = "; ".join(piece.detail for piece in evidence)
        return Measurement(float(len(evidence)), evidence, note)

    return ping_pong


def _returns(record: Record, handoffs: list[OwnerChange], any_earlier: bool) -> list[Evidence]:
    """Evidence for each handoff that gives the case back to an owner who had it before."""
    # Where each owner last let go of the case, so a return can say since when it was away.
    left_at: dict[str | None, int] = {}
    returns: list[Evidence] = []
    previous_owner: str | None = None
    for change in handoffs:
        left_at[change.before] = change.event_index
        is_return = change.after in left_at if any_earlier else change.after == previous_owner
        if is_return:
            detail = (
                f"{previous_owner} → {change.before} → {change.after}"
                if change.after == previous_owner
                else _(
                    "{before} → {after}, back to an owner who had the case until event {event}"
                ).format(before=change.before, after=change.after, event=left_at[change.after])
            )
            returns.append(event_evidence(record, change.event_index, "return", detail))
        previous_owner = change.before
    return returns


PING_PONG = Check(
    name="ping_pong",
    dimension="flow",
    doc=(
        "Number of returns: handoffs that give the case back to an owner who had it before "
        "(by default the event field 'team').  With back_to: previous (the default) only a "
        "straight bounce counts, A → B → A; with back_to: any_earlier a loop such as "
        "A → B → C → A counts too.  A → B → A → B holds two returns.  Handoffs to a new owner "
        "are not counted here (the handoffs check counts every change).  Lower is better; by "
        "default none passes, one warns, more fail.  A record whose events never name an "
        "owner is not_applicable.  Evidence shows each return at its event, as 'A → B → A'."
    ),
    params_schema=PING_PONG_SCHEMA,
    compile=compile_ping_pong,
    unit="count",
    better="lower",
    default_thresholds={"desired": 0, "adequate": 1},
    example=(
        "- id: no-ping-pong\n"
        "  check: ping_pong\n"
        "  params: {field: team, back_to: previous}\n"
        "  thresholds: {desired: 0, adequate: 1}\n"
    ),
)
