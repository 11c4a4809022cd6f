"""``uses_customer_name``: the agent addressed the customer by name.

The name comes from a record attribute (``customer_name`` by default).  The forms that count:

- the full name as the record gives it: ``Ana Souza``, ``王小明``;
- a title and the surname: ``Ms Souza``, ``Mr. Souza`` (list ``titles_before``), and for a name
  written in Chinese characters the surname and a title after it: ``王先生``, ``王女士`` (list
  ``titles_after``).  The surname of a Chinese name is its first character, or its first two
  for the compound surnames in :data:`COMPOUND_SURNAMES`; of a name in Latin letters, its last
  word or its first (``Li Wei`` may be Mr Li or Mr Wei, and rulecore cannot tell which);
- unless ``given_name: false``, the given name alone: ``Ana``, ``小明`` (two characters or more,
  since one character alone is too often another word).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
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
from rulecore._i18n import _

from ._fold import fold_phrase
from ._phrases import Match, compile_lists
from ._transcript import AGENT, Transcript, quote, span_evidence, transcript_properties

LISTS = ("titles_before", "titles_after")
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "诸葛", "上官", "慕容", "东方", "皇甫", "令狐", "公孙"}
    | {"司徒", "长孙", "夏侯", "尉迟", "宇文", "轩辕", "端木", "独孤"}
)
_CJK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")
_WORD = "a-z0-9\u00c0-\u024f"

USES_NAME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name_attribute": {
            "type": "string",
            "minLength": 1,
            "description": "The record attribute with the customer's name (default: "
            "customer_name).",
        },
        "given_name": {
            "type": "boolean",
            "description": "Whether the given name alone counts (default: true).",
        },
        **transcript_properties(LISTS),
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_uses_customer_name(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    lists = compile_lists(LISTS, params)
    titles_before = tuple(fold_phrase(title) for title in lists["titles_before"].phrases)
    titles_after = tuple(fold_phrase(title) for title in lists["titles_after"].phrases)
    name_attribute = params.get("name_attribute", "customer_name")
    given_name = params.get("given_name", True)
    transcript = Transcript.compile(params)

    def uses_customer_name(record: Record, context: EvaluationContext) -> Measurement:
        name = record.attribute(name_attribute)
        if not isinstance(name, str) or not name.strip():
            return Measurement.not_applicable(
                _("the record has no {attribute}").format(attribute=name_attribute)
            )
        lines = transcript.lines(record)
        if isinstance(lines, Measurement):
            return lines
        agent_lines = [line for line in lines if line.speaker == AGENT]
        if not agent_lines:
            return Measurement.not_applicable(_("no agent message has text"))
        pattern = name_pattern(fold_phrase(name), titles_before, titles_after, given_name)
        used = []
        for line in agent_lines:
            found = pattern.search(line.folded.text)
            if found is not None:
                used.append((line, Match(found.start(), found.end())))

        def evidence() -> tuple[Evidence, ...]:
            if not used:
                detail = _("no agent message used the name {name}").format(name=quote(name))
                return (Evidence("note", "not_used", detail=detail),)
            return tuple(span_evidence(line, match, "name", _("name")) for line, match in used)

        return Measurement(float(len(used)), evidence)

    return uses_customer_name


@lru_cache(maxsize=4096)
def name_pattern(
    name: str, titles_before: tuple[str, ...], titles_after: tuple[str, ...], given_name: bool
) -> re.Pattern[str]:
    """One pattern for every form of the (folded) ``name`` that counts (module docstring)."""
    words = name.split()
    forms = [r"\s+".join(map(re.escape, words))]
    if len(words) == 1 and _CJK.match(name):
        surname_length = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
        surname, given = name[:surname_length], name[surname_length:]
        forms += [re.escape(surname + title) for title in titles_after]
        if given_name and len(given) >= 2:
            forms.append(re.escape(given))
    elif len(words) > 1:
        surnames = sorted({words[0], words[-1]})
        titles = "|".join(re.escape(title) for title in titles_before)
        if titles:
            forms += [rf"(?:{titles})\.?\s*{re.escape(surname)}" for surname in surnames]
        forms += [re.escape(surname + title) for surname in surnames for title in titles_after]
        if given_name:
            forms.append(re.escape(words[0]))
    bounded = [_bounded(form) for form in sorted(set(forms), key=lambda f: (-len(f), f))]
    return re.compile("|".join(bounded))


def _bounded(form: str) -> str:
    """``form`` matching whole words where it starts or ends with a letter or digit."""
    return rf"(?<![{_WORD}])(?:{form})(?![{_WORD}])"


USES_CUSTOMER_NAME = Check(
    name="uses_customer_name",
    dimension="courtesy",
    doc=(
        "How many agent messages address the customer by name, with the name taken from a "
        "record attribute (name_attribute, default customer_name).  The full name counts; so "
        "does a title with the surname (Ms Souza, 王先生; lists titles_before and "
        "titles_after) and, unless given_name is false, the given name alone.  Higher is "
        "better; by default one message is enough.  A record without the name or without "
        "message text is not_applicable.  Evidence quotes each use with its event and "
        "character offsets."
    ),
    params_schema=USES_NAME_SCHEMA,
    compile=compile_uses_customer_name,
    unit="count",
    better="higher",
    default_thresholds={"min": 1},
    example=(
        "- id: uses-the-name\n"
        "  check: uses_customer_name\n"
        "  params: {name_attribute: customer_name}\n"
    ),
)
