"""``first_contact_resolution``: the need was met at the first contact.

First-contact resolution (FCR) is the plainest test of anticipation: everything the customer
needed was done in the first exchange, so they never had to come back, chase, or be passed
on.  rulecore reads it from the timeline of one case:

- the *first contact* runs from the first agent response to the first resolution;
- it was not the last contact when, inside it, the customer came back after the
  conversation had gone quiet (a customer event at least ``min_gap`` after the event before
  it), or the case was reopened after the resolution, or (when asked for) it changed hands
  after the first response.

Customers who come back in a *new* case are the cross-record check ``repeat_contact``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import timedelta
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
    find_event,
    format_duration,
    known_events,
    owner_changes,
    parse_duration,
)
from rulecore.i18n import N_, _

BREAKS = ("contact", "reopen", "handoff")
DEFAULT_BREAKS = ("contact", "reopen")
DEFAULT_RESPONSE: dict[str, Any] = {"type": ["message", "callback"], "actor": "agent"}
DEFAULT_RESOLVED: dict[str, Any] = {"type": ["resolved", "closed"]}

FIRST_CONTACT_RESOLUTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "response": {
            **SELECTOR_SCHEMA,
            "description": "An agent's response; the first one starts the first contact "
            "(default: {type: [message, callback], actor: agent}).",
        },
        "resolved": {
            **SELECTOR_SCHEMA,
            "description": "The resolution; the first one ends the first contact "
            "(default: {type: [resolved, closed]}).",
        },
        "contact": {
            **SELECTOR_SCHEMA,
            "description": "A customer contact (default: {actor: customer}).",
        },
        "min_gap": {
            "type": ["string", "number"],
            "description": "A customer contact counts as coming back when it follows the "
            "event before it by at least this long; sooner, it is the same conversation "
            "(default: 1h; 0s counts every customer event).",
        },
        "reopened": {
            **SELECTOR_SCHEMA,
            "description": "A reopening of the case (default: {type: reopened}).",
        },
        "owner_field": {
            "type": "string",
            "minLength": 1,
            "description": "The event field that names who owns the case, for the handoff "
            "break (default: team).",
        },
        "breaks": {
            "type": "array",
            "items": {"enum": list(BREAKS)},
            "minItems": 1,
            "uniqueItems": True,
            "description": "What ends first-contact resolution: contact (the customer came "
            "back before the resolution), reopen (reopened after it), handoff (changed hands "
            "after the first response) (default: [contact, reopen]).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_first_contact_resolution(
    params: Mapping[str, Any], context: CompileContext
) -> Evaluator:
    """Compile one rule: selectors and the break set are read once, here, not per record."""
    response_spec = params.get("response", DEFAULT_RESPONSE)
    resolved_spec = params.get("resolved", DEFAULT_RESOLVED)
    is_response = compile_selector(response_spec)
    is_resolved = compile_selector(resolved_spec)
    is_contact = compile_selector(params.get("contact", {"actor": "customer"}))
    is_reopened = compile_selector(params.get("reopened", {"type": "reopened"}))
    min_gap = timedelta(seconds=parse_duration(params.get("min_gap", "1h")))
    owner_field = params.get("owner_field", "team")
    breaks = frozenset(params.get("breaks", DEFAULT_BREAKS))
    resolved_words = describe_selector(resolved_spec)
    response_words = describe_selector(response_spec)

    def first_contact_resolution(record: Record, context: EvaluationContext) -> Measurement:
        known = known_events(record, context.as_of)
        events = record.events[:known]
        resolution = find_event(record, is_resolved)
        if resolution is None or resolution >= known:
            still = (
                _(" as of {moment}").format(moment=context.as_of.isoformat())
                if context.as_of
                else ""
            )
            return Measurement.not_applicable(
                _("no {resolved}{still}: not resolved yet").format(
                    resolved=resolved_words, still=still
                )
            )
        response = find_event(record, is_response)
        # Resolved without any response first: the resolution itself was the first contact.
        start = response if response is not None and response < resolution else resolution
        evidence = [
            Evidence(
                "segment",
                "first_contact",
                events[start].at,
                events[resolution].at,
                detail=_("{response} at event {start} to {resolved} at event {end}").format(
                    response=response_words, start=start, resolved=resolved_words, end=resolution
                )
                if start != resolution
                else _("resolved at event {end} with no {response} before it").format(
                    end=resolution, response=response_words
                ),
            )
        ]
        if "contact" in breaks:
            evidence += _came_back(events, start, resolution, is_contact, min_gap)
        if "handoff" in breaks:
            evidence += _handoffs(record, start, resolution, owner_field)
        if "reopen" in breaks:
            evidence += [
                Evidence("event", "reopened", events[index].at, event_index=index)
                for index in range(resolution + 1, len(events))
                if is_reopened(events[index])
            ]
        return Measurement(float(len(evidence) - 1), tuple(evidence), _summary(evidence[1:]))

    return first_contact_resolution


_BREAK_WORDS = {
    "came_back": N_("the customer came back"),
    "handoff": N_("handed off"),
    "reopened": N_("reopened"),
}


def _summary(breaks: list[Evidence]) -> str:
    """``resolved at first contact``, or what stopped it: ``the customer came back 2 times``."""
    if not breaks:
        return _("resolved at first contact")
    counts = Counter(piece.label for piece in breaks)
    parts = [
        _(_BREAK_WORDS[label])
        + (_(" {count} times").format(count=counts[label]) if counts[label] > 1 else "")
        for label in ("came_back", "handoff", "reopened")
        if counts[label]
    ]
    return _("not resolved at first contact: {why}").format(why="; ".join(parts))


def _came_back(
    events: tuple[Event, ...],
    start: int,
    end: int,
    is_contact: Callable[[Event], bool],
    min_gap: timedelta,
) -> list[Evidence]:
    """Customer contacts inside the first contact that came after the conversation went quiet."""
    found = []
    for index in range(start + 1, end):
        event = events[index]
        quiet = event.at - events[index - 1].at
        if is_contact(event) and quiet >= min_gap:
            found.append(
                Evidence(
                    "event",
                    "came_back",
                    event.at,
                    event_index=index,
                    detail=_("{type} by {actor} after {quiet} of quiet").format(
                        type=event.type,
                        actor=event.actor,
                        quiet=format_duration(quiet.total_seconds()),
                    ),
                )
            )
    return found


def _handoffs(record: Record, start: int, end: int, owner_field: str) -> list[Evidence]:
    """Changes of owner after the first response, up to and including the resolution."""
    return [
        Evidence(
            "event",
            "handoff",
            record.events[change.event_index].at,
            event_index=change.event_index,
            detail=f"{change.before} → {change.after}",
        )
        for change in owner_changes(record, owner_field)
        if change.is_handoff and start < change.event_index <= end
    ]


FIRST_CONTACT_RESOLUTION = Check(
    name="first_contact_resolution",
    dimension="anticipation",
    doc=(
        "The case was resolved at the first contact (FCR).  The first contact runs from the "
        "first agent response (the response selector) to the first resolution (the resolved "
        "selector); resolved with no response before it, the resolution is the first "
        "contact.  It was not resolved at first contact when, according to breaks: the "
        "customer came back inside it, that is a customer event (the contact selector) at "
        "least min_gap after the event before it (contact); the case was reopened after the "
        "resolution (reopen); or the owner_field changed after the first response (handoff; "
        "not by default).  Measured: the number of such breaks; 0 is first-contact "
        "resolution, so the share of passes is the FCR rate.  Lower is better; the default "
        "zone allows none.  not_applicable when the case is not resolved (in-flight: by the "
        "audit's moment).  Evidence: the first contact as a segment, and each break."
    ),
    params_schema=FIRST_CONTACT_RESOLUTION_SCHEMA,
    compile=compile_first_contact_resolution,
    unit="count",
    better="lower",
    default_thresholds={"max": 0},
    example=(
        "- id: fcr\n"
        "  check: first_contact_resolution\n"
        "  params:\n"
        "    min_gap: 1h\n"
        "    breaks: [contact, reopen, handoff]\n"
    ),
)
