"""Forbidden transitions: things that must never follow each other in a case.

A transition is a pair of endpoints, ``from`` and ``to``.  An endpoint is an event selector
(type, actor, where), a status (the case *enters* one of these values of the status field),
or both.  The ``from`` endpoint *arms* the transition; while it is armed, every event that
matches ``to`` is a violation.  It is disarmed by an ``unless`` event (closed → agent message,
unless reopened) and, when ``from`` is a status, by the case leaving that status.  So
``from: {status: New}, to: {status: Resolved}`` means the status went straight from New to
Resolved, and ``from: {status: Closed}, to: {type: message, actor: agent}`` means an agent
wrote while the case was closed.  With ``directly: true`` only the very next event counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, NamedTuple

from rulecore import (
    CASE_CLOCK_PROPERTIES,
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
)
from rulecore.caseclock import StatusRule, status_keys
from rulecore.i18n import LOCALIZED_TEXT_SCHEMA, _, localized

from ._common import (
    SELECTOR_DEFS,
    VALUES_SCHEMA,
    EventPredicate,
    describe_event,
    describe_values,
    selector_part,
)

ENDPOINT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        **SELECTOR_SCHEMA["properties"],
        "status": {
            **VALUES_SCHEMA,
            "description": "The case enters this status (or one of these): the status, read "
            "as the 'status' param says, changes to it at this event.",
        },
    },
}

TRANSITION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["from", "to"],
    "additionalProperties": False,
    "properties": {
        "name": LOCALIZED_TEXT_SCHEMA,
        "from": ENDPOINT_SCHEMA,
        "to": ENDPOINT_SCHEMA,
        "unless": SELECTOR_SCHEMA,
        "directly": {"type": "boolean"},
    },
}

FORBIDDEN_TRANSITIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["transitions"],
    "additionalProperties": False,
    "properties": {
        "transitions": {
            "type": "array",
            "minItems": 1,
            "items": TRANSITION_SCHEMA,
            "description": "The forbidden pairs.  Each has 'from' and 'to' endpoints (an event "
            "selector, a status, or both), an optional 'unless' event selector that makes the "
            "pair allowed again (closed → agent message unless reopened), 'directly: true' to "
            "forbid only a 'to' event that comes straight after the 'from' event, and an "
            "optional 'name' for the evidence.",
        },
        "status": CASE_CLOCK_PROPERTIES["status"],
    },
    "$defs": SELECTOR_DEFS,
}


class Endpoint(NamedTuple):
    """One end of a transition, compiled."""

    event: EventPredicate | None  #: ``None`` when the endpoint names only a status
    statuses: frozenset[str] | None  #: ``None`` when the endpoint names no status
    words: str

    def matches(self, event: Event, entered: str | None) -> bool:
        """Whether ``event`` is this endpoint; ``entered`` is the status it set, if it set one."""
        if self.statuses is not None and entered not in self.statuses:
            return False
        return self.event is None or self.event(event)


class Transition(NamedTuple):
    """One forbidden pair, compiled."""

    name: str
    start: Endpoint
    end: Endpoint
    unless: EventPredicate | None
    directly: bool

    @property
    def uses_status(self) -> bool:
        return self.start.statuses is not None or self.end.statuses is not None


def compile_endpoint(spec: Mapping[str, Any]) -> Endpoint:
    event_spec = selector_part(spec)
    statuses = status_keys(spec["status"]) if "status" in spec else None
    words = [describe_event(event_spec)] if event_spec else []
    if statuses is not None:
        words.append(_("status {statuses}").format(statuses=describe_values(spec["status"])))
    return Endpoint(
        compile_selector(event_spec) if event_spec else None, statuses, _(" entering ").join(words)
    )


def compile_transition(spec: Mapping[str, Any]) -> Transition:
    start, end = compile_endpoint(spec["from"]), compile_endpoint(spec["to"])
    unless = spec.get("unless")
    name = localized(spec.get("name")) or f"{start.words} → {end.words}" + (
        _(" without {event}").format(event=describe_event(unless)) if unless else ""
    )
    return Transition(
        name,
        start,
        end,
        compile_selector(unless) if unless is not None else None,
        bool(spec.get("directly", False)),
    )


def compile_forbidden_transitions(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    transitions = tuple(compile_transition(spec) for spec in params["transitions"])
    status = StatusRule.compile(params.get("status"))
    needs_status = all(transition.uses_status for transition in transitions)
    reads_status = any(transition.uses_status for transition in transitions)

    def forbidden_transitions(record: Record, context: EvaluationContext) -> Measurement:
        if not record.events:
            return Measurement.not_applicable(_("the record has no events"))
        entered: list[str | None] = (
            _entered_statuses(record, status) if reads_status else [None] * len(record.events)
        )
        if needs_status and not any(entered):
            return Measurement.not_applicable(
                _("no event carries a {field}").format(field=status.field)
            )
        violations, names = _violations(record, transitions, entered)
        return Measurement(float(len(violations)), tuple(violations), _tally(names))

    return forbidden_transitions


def _entered_statuses(record: Record, status: StatusRule) -> list[str | None]:
    """Per event, the status it put the case into; ``None`` where it changed none."""
    entered: list[str | None] = [None] * len(record.events)
    for change in status.changes(record.events):
        entered[change.event] = change.status
    return entered


def _violations(
    record: Record, transitions: tuple[Transition, ...], entered_statuses: list[str | None]
) -> tuple[list[Evidence], list[str]]:
    """Evidence for each violation, and the name of the transition each one broke."""
    armed_at: list[int | None] = [None] * len(transitions)
    found: list[Evidence] = []
    names: list[str] = []
    for index, (event, entered) in enumerate(zip(record.events, entered_statuses, strict=True)):
        for position, transition in enumerate(transitions):
            since = armed_at[position]
            if since is not None:
                # An 'unless' event is the very thing that makes what follows allowed, so it
                # is never a violation itself.
                if transition.unless is not None and transition.unless(event):
                    armed_at[position] = None
                elif transition.end.matches(event, entered):
                    found.append(_violation(record, transition, since, index))
                    names.append(transition.name)
                if transition.directly or _left_status(transition.start, entered):
                    armed_at[position] = None
            if transition.start.matches(event, entered):
                armed_at[position] = index
    return found, names


def _tally(names: list[str]) -> str:
    """``resolved without an assignment; closed → message (2 times)``, in first-seen order."""
    counts = Counter(names)
    return "; ".join(
        name if count == 1 else _("{name} ({count} times)").format(name=name, count=count)
        for name, count in counts.items()
    )


def _left_status(start: Endpoint, entered: str | None) -> bool:
    return start.statuses is not None and entered is not None and entered not in start.statuses


def _violation(record: Record, transition: Transition, since: int, index: int) -> Evidence:
    started = record.events[since].at.isoformat()
    return Evidence(
        "event",
        "forbidden",
        record.events[index].at,
        event_index=index,
        detail=_("{transition}: event {since} ({started}) → event {index}").format(
            transition=transition.name, since=since, started=started, index=index
        ),
    )


FORBIDDEN_TRANSITIONS = Check(
    name="forbidden_transitions",
    dimension="flow",
    doc=(
        "Counts transitions that must never happen, such as an agent writing on a closed "
        "case without reopening it, or a case going from New to Resolved with no assignment.  "
        "Each transition has a 'from' and a 'to' endpoint: an event selector (type, actor, "
        "where), a status the case enters (the status field changes to that value), or both.  "
        "A 'from' event arms the transition; while armed, each event matching 'to' is one "
        "violation.  An 'unless' event disarms it, and so does the case leaving the 'from' "
        "status; with directly: true only the event straight after 'from' is judged.  Lower "
        "is better; by default any violation fails.  A record with no events is "
        "not_applicable, and so is one without a status when every transition needs one.  "
        "Evidence marks each violating event and names the event that armed it."
    ),
    params_schema=FORBIDDEN_TRANSITIONS_SCHEMA,
    compile=compile_forbidden_transitions,
    unit="count",
    better="lower",
    default_thresholds={"max": 0},
    example=(
        "- id: nothing-out-of-turn\n"
        "  check: forbidden_transitions\n"
        "  params:\n"
        "    status: {field: state}\n"
        "    transitions:\n"
        "      - name: written on a closed case\n"
        "        from: {type: closed}\n"
        "        to: {type: message, actor: agent}\n"
        "        unless: {type: reopened}\n"
        "      - name: resolved straight from new\n"
        "        from: {status: New}\n"
        "        to: {status: Resolved}\n"
    ),
)
