"""``escalation_offered``: a refusal on policy grounds comes with a way to take it further.

When policy forces the answer "no", the agent may be right and the customer still deserves a
route past the rule: a supervisor, a complaint procedure, an exception process.  Martin's
"say no well" asks for a reason and an alternative; for a policy refusal, the escalation route
is the alternative the organisation can always offer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

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
    format_duration,
    parse_duration,
)
from rulecore.i18n import _

from ._common import flag_set, normalised_name

DEFAULT_POLICY_REASONS = ("policy",)

ESCALATION_OFFERED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "declined": {
            **SELECTOR_SCHEMA,
            "description": "A refusal (default: {type: request_declined}).",
        },
        "reason_field": {
            "type": "string",
            "minLength": 1,
            "description": "The refusal's field that holds its reason (default: reason).",
        },
        "policy_reasons": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "description": "Reasons that mean a policy refusal, matched whole and without "
            "regard to case (default: [policy], when policy_pattern is not given either).",
        },
        "policy_pattern": {
            "type": "string",
            "minLength": 1,
            "description": "A regular expression searched for in the reason, without regard "
            "to case; a match means a policy refusal (for example 'policy|terms|not allowed').",
        },
        "policy_flag": {
            "type": "string",
            "minLength": 1,
            "description": "A field on the refusal that, when true, marks it a policy refusal "
            "whatever its reason (default: policy).",
        },
        "escalation": {
            **SELECTOR_SCHEMA,
            "description": "An event that offers escalation (default: {type: escalation_offered}).",
        },
        "offer_field": {
            "type": "string",
            "minLength": 1,
            "description": "A field on the refusal itself that records an escalation offered "
            "with it, such as escalation: supervisor (default: escalation).",
        },
        "within": {
            "type": ["string", "number"],
            "description": "The offer must come within this long after the refusal (a "
            "duration such as 1h; default: any time later in the record).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


class _PolicyTest(NamedTuple):
    """How to tell a policy refusal, compiled once per rule."""

    reason_field: str
    reasons: frozenset[str]
    pattern: re.Pattern[str] | None
    flag_field: str

    def why(self, event: Event) -> str | None:
        """Why ``event`` is a policy refusal, in words; None when it is not one."""
        if flag_set(event.fields.get(self.flag_field)):
            return _("{field} is set").format(field=self.flag_field)
        raw_reason = event.fields.get(self.reason_field)
        reason = normalised_name(raw_reason)
        if reason is None:
            return None
        if reason in self.reasons:
            return _("reason {reason!r}").format(reason=raw_reason)
        if self.pattern is not None and self.pattern.search(str(raw_reason)):
            return _("reason {reason!r} matches {pattern!r}").format(
                reason=raw_reason, pattern=self.pattern.pattern
            )
        return None


def _policy_test(params: Mapping[str, Any]) -> _PolicyTest:
    pattern_text = params.get("policy_pattern")
    given_reasons = params.get("policy_reasons")
    if given_reasons is None and pattern_text is None:
        given_reasons = DEFAULT_POLICY_REASONS
    try:
        pattern = re.compile(pattern_text, re.IGNORECASE) if pattern_text else None
    except re.error as error:
        raise ValueError(
            _("policy_pattern {pattern!r} is not a regular expression: {error}").format(
                pattern=pattern_text, error=error
            )
        ) from None
    reasons = frozenset(
        name for name in map(normalised_name, given_reasons or ()) if name is not None
    )
    return _PolicyTest(
        params.get("reason_field", "reason"), reasons, pattern, params.get("policy_flag", "policy")
    )


class _Refusal(NamedTuple):
    event_index: int
    at: datetime
    why: str


def compile_escalation_offered(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    """Compile one rule; raises ``ValueError`` for a policy_pattern that is not a regex."""
    is_declined = compile_selector(params.get("declined", {"type": "request_declined"}))
    is_escalation = compile_selector(params.get("escalation", {"type": "escalation_offered"}))
    policy = _policy_test(params)
    offer_field = params.get("offer_field", "escalation")
    within = params.get("within")
    window = timedelta(seconds=parse_duration(within)) if within is not None else None

    def escalation_offered(record: Record, context: EvaluationContext) -> Measurement:
        waiting: list[_Refusal] = []
        evidence: list[Evidence] = []
        refusals = not_offered = awaiting = 0
        for index, event in enumerate(record.events):
            if is_declined(event):
                why = policy.why(event)
                if why is not None:
                    refusals += 1
                    if flag_set(event.fields.get(offer_field)):
                        evidence.append(_offered(index, event.at, why, index, event.at))
                    else:
                        waiting.append(_Refusal(index, event.at, why))
                    continue
            if is_escalation(event) and waiting:
                for refusal in waiting:
                    if window is not None and event.at - refusal.at > window:
                        not_offered += 1
                        evidence.append(_too_late(refusal, index, event.at, window))
                    else:
                        evidence.append(
                            _offered(refusal.event_index, refusal.at, refusal.why, index, event.at)
                        )
                waiting.clear()
        for refusal in waiting:
            if window is not None and context.as_of is not None:
                deadline = refusal.at + window
                if context.as_of < deadline:
                    evidence.append(_awaiting(refusal, deadline))
                    awaiting += 1
                    continue
            not_offered += 1
            evidence.append(
                Evidence(
                    "event",
                    "no_escalation",
                    refusal.at,
                    event_index=refusal.event_index,
                    detail=_("policy refusal ({why}) with no escalation offered").format(
                        why=refusal.why
                    ),
                )
            )
        if not refusals:
            return Measurement.not_applicable(_("no request was refused on policy grounds"))
        judged = refusals - awaiting
        if not judged:
            return Measurement.not_applicable(
                _("{count} policy refusals still within their time for an offer").format(
                    count=awaiting
                ),
                tuple(evidence),
            )
        note = _("{missing} of {judged} policy refusals without an escalation offer").format(
            missing=not_offered, judged=judged
        )
        if awaiting:
            note += _("; {count} still within their time").format(count=awaiting)
        return Measurement(float(not_offered), tuple(evidence), note)

    return escalation_offered


def _offered(
    index: int, at: datetime, why: str, offer_index: int, offered_at: datetime
) -> Evidence:
    where = (
        _("with the refusal")
        if offer_index == index
        else _("at event {event}").format(event=offer_index)
    )
    return Evidence(
        "event",
        "escalation_offered",
        at,
        offered_at,
        event_index=index,
        detail=_("policy refusal ({why}); escalation offered {where}").format(why=why, where=where),
    )


def _too_late(
    refusal: _Refusal, offer_index: int, offered_at: datetime, window: timedelta
) -> Evidence:
    late = format_duration((offered_at - refusal.at - window).total_seconds())
    return Evidence(
        "event",
        "escalation_late",
        refusal.at,
        offered_at,
        event_index=refusal.event_index,
        detail=_(
            "policy refusal ({why}); escalation offered at event {event}, {late} later than allowed"
        ).format(why=refusal.why, event=offer_index, late=late),
    )


def _awaiting(refusal: _Refusal, deadline: datetime) -> Evidence:
    return Evidence(
        "event",
        "awaiting_escalation",
        refusal.at,
        deadline,
        event_index=refusal.event_index,
        detail=_("policy refusal ({why}); an offer is still due by {deadline}").format(
            why=refusal.why, deadline=deadline.isoformat()
        ),
    )


ESCALATION_OFFERED = Check(
    name="escalation_offered",
    dimension="adaptability",
    doc=(
        "When a request is refused because of policy, an escalation is offered.  A refusal "
        "(the declined selector) is a policy refusal when its policy_flag field is true, when "
        "its reason (reason_field) is one of policy_reasons, or when the reason matches "
        "policy_pattern; with neither list nor pattern given, the reason 'policy' is the "
        "test.  The offer is an escalation event after the refusal, or the refusal's own "
        "offer_field; one offer answers every policy refusal still waiting for one.  With "
        "within, an offer later than that after the refusal does not count, and in-flight "
        "(as of a moment) a refusal whose time is not yet up is not counted.  Measured: the "
        "number of policy refusals without an offer.  Lower is better; the default zone "
        "allows none.  not_applicable when no request was refused on policy grounds.  "
        "Evidence: each policy refusal, why it counts as one, and the offer or its absence."
    ),
    params_schema=ESCALATION_OFFERED_SCHEMA,
    compile=compile_escalation_offered,
    unit="count",
    better="lower",
    default_thresholds={"max": 0},
    example=(
        "- id: escalate-policy-refusals\n"
        "  check: escalation_offered\n"
        "  params:\n"
        "    policy_pattern: 'policy|terms|not (allowed|permitted)'\n"
        "    within: 1h\n"
    ),
)
