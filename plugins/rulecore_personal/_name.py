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
)
from rulecore.i18n import _

from ._fold import fold_phrase
from ._phrases import Match, compile_lists
from ._transcript import AGENT, Transcript, quote, span_evidence, transcript_properties

LISTS = ("titles_before", "titles_after")
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "诸葛", "上官", "慕容", "东方", "皇甫", "令狐", "公孙"}
    | {"司徒", "长孙", "夏侯", "尉迟", "宇文", "轩辕", "端木", "独孤"}
)
_CJK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")
_WORD_CHAR = re.compile("[a-z0-9\u00c0-\u024f]")

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
    titles_before = frozenset(fold_phrase(title) for title in lists["titles_before"].phrases)
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
        forms = NameForms.of(fold_phrase(name), titles_before, titles_after, given_name)
        used = []
        for line in agent_lines:
            found = forms.find(line.folded.text)
            if found is not None:
                used.append((line, found))

        def evidence() -> tuple[Evidence, ...]:
            if not used:
                detail = _("no agent message used the name {name}").format(name=quote(name))
                return (Evidence("note", "not_used", detail=detail),)
            return tuple(span_evidence(line, match, "name", _("name")) for line, match in used)

        return Measurement(float(len(used)), evidence)

    return uses_customer_name


class NameForms(NamedTuple):
    """The forms of one customer's (folded) name that count, ready to look for."""

    words: tuple[str, ...]  #: the full name, word by word
    latin: bool  #: written in words that must stand alone (not Chinese characters)
    surnames: tuple[str, ...]
    given: str | None  #: the given name, when it counts alone
    titles_before: frozenset[str]
    titles_after: tuple[str, ...]

    @classmethod
    def of(
        cls, name: str, titles_before: frozenset[str], titles_after: tuple[str, ...], given: bool
    ) -> NameForms:
        words = tuple(name.split())
        if len(words) == 1 and _CJK.match(name):
            length = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
            rest = name[length:]
            return cls(
                words,
                False,
                (name[:length],),
                rest if given and len(rest) >= 2 else None,
                frozenset(),
                titles_after,
            )
        surnames = tuple(sorted({words[0], words[-1]})) if len(words) > 1 else ()
        given_name = words[0] if given and len(words) > 1 else None
        return cls(words, True, surnames, given_name, titles_before, titles_after)

    def find(self, text: str) -> Match | None:
        """The first use of the name in folded ``text``: the earliest, then the longest."""
        spans = [*self._full(text), *self._titled(text)]
        if self.given is not None:
            spans += [Match(p, p + len(self.given)) for p in self._whole(text, self.given)]
        return min(spans, key=lambda span: (span.start, -span.end), default=None)

    def _whole(self, text: str, word: str) -> list[int]:
        """Where ``word`` stands in ``text`` (as a whole word, for a Latin name)."""
        found = []
        at = text.find(word)
        while at >= 0:
            end = at + len(word)
            if not self.latin or (not _word_at(text, at - 1) and not _word_at(text, end)):
                found.append(at)
            at = text.find(word, at + 1)
        return found

    def _full(self, text: str) -> list[Match]:
        spans = []
        for start in self._whole(text, self.words[0]) if self.words else ():
            end = start + len(self.words[0])
            for word in self.words[1:]:
                gap = end
                while gap < len(text) and text[gap].isspace():
                    gap += 1
                if gap == end or not text.startswith(word, gap):
                    break
                end = gap + len(word)
            else:
                if not self.latin or not _word_at(text, end):
                    spans.append(Match(start, end))
        return spans

    def _titled(self, text: str) -> list[Match]:
        spans = []
        for surname in self.surnames:
            for at in _occurrences(text, surname):
                end = at + len(surname)
                spans += [
                    Match(at, end + len(title))
                    for title in self.titles_after
                    if text.startswith(title, end)
                    and (not self.latin or at == 0 or not _word_at(text, at - 1))
                ]
                if self.latin and not _word_at(text, end):
                    before = _title_before(text, at)
                    if before is not None and text[before[0] : before[1]] in self.titles_before:
                        spans.append(Match(before[0], end))
        return spans


def _occurrences(text: str, word: str) -> list[int]:
    found = []
    at = text.find(word)
    while at >= 0:
        found.append(at)
        at = text.find(word, at + 1)
    return found


def _word_at(text: str, index: int) -> bool:
    return 0 <= index < len(text) and _WORD_CHAR.match(text, index) is not None


def _title_before(text: str, at: int) -> tuple[int, int] | None:
    """The word before ``at``, over white space and a full stop (``mr. ``); None if none."""
    end = at
    while end > 0 and text[end - 1].isspace():
        end -= 1
    if end > 0 and text[end - 1] == ".":
        end -= 1
    while end > 0 and text[end - 1].isspace():
        end -= 1
    if end == at and not (at > 0 and text[at - 1] == "."):
        return None  # "mrsouza" is one word, not a title and a name
    start = end
    while start > 0 and _word_at(text, start - 1):
        start -= 1
    return (start, end) if start < end else None


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
