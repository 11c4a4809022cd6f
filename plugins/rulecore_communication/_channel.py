"""``same_channel``: the agent replies on the channel the customer used.

A customer who writes by e-mail and is answered by a call (or who calls and gets an e-mail)
has to switch to the service's convenience.  Each reply is held to the channel of the
customer's latest contact before it: the event's channel field, else the record's channel
attribute.
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
    Event,
    Evidence,
    Measurement,
    Record,
    compile_selector,
    field_key,
    known_events,
)
from rulecore.i18n import _

SAME_CHANNEL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "contact": {
            **SELECTOR_SCHEMA,
            "description": "A contact by the customer (default: any event by the customer).",
        },
        "reply": {
            **SELECTOR_SCHEMA,
            "description": "A reply to the customer (default: an agent's message or callback).",
        },
        "field": {
            "type": "string",
            "minLength": 1,
            "description": "The event field naming the channel (default: channel).",
        },
        "attribute": {
            "type": "string",
            "minLength": 1,
            "description": "The record attribute naming the channel, for events that do not "
            "(default: channel).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_same_channel(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    is_contact = compile_selector(params.get("contact", {"actor": "customer"}))
    is_reply = compile_selector(
        params.get("reply", {"type": ["message", "callback"], "actor": "agent"})
    )
    channel_field: str = params.get("field", "channel")
    attribute: str = params.get("attribute", "channel")

    def channel_of(event: Event, record: Record) -> Any:
        key = field_key(event.fields.get(channel_field))
        return key if key is not None else field_key(record.attribute(attribute))

    def same_channel(record: Record, context: EvaluationContext) -> Measurement:
        events = record.events[: known_events(record, context.as_of)]
        customer_on: Any = None
        evidence: list[Evidence] = []
        replies = elsewhere = 0
        for index, event in enumerate(events):
            if is_contact(event):
                customer_on = channel_of(event, record)
            elif is_reply(event) and customer_on is not None:
                replied_on = channel_of(event, record)
                if replied_on is None:
                    continue
                replies += 1
                if replied_on != customer_on:
                    elsewhere += 1
                    detail = _("replied on {reply} to a customer on {contact}").format(
                        reply=replied_on, contact=customer_on
                    )
                    evidence.append(
                        Evidence("event", "other_channel", event.at, None, index, detail)
                    )
        if not replies:
            return Measurement.not_applicable(
                _("no reply on a known channel after a customer contact on one")
            )
        note = _("{elsewhere} of {replies} replies on another channel").format(
            elsewhere=elsewhere, replies=replies
        )
        return Measurement(float(elsewhere), tuple(evidence), note)

    return same_channel


SAME_CHANNEL = Check(
    name="same_channel",
    dimension="communication",
    doc=(
        "Counts the agent's replies (by default messages and callbacks) made on another "
        "channel than the customer's latest contact before them.  A channel is the event's "
        "channel field, else the record's channel attribute; a reply on no known channel is "
        "not judged.  Lower is better; by default every reply must be on the customer's "
        "channel.  Evidence gives each reply on another channel."
    ),
    params_schema=SAME_CHANNEL_SCHEMA,
    compile=compile_same_channel,
    unit="count",
    better="lower",
    default_thresholds={"desired": 0, "adequate": 0},
    example="- id: reply-in-kind\n  check: same_channel\n",
)
