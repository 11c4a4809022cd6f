"""``request_handling``: a request is granted, or declined with a reason and an alternative."""

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
)
from rulecore.i18n import _

REQUESTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "request": {**SELECTOR_SCHEMA, "description": "A special request (default: type request)."},
        "granted": {**SELECTOR_SCHEMA, "description": "A grant (default: type request_granted)."},
        "declined": {
            **SELECTOR_SCHEMA,
            "description": "A refusal (default: type request_declined).",
        },
        "reason_field": {"type": "string", "description": "Field that holds the reason (reason)."},
        "alternative_field": {
            "type": "string",
            "description": "Field that holds the alternative offered (alternative).",
        },
        "require_alternative": {
            "type": "boolean",
            "description": "A refusal must also offer an alternative (default: true).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_request_handling(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    is_request = compile_selector(params.get("request", {"type": "request"}))
    is_granted = compile_selector(params.get("granted", {"type": "request_granted"}))
    is_declined = compile_selector(params.get("declined", {"type": "request_declined"}))
    reason_field = params.get("reason_field", "reason")
    alternative_field = params.get("alternative_field", "alternative")
    require_alternative = params.get("require_alternative", True)

    def request_handling(record: Record, context: EvaluationContext) -> Measurement:
        open_requests: list[int] = []
        evidence: list[Evidence] = []
        badly_handled = 0
        requests = 0
        for index, event in enumerate(record.events):
            if is_request(event):
                requests += 1
                open_requests.append(index)
            elif (is_granted(event) or is_declined(event)) and open_requests:
                asked = open_requests.pop(0)
                if is_granted(event):
                    evidence.append(_answer(record, asked, index, "granted"))
                    continue
                missing = [
                    name
                    for name, field, needed in (
                        ("a reason", reason_field, True),
                        ("an alternative", alternative_field, require_alternative),
                    )
                    if needed and not event.fields.get(field)
                ]
                if missing:
                    badly_handled += 1
                    label = "declined without " + " or ".join(missing)
                else:
                    label = "declined with reason and alternative"
                evidence.append(_answer(record, asked, index, label))
        for asked in open_requests:
            badly_handled += 1
            request = record.events[asked]
            unanswered = _("no answer")
            evidence.append(
                Evidence("event", "unanswered", request.at, event_index=asked, detail=unanswered)
            )
        if not requests:
            return Measurement.not_applicable(_("the customer made no special request"))
        return Measurement(float(badly_handled), tuple(evidence))

    return request_handling


def _answer(record: Record, asked: int, answered: int, label: str) -> Evidence:
    request = record.events[asked]
    return Evidence(
        "event",
        label,
        request.at,
        record.events[answered].at,
        event_index=answered,
        detail=_("request at event {event}").format(event=asked),
    )


REQUEST_HANDLING = Check(
    name="request_handling",
    dimension="adaptability",
    doc=(
        "Special requests are granted, or declined with a reason and an alternative.  Each "
        "request event is paired with the next grant or refusal after it.  The measured value "
        "is the number of requests handled badly: declined without a reason, declined without "
        "an alternative (unless require_alternative is false), or never answered.  Lower is "
        "better; the default zone allows none.  A record with no request is not_applicable."
    ),
    params_schema=REQUESTS_SCHEMA,
    compile=compile_request_handling,
    unit="count",
    better="lower",
    default_thresholds={"max": 0},
    example=(
        "- id: no-bare-no\n  check: request_handling\n  params: {require_alternative: true}\n"
    ),
)
