"""``channel_preference``: the agent answered on the channel the customer prefers.

Convenience for the customer is an adaptability question: a customer who asked to be phoned
and is answered by email has had to adapt to the organisation, not the other way round.
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
    Evidence,
    Measurement,
    Record,
    compile_selector,
    describe_selector,
)
from rulecore.i18n import _

from ._common import normalised_name

DEFAULT_REPLIES: dict[str, Any] = {"actor": "agent"}
DEFAULT_PREFERENCE_CHANGES: dict[str, Any] = {"type": "preference_changed"}

CHANNEL_PREFERENCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "preferred_attribute": {
            "type": "string",
            "minLength": 1,
            "description": "The record attribute that names the customer's preferred channel "
            "(default: preferred_channel).",
        },
        "channel_field": {
            "type": "string",
            "minLength": 1,
            "description": "The event field that names the channel an event used, on replies "
            "and on preference changes (default: channel).",
        },
        "replies": {
            **SELECTOR_SCHEMA,
            "description": "The agent's replies to the customer (default: {actor: agent}).  "
            "Only replies that carry the channel field are judged.",
        },
        "preference_changes": {
            **SELECTOR_SCHEMA,
            "description": "Events by which the customer states a new preference during the "
            "case; their channel field is the preference from then on "
            "(default: {type: preference_changed}).",
        },
        "measure": {
            "enum": ["count", "share"],
            "description": "count (default): the number of replies on another channel.  "
            "share: those replies as a fraction of the judged replies (0 to 1; write "
            "thresholds as 10% or 0.1).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_channel_preference(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    """Compile one rule: selectors and field names are read once, here, not per record."""
    preferred_attribute = params.get("preferred_attribute", "preferred_channel")
    channel_field = params.get("channel_field", "channel")
    replies_spec = params.get("replies", DEFAULT_REPLIES)
    is_reply = compile_selector(replies_spec)
    is_preference_change = compile_selector(
        params.get("preference_changes", DEFAULT_PREFERENCE_CHANGES)
    )
    as_share = params.get("measure", "count") == "share"
    reply_words = describe_selector(replies_spec)

    def channel_preference(record: Record, context: EvaluationContext) -> Measurement:
        preferred = normalised_name(record.attribute(preferred_attribute))
        evidence: list[Evidence] = []
        if preferred is not None:
            evidence.append(
                Evidence("note", "preferred", detail=f"{preferred_attribute}: {preferred}")
            )
        judged = off_channel = 0
        stated_any = preferred is not None
        for index, event in enumerate(record.events):
            used = normalised_name(event.fields.get(channel_field))
            # A preference change is the customer's own word, so it is never judged as a reply.
            if is_preference_change(event):
                if used is not None:
                    stated_any = True
                    evidence.append(
                        Evidence(
                            "event",
                            "preference_changed",
                            event.at,
                            event_index=index,
                            detail=_("from {before} to {after}").format(
                                before=preferred or _("none"), after=used
                            ),
                        )
                    )
                    preferred = used
                continue
            if used is None or preferred is None or not is_reply(event):
                continue
            judged += 1
            if used != preferred:
                off_channel += 1
                evidence.append(
                    Evidence(
                        "event",
                        "off_channel",
                        event.at,
                        event_index=index,
                        detail=_("{type} by {channel}; the customer prefers {preferred}").format(
                            type=event.type, channel=used, preferred=preferred
                        ),
                    )
                )
        if not stated_any:
            return Measurement.not_applicable(
                _(
                    "the record does not say which channel the customer prefers "
                    "(no attribute {attribute!r})"
                ).format(attribute=preferred_attribute)
            )
        if not judged:
            return Measurement.not_applicable(
                _(
                    "no {replies} after the preference was known names its channel "
                    "(field {field!r})"
                ).format(replies=reply_words, field=channel_field),
                tuple(evidence),
            )
        note = _("{off} of {judged} replies not on the customer's preferred channel").format(
            off=off_channel, judged=judged
        )
        value = off_channel / judged if as_share else float(off_channel)
        return Measurement(value, tuple(evidence), note)

    return channel_preference


CHANNEL_PREFERENCE = Check(
    name="channel_preference",
    dimension="adaptability",
    doc=(
        "The customer's preferred channel was honoured.  The preference is a record attribute "
        "(preferred_attribute, default preferred_channel); a preference_changes event during "
        "the case replaces it from that event on.  Each agent reply (the replies selector) "
        "that names its channel (channel_field, default channel) is judged: on the preferred "
        "channel or not, compared without regard to case.  Replies that name no channel, and "
        "replies before any preference is known, are not judged.  Measured: the number of "
        "replies on another channel, or with measure: share their fraction of the judged "
        "replies.  Lower is better; the default zone allows none.  not_applicable when no "
        "preference is stated or no reply names its channel.  Evidence: the preference, each "
        "change of it, and each reply on another channel."
    ),
    params_schema=CHANNEL_PREFERENCE_SCHEMA,
    compile=compile_channel_preference,
    unit="count",
    better="lower",
    default_thresholds={"max": 0},
    example=(
        "- id: answer-on-their-channel\n"
        "  check: channel_preference\n"
        "  params:\n"
        "    preferred_attribute: preferred_channel\n"
        "    replies: {type: [message, callback], actor: agent}\n"
        "  thresholds: {desired: 0, adequate: 1}\n"
    ),
)
