"""``complaint_handling``: when the customer complains, apology or empathy, then LSPCAS.

Martin's complaint handling is Listen, Share, Probe, Check, Act, Satisfy.  From a transcript:

- the **complaint** is the first customer message with a phrase of list ``complaint``; a
  record without one is not_applicable;
- the **acknowledgement** is an apology or an expression of empathy (lists ``apology`` and
  ``empathy``) in an agent message after the complaint, anywhere after it;
- each **LSPCAS step** is a phrase of its own list (``listen``, ``share``, ``probe``, ``check``,
  ``act``, ``satisfy``) in an agent message after the complaint, and the steps must come in
  that order: the most steps said in order are kept, the others are missing or out of order.

These are heuristics over words, and the docs say where they fail: a phrase may be said for
another reason ("sorry, which order?" is an apology and a probe), a negation is not understood
("I am not frustrated" reads as a complaint), and only the first complaint is followed.
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
)
from rulecore.i18n import _

from ._order import Place, order_measurement, steps_in_order
from ._phrases import Match, PhraseList, compile_lists
from ._transcript import AGENT, CUSTOMER, Line, Transcript, span_evidence, transcript_properties

LSPCAS = ("listen", "share", "probe", "check", "act", "satisfy")
LISTS = ("complaint", "apology", "empathy", *LSPCAS)
ACKNOWLEDGEMENT = "apology or empathy"

COMPLAINT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "acknowledge": {
            "type": "boolean",
            "description": "Whether an apology or empathy must follow the complaint "
            "(default: true).",
        },
        "steps": {
            "type": "array",
            "items": {"enum": list(LSPCAS)},
            "uniqueItems": True,
            "description": "The LSPCAS steps to look for, in the order they must be said "
            "(default: listen, share, probe, check, act, satisfy; [] for none).",
        },
        **transcript_properties(LISTS, customer=True),
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}

Found = tuple[Line, Match]


def compile_complaint_handling(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    acknowledge = params.get("acknowledge", True)
    steps: tuple[str, ...] = tuple(params.get("steps", LSPCAS))
    if not acknowledge and not steps:
        raise ValueError(_("nothing to look for: acknowledge is false and steps is empty"))
    lists = compile_lists(LISTS, params)
    transcript = Transcript.compile(params)

    def complaint_handling(record: Record, context: EvaluationContext) -> Measurement:
        lines = transcript.lines(record)
        if isinstance(lines, Measurement):
            return lines
        complaint = _first((line for line in lines if line.speaker == CUSTOMER), lists["complaint"])
        if complaint is None:
            return Measurement.not_applicable(_("the customer did not complain"))
        after = [
            line
            for line in lines
            if line.speaker == AGENT and line.event_index > complaint[0].event_index
        ]
        acknowledged = _acknowledgement(after, lists) if acknowledge else None
        occurrences = [_occurrences(after, lists[step]) for step in steps]
        kept = steps_in_order(occurrences)
        return _measurement(complaint, acknowledge, acknowledged, steps, occurrences, kept)

    return complaint_handling


def _first(lines: Any, phrases: PhraseList) -> Found | None:
    for line in lines:
        match = phrases.search(line.folded)
        if match is not None:
            return line, match
    return None


def _acknowledgement(
    lines: Sequence[Line], lists: Mapping[str, PhraseList]
) -> tuple[str, Found] | None:
    """The first apology or empathy in ``lines``, and which of the two it is."""
    for line in lines:
        found = [
            (match.start, name, match)
            for name in ("apology", "empathy")
            if (match := lists[name].search(line.folded)) is not None
        ]
        if found:
            _, name, match = min(found)
            return name, (line, match)
    return None


def _occurrences(lines: Sequence[Line], phrases: PhraseList) -> list[tuple[Place, Found]]:
    return [
        ((line.event_index, match.start), (line, match))
        for line in lines
        for match in phrases.finditer(line.folded)
    ]


def _measurement(
    complaint: Found,
    acknowledge: bool,
    acknowledged: tuple[str, Found] | None,
    steps: Sequence[str],
    occurrences: Sequence[Sequence[tuple[Place, Found]]],
    kept: Mapping[int, tuple[Place, Found]],
) -> Measurement:
    missing = [step for number, step in enumerate(steps) if not occurrences[number]]
    out_of_order = [
        step for number, step in enumerate(steps) if occurrences[number] and number not in kept
    ]
    if acknowledge and acknowledged is None:
        missing.insert(0, ACKNOWLEDGEMENT)

    def evidence() -> tuple[Evidence, ...]:
        pieces = [span_evidence(*complaint, "complaint", _("complaint"))]
        if acknowledged is not None:
            name, (line, match) = acknowledged
            pieces.append(span_evidence(line, match, name, name))
        elif acknowledge:
            detail = _("no apology or empathy after the complaint")
            pieces.append(Evidence("note", "missing", detail=detail))
        for number, step in enumerate(steps):
            if number in kept:
                pieces.append(span_evidence(*kept[number][1], "step", step))
            elif occurrences[number]:
                pieces.append(span_evidence(*occurrences[number][0][1], "out_of_order", step))
            else:
                detail = _("{step}: not found after the complaint").format(step=step)
                pieces.append(Evidence("note", "missing", detail=detail))
        return tuple(pieces)

    return order_measurement(missing, out_of_order, evidence)


COMPLAINT_HANDLING = Check(
    name="complaint_handling",
    dimension="courtesy",
    doc=(
        "When a customer message complains (a phrase of list complaint), whether the agent's "
        "later messages apologise or show empathy (lists apology, empathy) and follow "
        "Martin's LSPCAS steps in order: listen, share, probe, check, act, satisfy (a list "
        "each).  The measured value counts what is missing or out of order: the "
        "acknowledgement (unless acknowledge is false) and each step in steps.  Lower is "
        "better.  Only the first complaint is followed; phrases are matched as words, without "
        "understanding negation.  A record with no message text or no complaint is "
        "not_applicable.  Evidence quotes the complaint, the acknowledgement and each step."
    ),
    params_schema=COMPLAINT_SCHEMA,
    compile=compile_complaint_handling,
    unit="count",
    better="lower",
    default_thresholds={"desired": 1, "adequate": 3},
    example=(
        "- id: complaints-heard\n"
        "  check: complaint_handling\n"
        "  params: {steps: [listen, probe, act, satisfy]}\n"
        "  thresholds: {desired: 0, adequate: 2}\n"
    ),
)
