"""``service_script``: Martin's five steps, read from what the agent wrote, in order.

Greet the customer, ask about their needs, serve them, confirm they are satisfied (or offer one
more thing), and say a warm farewell.  Four steps are phrases (lists ``greeting``, ``needs``,
``satisfaction``, ``farewell``).  Serving is not a phrase: no list could say what every answer
looks like.  It is found by its place: an agent message written after the needs were asked
about, and before the satisfaction check in the same or a later message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
)
from rulecore.i18n import _

from ._order import Place, order_measurement, steps_in_order
from ._phrases import Match, PhraseList, compile_lists
from ._transcript import (
    AGENT,
    Line,
    Transcript,
    message_evidence,
    span_evidence,
    transcript_properties,
)

SERVING = "serving"
STEPS = ("greeting", "needs", SERVING, "satisfaction", "farewell")
PHRASE_STEPS = tuple(step for step in STEPS if step != SERVING)

SERVICE_SCRIPT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "steps": {
            "type": "array",
            "items": {"enum": list(STEPS)},
            "minItems": 1,
            "uniqueItems": True,
            "description": "The steps to look for, in the order they must be said (default: "
            "greeting, needs, serving, satisfaction, farewell).",
        },
        "when": {
            **SELECTOR_SCHEMA,
            "description": "Judge only records with an event like this, such as a resolved "
            "event, so that chats still going on are not failed for a farewell not yet due.",
        },
        **transcript_properties(PHRASE_STEPS),
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}

#: What a step's occurrence keeps: the message, and the phrase's folded span (None: serving).
Found = tuple[Line, tuple[int, int] | None]


def compile_service_script(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    steps: tuple[str, ...] = tuple(params.get("steps", STEPS))
    lists = compile_lists(PHRASE_STEPS, params)
    transcript = Transcript.compile(params)
    when_spec = params.get("when")
    is_due = compile_selector(when_spec) if when_spec is not None else None

    def service_script(record: Record, context: EvaluationContext) -> Measurement:
        if is_due is not None and not any(map(is_due, record.events)):
            return Measurement.not_applicable(_("the chat has not ended, so the script is not due"))
        lines = transcript.lines(record)
        if isinstance(lines, Measurement):
            return lines
        agent_lines = [line for line in lines if line.speaker == AGENT]
        if not agent_lines:
            return Measurement.not_applicable(_("no agent message has text"))
        occurrences = [_occurrences(step, agent_lines, lists) for step in steps]
        kept = steps_in_order(occurrences)
        return _measurement(steps, occurrences, kept)

    return service_script


def _occurrences(
    step: str, lines: Sequence[Line], lists: Mapping[str, PhraseList]
) -> list[tuple[Place, Found]]:
    """Where the agent said ``step``: every place, in order."""
    if step == SERVING:
        return [((line.event_index, 0), (line, None)) for line in lines]
    phrases = lists[step]
    return [
        ((line.event_index, match.start), (line, (match.start, match.end)))
        for line in lines
        for match in phrases.finditer(line.folded)
    ]


def _measurement(
    steps: Sequence[str],
    occurrences: Sequence[Sequence[tuple[Place, Found]]],
    kept: Mapping[int, tuple[Place, Found]],
) -> Measurement:
    # Serving is found by its place, so a serving message that does not fit is no message
    # after the steps before it: missing, not out of order.
    missing = [
        step
        for number, step in enumerate(steps)
        if not occurrences[number] or (step == SERVING and number not in kept)
    ]
    out_of_order = [
        step
        for number, step in enumerate(steps)
        if occurrences[number] and number not in kept and step != SERVING
    ]

    def evidence() -> tuple[Evidence, ...]:
        pieces = []
        for number, step in enumerate(steps):
            if number in kept:
                pieces.append(_found_evidence(kept[number][1], "step", step))
            elif step in out_of_order:
                pieces.append(_found_evidence(occurrences[number][0][1], "out_of_order", step))
            else:
                pieces.append(
                    Evidence("note", "missing", detail=_("{step}: not found").format(step=step))
                )
        return tuple(pieces)

    return order_measurement(missing, out_of_order, evidence)


def _found_evidence(found: Found, label: str, step: str) -> Evidence:
    line, span = found
    if span is None:
        return message_evidence(line, label, step)
    return span_evidence(line, Match(*span), label, step)


SERVICE_SCRIPT = Check(
    name="service_script",
    dimension="courtesy",
    doc=(
        "Martin's five-step service script, read from the text of the agent's messages: "
        "greeting, asking about needs, serving, confirming satisfaction (or offering one more "
        "thing), and a warm farewell, in that order.  Greeting, needs, satisfaction and "
        "farewell are phrases from the shipped Chinese and English lists (extend or replace "
        "them with phrases); serving is any agent message after the needs were asked about.  "
        "The check keeps the most steps said in order and counts the others, missing or out "
        "of order.  Lower is better.  A record with no message text is not_applicable.  "
        "Evidence quotes each step as written, with its event and character offsets."
    ),
    params_schema=SERVICE_SCRIPT_SCHEMA,
    compile=compile_service_script,
    unit="count",
    better="lower",
    default_thresholds={"desired": 0, "adequate": 1},
    example=(
        "- id: five-steps\n"
        "  check: service_script\n"
        "  params:\n"
        "    phrases: {extend: {farewell: [回见]}}\n"
        "  thresholds: {desired: 0, adequate: 1}\n"
    ),
)
