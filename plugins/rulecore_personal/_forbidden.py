"""``forbidden_phrases``: what an agent must never write (服务禁语), from the standard's list.

The shipped list ``forbidden`` holds the classic ones ("不归我管", "that's not my job"); most
service organisations keep their own, and a standard gives it with
``phrases: {replace: {forbidden: [...]}}`` or adds to the shipped one with ``extend``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rulecore import (
    SELECTOR_SCHEMA,
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Measurement,
    Record,
)
from rulecore.i18n import _

from ._phrases import compile_lists
from ._transcript import AGENT, Transcript, span_evidence, transcript_properties

LISTS = ("forbidden",)

FORBIDDEN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": transcript_properties(LISTS),
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_forbidden_phrases(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    forbidden = compile_lists(LISTS, params)["forbidden"]
    transcript = Transcript.compile(params)

    def forbidden_phrases(record: Record, context: EvaluationContext) -> Measurement:
        lines = transcript.lines(record)
        if isinstance(lines, Measurement):
            return lines
        agent_lines = [line for line in lines if line.speaker == AGENT]
        if not agent_lines:
            return Measurement.not_applicable(_("no agent message has text"))
        said = [(line, match) for line in agent_lines for match in forbidden.finditer(line.folded)]
        evidence = tuple(
            span_evidence(line, match, "forbidden", _("forbidden phrase")) for line, match in said
        )
        return Measurement(float(len(said)), evidence)

    return forbidden_phrases


FORBIDDEN_PHRASES = Check(
    name="forbidden_phrases",
    dimension="courtesy",
    doc=(
        "How many times agents wrote a forbidden phrase (服务禁语), such as 不归我管 or "
        '"that\'s not my job": the shipped Chinese and English list forbidden, extended or '
        "replaced by the standard's own (phrases).  Matching folds full-width forms, letter "
        "case and common traditional characters.  Lower is better; by default none is "
        "allowed.  A record with no message text is not_applicable.  Evidence quotes each "
        "phrase as written, with its event and character offsets."
    ),
    params_schema=FORBIDDEN_SCHEMA,
    compile=compile_forbidden_phrases,
    unit="count",
    better="lower",
    default_thresholds={"max": 0},
    example=(
        "- id: no-forbidden-phrases\n"
        "  check: forbidden_phrases\n"
        "  params:\n"
        "    phrases: {extend: {forbidden: [这是系统问题, not our fault]}}\n"
    ),
)
