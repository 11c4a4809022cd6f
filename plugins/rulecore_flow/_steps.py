"""Required steps: the service script happened, in order (greet → identify need → resolve).

The steps must appear as a *subsequence* of the timeline: other events may come between them.
The check keeps the largest set of steps that do appear in order (a longest common
subsequence of steps and events) and counts the rest, so one step done too early costs one,
not every step after it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from itertools import groupby
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
)
from rulecore.i18n import LOCALIZED_TEXT_SCHEMA, _, language, localized

from ._common import (
    SELECTOR_DEFS,
    EventPredicate,
    describe_event,
    event_evidence,
    selector,
    selector_part,
)

ANY_ORDER = "any_order"
AS_LISTED = "as_listed"

STEP_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": LOCALIZED_TEXT_SCHEMA,
                **SELECTOR_SCHEMA["properties"],
            },
        },
    ]
}

REQUIRED_STEPS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["steps"],
    "additionalProperties": False,
    "properties": {
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": STEP_SCHEMA,
            "description": "The steps, in the order they must happen.  Each is an event type "
            "(greet) or an event selector with an optional name for the evidence "
            "({name: confirm, type: message, actor: agent, where: {intent: confirm}}).",
        },
        "ties": {
            "enum": [ANY_ORDER, AS_LISTED],
            "description": "Events at the same instant (default: any_order).  any_order: they "
            "may satisfy the steps in either order, since the timeline cannot say which came "
            "first.  as_listed: the order the source listed them in decides.",
        },
        "when": selector(
            "Judge only records that have an event like this, such as a resolved event, so "
            "that open cases are not failed for steps not yet due (default: every record "
            "with events).  Other records are not_applicable."
        ),
    },
    "$defs": SELECTOR_DEFS,
}


class Step(NamedTuple):
    """One required step, compiled."""

    number: int  #: 1-based position in the standard
    name: str
    words: str  #: the selector in words, for a missing step's evidence
    matches: EventPredicate

    @property
    def title(self) -> str:
        return _step_title(self.number, self.name, language())


@lru_cache(maxsize=1024)
def _step_title(number: int, name: str, lang: str) -> str:
    return _("step {number} {name}").format(number=number, name=name)


def compile_steps(raw_steps: Sequence[Any]) -> tuple[Step, ...]:
    """Compile the ``steps`` param; raise ``ValueError`` for a step that selects every event."""
    steps = []
    for number, raw in enumerate(raw_steps, start=1):
        spec = {"type": raw} if isinstance(raw, str) else dict(raw)
        event_spec = selector_part(spec)
        words = describe_event(event_spec)
        name = localized(spec.get("name")) or words
        if not event_spec:
            raise ValueError(
                _(
                    "step {number} ({name}) would match every event; give it a type, actor or where"
                ).format(number=number, name=name)
            )
        steps.append(Step(number, name, words, compile_selector(event_spec)))
    return tuple(steps)


def compile_required_steps(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    steps = compile_steps(params["steps"])
    ties_in_any_order = params.get("ties", ANY_ORDER) == ANY_ORDER
    when_spec = params.get("when")
    is_due = compile_selector(when_spec) if when_spec is not None else None
    when_words = describe_event(when_spec)

    def required_steps(record: Record, context: EvaluationContext) -> Measurement:
        if not record.events:
            return Measurement.not_applicable(_("the record has no events"))
        if is_due is not None and not any(map(is_due, record.events)):
            return Measurement.not_applicable(
                _("no {event} event, so the steps are not due").format(event=when_words)
            )
        matching = [
            [index for index, event in enumerate(record.events) if step.matches(event)]
            for step in steps
        ]
        order = _candidate_order(record, matching, ties_in_any_order)
        placed = _steps_in_order(matching, order)
        return _measurement(record, steps, matching, placed)

    return required_steps


def _candidate_order(
    record: Record, matching: list[list[int]], ties_in_any_order: bool
) -> list[int]:
    """The events that match some step, in the order the steps may use them.

    With ``ties_in_any_order``, events at one instant are put in step order, which lets them
    satisfy the steps whichever way round the source listed them.
    """
    first_step_of: dict[int, int] = {}
    for step_position, indices in enumerate(matching):
        for index in indices:
            first_step_of.setdefault(index, step_position)
    candidates = sorted(first_step_of)
    if not ties_in_any_order:
        return candidates
    ordered: list[int] = []
    for _instant, same_instant in groupby(candidates, key=lambda index: record.events[index].at):
        ordered.extend(sorted(same_instant, key=lambda index: (first_step_of[index], index)))
    return ordered


def _steps_in_order(matching: list[list[int]], order: list[int]) -> dict[int, int]:
    """The most steps that fit in order: step position → event index (earliest choice)."""
    matches = [frozenset(indices) for indices in matching]
    return _all_steps_in_order(matches, order) or _most_steps_in_order(matches, order)


def _all_steps_in_order(matches: list[frozenset[int]], order: list[int]) -> dict[int, int]:
    """Every step placed on its earliest event in one scan, or ``{}`` if some step does not
    fit.  When every step fits, this is exactly what the full search below would choose, and
    it is the common case: a case that followed its process."""
    placed: dict[int, int] = {}
    step = 0
    for index in order:
        if step < len(matches) and index in matches[step]:
            placed[step] = index
            step += 1
    return placed if step == len(matches) else {}


def _most_steps_in_order(matches: list[frozenset[int]], order: list[int]) -> dict[int, int]:
    step_count, event_count = len(matches), len(order)
    # most[s][p]: the most of steps s.. that fit, in order, into events order[p..].
    most = [[0] * (event_count + 1) for _ in range(step_count + 1)]
    for s in range(step_count - 1, -1, -1):
        for p in range(event_count - 1, -1, -1):
            best = max(most[s + 1][p], most[s][p + 1])
            if order[p] in matches[s]:
                best = max(best, 1 + most[s + 1][p + 1])
            most[s][p] = best
    placed: dict[int, int] = {}
    s = p = 0
    while s < step_count and p < event_count:
        if order[p] in matches[s] and most[s][p] == 1 + most[s + 1][p + 1]:
            placed[s] = order[p]
            s, p = s + 1, p + 1
        elif most[s][p] == most[s][p + 1]:
            p += 1
        else:
            s += 1
    return placed


def _measurement(
    record: Record,
    steps: tuple[Step, ...],
    matching: list[list[int]],
    placed: dict[int, int],
) -> Measurement:
    missing = [
        step.name
        for position, step in enumerate(steps)
        if position not in placed and not matching[position]
    ]
    out_of_order = [
        step.name
        for position, step in enumerate(steps)
        if position not in placed and matching[position]
    ]

    def evidence() -> tuple[Evidence, ...]:  # built only if the outcome is reported
        return tuple(_step_evidence(record, steps, matching, placed))

    note = "; ".join(
        label.format(steps=", ".join(names))
        for label, names in (
            (_("missing: {steps}"), missing),
            (_("out of order: {steps}"), out_of_order),
        )
        if names
    ) or _("nothing missing or out of order")
    return Measurement(float(len(missing) + len(out_of_order)), evidence, note)


def _step_evidence(
    record: Record,
    steps: tuple[Step, ...],
    matching: list[list[int]],
    placed: dict[int, int],
) -> Iterator[Evidence]:
    for position, step in enumerate(steps):
        if position in placed:
            yield event_evidence(record, placed[position], "step", step.title)
        elif not matching[position]:
            detail = _("{step}: no event matches {event}").format(step=step.title, event=step.words)
            yield Evidence("note", "missing", detail=detail)
        else:
            first = matching[position][0]
            where = _neighbour_words(steps, placed, position)
            yield event_evidence(
                record,
                first,
                "out_of_order",
                _("{step}: first at event {event}, {where}").format(
                    step=step.title, event=first, where=where
                ),
            )


def _neighbour_words(steps: tuple[Step, ...], placed: dict[int, int], position: int) -> str:
    """Why a step that did happen does not fit: the in-order step it should follow or precede."""
    before = [p for p in placed if p < position]
    if before:
        p = max(before)
        return _("not after {step} at event {event}").format(step=steps[p].title, event=placed[p])
    after = [p for p in placed if p > position]
    if after:
        p = min(after)
        return _("not before {step} at event {event}").format(step=steps[p].title, event=placed[p])
    return _("not in order with the other steps")


REQUIRED_STEPS = Check(
    name="required_steps",
    dimension="flow",
    doc=(
        "The steps of a service script happened in order, such as greet → identify_need → "
        "resolve → confirm.  Each step is an event selector; other events may come between "
        "the steps.  The check finds the largest set of steps that appear in order and "
        "counts the others: a step with no matching event is missing, a step whose events "
        "all fall out of order is out of order.  The measured value is missing plus out of "
        "order; lower is better and by default any missing or out-of-order step fails.  "
        "Events at the same instant may satisfy steps in either order (ties: any_order) or "
        "only in the order listed (ties: as_listed).  A record with no events, or none "
        "matching 'when', is not_applicable.  Evidence names the event matched for each "
        "step, each missing step, and the first event of each step out of order."
    ),
    params_schema=REQUIRED_STEPS_SCHEMA,
    compile=compile_required_steps,
    unit="count",
    better="lower",
    default_thresholds={"max": 0},
    example=(
        "- id: service-script\n"
        "  check: required_steps\n"
        "  params:\n"
        "    steps:\n"
        "      - greet\n"
        "      - {name: identify_need, type: message, actor: agent, where: {intent: probe}}\n"
        "      - {name: resolve, type: resolved}\n"
        "      - {name: confirm, type: message, actor: agent, where: {intent: confirm}}\n"
        "    when: {type: resolved}\n"
        "  thresholds: {desired: 0, adequate: 1}\n"
    ),
)
