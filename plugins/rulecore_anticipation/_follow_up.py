"""``follow_up``: the agent updates the customer before the customer has to chase."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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
    format_duration,
    parse_duration,
)
from rulecore.i18n import _

FOLLOW_UP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "contact": {
            **SELECTOR_SCHEMA,
            "description": "A customer contact (default: any event by the customer).",
        },
        "update": {
            **SELECTOR_SCHEMA,
            "description": "An update to the customer (default: any event by an agent).",
        },
        "chase": {
            **SELECTOR_SCHEMA,
            "description": "An event that is a chase by definition (default: type chase).",
        },
        "min_gap": {
            "type": ["string", "number"],
            "description": "A repeat contact sooner than this is one conversation, not a chase "
            "(default: 1h).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_follow_up(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    is_contact = compile_selector(params.get("contact", {"actor": "customer"}))
    is_update = compile_selector(params.get("update", {"actor": "agent"}))
    is_chase = compile_selector(params.get("chase", {"type": "chase"}))
    min_gap = parse_duration(params.get("min_gap", "1h"))

    def follow_up(record: Record, context: EvaluationContext) -> Measurement:
        if not record.events:
            return Measurement.not_applicable(_("the record has no events"))
        waiting_since: datetime | None = None
        chases: list[Evidence] = []
        for index, event in enumerate(record.events):
            if is_chase(event):
                chases.append(
                    Evidence("event", "chase", event.at, event_index=index, detail=event.type)
                )
                waiting_since = event.at
            elif is_contact(event):
                if (
                    waiting_since is not None
                    and (event.at - waiting_since).total_seconds() >= min_gap
                ):
                    waited = format_duration((event.at - waiting_since).total_seconds())
                    chases.append(
                        Evidence(
                            "event",
                            "chase",
                            event.at,
                            event_index=index,
                            detail=_("customer came back after {waited} with no update").format(
                                waited=waited
                            ),
                        )
                    )
                    waiting_since = event.at
                elif waiting_since is None:
                    waiting_since = event.at
            elif is_update(event):
                waiting_since = None
        return Measurement(float(len(chases)), tuple(chases))

    return follow_up


FOLLOW_UP = Check(
    name="follow_up",
    dimension="anticipation",
    doc=(
        "Counts the times the customer had to chase.  A chase is an event that is one by "
        "definition (type chase), or a customer contact that comes at least min_gap after an "
        "earlier customer contact with no agent update in between.  An agent update clears "
        "the wait.  Lower is better; by default no chase passes, one warns, more fail.  "
        "Evidence lists each chase and how long the customer had waited."
    ),
    params_schema=FOLLOW_UP_SCHEMA,
    compile=compile_follow_up,
    unit="count",
    better="lower",
    default_thresholds={"desired": 0, "adequate": 1},
    example=("- id: no-chasing\n  check: follow_up\n  params: {min_gap: 2h}\n"),
)
