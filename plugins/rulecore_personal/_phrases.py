"""Phrase lists: the shipped ones per language, a standard's changes to them, and matching.

The lists ship as data, ``phrases/<language>.yaml``, one mapping of list name to phrases per
language.  A rule chooses the languages (``languages: [zh, en]`` by default) and may change any
list its check reads::

    phrases:
      extend:  {greeting: [早安, howdy]}     # added to the shipped phrases
      replace: {forbidden: [不归我管]}        # instead of the shipped phrases

Each list compiles once per rule into one regular expression: an alternation of its folded
phrases, longest first, so the longest phrase at a place wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from rulecore.i18n import _

from ._fold import Folded, fold_phrase

LANGUAGES = ("zh", "en")
PHRASES_DIR = Path(__file__).parent / "phrases"

# Where a phrase starts or ends with a letter or digit of a space-separated script, it must
# start or end a word there.  CJK characters are not in this class: Chinese has no spaces.
_WORD = "a-z0-9\u00c0-\u024f"
_WORD_CHAR = re.compile(f"[{_WORD}]")


def phrases_schema(lists: Sequence[str]) -> dict[str, Any]:
    """The ``phrases`` parameter of a check that reads ``lists``."""
    changes = {
        "type": "object",
        "propertyNames": {"enum": list(lists)},
        "additionalProperties": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "description": "Changes to the shipped phrase lists ("
        + ", ".join(lists)
        + "): extend adds phrases to a list, replace gives the whole list.",
        "properties": {
            "extend": {**changes, "description": "Phrases added to the shipped lists."},
            "replace": {**changes, "description": "Lists given whole, instead of the shipped."},
        },
    }


LANGUAGES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {"enum": list(LANGUAGES)},
    "minItems": 1,
    "uniqueItems": True,
    "description": "Whose shipped phrase lists to use (default: [zh, en], both).",
}


class Match(NamedTuple):
    """A phrase found in folded text: its folded span and the phrase it matched."""

    start: int
    end: int


class PhraseList(NamedTuple):
    """One list of phrases, compiled: ``pattern`` is ``None`` for an empty list."""

    name: str
    phrases: tuple[str, ...]
    pattern: re.Pattern[str] | None

    def search(self, folded: Folded, start: int = 0) -> Match | None:
        """The first match in ``folded`` at or after folded offset ``start``."""
        return next(self._matches(folded.text, start), None)

    def finditer(self, folded: Folded) -> Iterator[Match]:
        """Every match in ``folded``, left to right, not overlapping."""
        return self._matches(folded.text, 0)

    def _matches(self, text: str, start: int) -> Iterator[Match]:
        # The word boundary before a phrase is checked here, not in the pattern: a pattern
        # that starts with a look-behind loses the regex engine's first-character scan, and
        # runs several times slower.  Every phrase matching at one place starts with the same
        # character, so a place refused is refused for all of them.
        if self.pattern is None:
            return
        search = self.pattern.search
        found = search(text, start)
        while found is not None:
            begin = found.start()
            if begin and _WORD_CHAR.match(text, begin) and _WORD_CHAR.match(text, begin - 1):
                found = search(text, begin + 1)
                continue
            yield Match(begin, found.end())
            found = search(text, max(found.end(), begin + 1))


@cache
def shipped_lists(language: str) -> Mapping[str, tuple[str, ...]]:
    """The shipped phrase lists of ``language``, read once per process."""
    data = yaml.safe_load((PHRASES_DIR / f"{language}.yaml").read_text(encoding="utf-8"))
    return {name: tuple(phrases or ()) for name, phrases in data.items()}


def compile_lists(lists: Sequence[str], params: Mapping[str, Any]) -> dict[str, PhraseList]:
    """The phrase lists a rule reads, from its ``languages`` and ``phrases`` params.

    Raises ``ValueError`` when a list is both extended and replaced, or a phrase folds to
    nothing (only spaces).
    """
    languages = params.get("languages", LANGUAGES)
    changes = params.get("phrases", {})
    extend = changes.get("extend", {})
    replace = changes.get("replace", {})
    both = sorted(set(extend) & set(replace))
    if both:
        raise ValueError(
            _(
                "phrases: {names} is both extended and replaced; give the whole list in replace"
            ).format(names=", ".join(both))
        )
    compiled = {}
    for name in lists:
        if name in replace:
            phrases = tuple(replace[name])
        else:
            phrases = tuple(
                phrase for language in languages for phrase in shipped_lists(language).get(name, ())
            ) + tuple(extend.get(name, ()))
        compiled[name] = PhraseList(name, phrases, _pattern(name, phrases))
    return compiled


def _pattern(name: str, phrases: Sequence[str]) -> re.Pattern[str] | None:
    pieces = sorted(
        {_phrase_pattern(name, phrase) for phrase in phrases}, key=lambda p: (-len(p), p)
    )
    if not pieces:
        return None
    return re.compile("|".join(pieces))


def _phrase_pattern(name: str, phrase: str) -> str:
    words = fold_phrase(phrase).split()
    if not words:
        raise ValueError(
            _("phrases: a phrase in {name} is blank: {phrase!r}").format(name=name, phrase=phrase)
        )
    body = r"\s+".join(re.escape(word) for word in words)
    end = rf"(?![{_WORD}])" if _WORD_CHAR.match(words[-1][-1]) else ""
    return body + end
