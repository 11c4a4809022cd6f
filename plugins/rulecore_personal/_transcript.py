"""A record's transcript: the messages agents and customers wrote, folded once per record.

Every personal-side check reads the same thing: the message events that carry text (in the
event field ``text_field``, ``text`` by default), split by who wrote them.  The agent's and the
customer's messages are event selectors, so an export whose messages say ``actor: staff`` or
``type: chat`` is read without code.  A record with no message text at all has no transcript,
and every check is ``not_applicable`` on it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from rulecore import SELECTOR_SCHEMA, Event, Evidence, Measurement, Record, compile_selector
from rulecore.i18n import _

from ._fold import Folded, fold
from ._phrases import LANGUAGES_SCHEMA, Match, phrases_schema

AGENT = "agent"
CUSTOMER = "customer"
DEFAULT_AGENT: dict[str, Any] = {"type": "message", "actor": "agent"}
DEFAULT_CUSTOMER: dict[str, Any] = {"type": "message", "actor": "customer"}
#: Longest quote of a whole message in evidence, in characters.
QUOTE_LIMIT = 60


def transcript_properties(lists: Sequence[str], *, customer: bool = False) -> dict[str, Any]:
    """The parameters every personal-side check takes, for a check that reads ``lists``."""
    properties: dict[str, Any] = {
        "text_field": {
            "type": "string",
            "minLength": 1,
            "description": "The message event field that holds what was written (default: text).",
        },
        "agent": {
            **SELECTOR_SCHEMA,
            "description": "The agent's messages (default: type message, actor agent).",
        },
        "languages": LANGUAGES_SCHEMA,
        "phrases": phrases_schema(lists),
    }
    if customer:
        properties["customer"] = {
            **SELECTOR_SCHEMA,
            "description": "The customer's messages (default: type message, actor customer).",
        }
    return properties


class Line(NamedTuple):
    """One message with text: its place in the timeline, who wrote it, and the text."""

    event_index: int  #: the event's position in the record's timeline
    event: Event
    speaker: str  #: ``agent`` or ``customer``
    text: str  #: as written
    folded: Folded


class Transcript(NamedTuple):
    """How a check reads messages, compiled once per rule."""

    text_field: str
    is_agent: Callable[[Event], bool]
    is_customer: Callable[[Event], bool]
    key: str  #: the reading's parameters as text: rules that read alike share one reading

    @classmethod
    def compile(cls, params: Mapping[str, Any]) -> Transcript:
        reading = {
            "text_field": params.get("text_field", "text"),
            "agent": params.get("agent", DEFAULT_AGENT),
            "customer": params.get("customer", DEFAULT_CUSTOMER),
        }
        return cls(
            reading["text_field"],
            compile_selector(reading["agent"]),
            compile_selector(reading["customer"]),
            json.dumps(reading, sort_keys=True),
        )

    def lines(self, record: Record) -> list[Line] | Measurement:
        """The record's messages with text, in timeline order; or why there are none.

        Read once per record for all the rules that read it alike (a one-record cache).
        """
        global _last_read  # noqa: PLW0603  # a one-record cache, replaced whole
        last, readings = _last_read
        if last is not record:
            readings = {}
            _last_read = (record, readings)
        found = readings.get(self.key)
        if found is None:
            found = readings[self.key] = self._read(record)
        return found

    def _read(self, record: Record) -> list[Line] | Measurement:
        lines = []
        field = self.text_field
        for index, event in enumerate(record.events):
            if self.is_agent(event):
                speaker = AGENT
            elif self.is_customer(event):
                speaker = CUSTOMER
            else:
                continue
            text = event.fields.get(field)
            if isinstance(text, str) and text.strip():
                lines.append(Line(index, event, speaker, text, fold(text)))
        if not lines:
            return Measurement.not_applicable(
                _("no transcript: no message has text in {field}").format(field=field)
            )
        return lines


#: The record read last, and its readings by Transcript.key: every rule reads the same record
#: in turn.  One tuple, swapped whole, so that threads see one entry or the other.
_last_read: tuple[Record | None, dict[str, list[Line] | Measurement]] = (None, {})


def quote(text: str) -> str:
    """Text as evidence quotes it: in double quotes, escaped as JSON, non-ASCII kept."""
    return json.dumps(text, ensure_ascii=False)


def span_evidence(line: Line, match: Match, label: str, what: str) -> Evidence:
    """Evidence for a phrase found in a message: the words as written, and where they are."""
    start, end = line.folded.original_span(match.start, match.end)
    detail = _("{what}: {quote} at characters {start}-{end} of {speaker} message").format(
        what=what, quote=quote(line.text[start:end]), start=start, end=end, speaker=line.speaker
    )
    return Evidence("event", label, line.event.at, event_index=line.event_index, detail=detail)


def message_evidence(line: Line, label: str, what: str) -> Evidence:
    """Evidence for a whole message: its opening words, quoted."""
    end = min(len(line.text), QUOTE_LIMIT)
    shown = line.text[:end] + ("…" if end < len(line.text) else "")
    detail = _("{what}: {quote} at characters 0-{end} of {speaker} message").format(
        what=what, quote=quote(shown), end=end, speaker=line.speaker
    )
    return Evidence("event", label, line.event.at, event_index=line.event_index, detail=detail)
