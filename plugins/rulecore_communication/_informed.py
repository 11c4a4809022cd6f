"""``keeps_informed``: the customer is told at each status change, and before a promised
time passes.

Each *change* (by default a ``status``, ``escalated`` or ``reopened`` event) opens a debt:
the customer must get a *notice* (by default an agent's message, callback or notification)
within ``within`` of it.  Each *promise* with a due time opens another: a notice must reach
the customer after the promise and by its due time, whether to keep the promise or to say it
will slip.  The measured value is the number of debts not paid: lapses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from rulecore import (
    CASE_CLOCK_PROPERTIES,
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
    known_events,
    parse_duration,
)
from rulecore.caseclock import StatusRule
from rulecore.clock import Schedule, add_business_seconds
from rulecore.i18n import _

DEFAULT_CHANGES: dict[str, Any] = {"type": ["status", "escalated", "reopened"]}
DEFAULT_NOTICE: dict[str, Any] = {"type": ["message", "callback", "notification"], "actor": "agent"}

KEEPS_INFORMED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "changes": {
            **SELECTOR_SCHEMA,
            "description": "The events the customer must be told of: status changes "
            "(default: type status, escalated or reopened).",
        },
        "status": {
            **CASE_CLOCK_PROPERTIES["status"],
            "description": "Also count each change of the case's status as a change to tell "
            "the customer of: {field: status, events: SELECTOR}, read as the case clock reads "
            "it (repeating the current status is no change; the first status set is the "
            "opening, not a change).  Default: only the changes events count.",
        },
        "notice": {
            **SELECTOR_SCHEMA,
            "description": "An event that tells the customer (default: an agent's message, "
            "callback or notification).",
        },
        "within": {
            "type": ["string", "number"],
            "description": "How soon after a change the customer must be told: a duration "
            "such as 1h (default: 1h).",
        },
        "promise": {
            **SELECTOR_SCHEMA,
            "description": "A promise made to the customer, with a due time (default: type "
            "promise).  A notice must come after it and by its due time.",
        },
        "due_field": {
            "type": "string",
            "minLength": 1,
            "description": "The promise's field holding its due time as an RFC 3339 "
            "timestamp with an offset (default: due).",
        },
        "within_field": {
            "type": "string",
            "minLength": 1,
            "description": "The promise's field holding its due time as a duration after the "
            "promise, used when the due field is absent (default: within).",
        },
        "schedule": {
            "type": "string",
            "minLength": 1,
            "description": "A named business schedule: within and the promises' durations "
            "count its open hours (default: calendar time).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


class _Debt(NamedTuple):
    """Something the customer must be told of: from when, by when, and what it was."""

    event: int
    due: datetime
    label: str  #: ``change`` or ``promise``


def compile_keeps_informed(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    """Compile one rule; raises ``ValueError`` for a bad duration or an unknown schedule."""
    is_change = compile_selector(params.get("changes", DEFAULT_CHANGES))
    status_rule = StatusRule.compile(params["status"]) if "status" in params else None
    is_notice = compile_selector(params.get("notice", DEFAULT_NOTICE))
    is_promise = compile_selector(params.get("promise", {"type": "promise"}))
    within = parse_duration(params.get("within", "1h"))
    due_field = params.get("due_field", "due")
    within_field = params.get("within_field", "within")
    schedule: Schedule | None = context.schedule(params.get("schedule"))

    def after(moment: datetime, seconds: float) -> datetime:
        if schedule is None:
            return moment + timedelta(seconds=seconds)
        return add_business_seconds(moment, seconds, schedule, tz=None)

    def debts_of(events: tuple[Event, ...]) -> tuple[list[_Debt], list[Evidence]]:
        debts: list[_Debt] = []
        problems: list[Evidence] = []
        status_changes = (
            {change.event for change in status_rule.changes(events) if change.previous is not None}
            if status_rule is not None
            else set()
        )
        for index, event in enumerate(events):
            if is_change(event) or index in status_changes:
                debts.append(_Debt(index, after(event.at, within), "change"))
            elif is_promise(event):
                due = _promise_due(event, due_field, within_field, after)
                if isinstance(due, str):
                    problems.append(Evidence("event", "no_due_time", event.at, None, index, due))
                else:
                    debts.append(_Debt(index, due, "promise"))
        return debts, problems

    def keeps_informed(record: Record, context: EvaluationContext) -> Measurement:
        events = record.events[: known_events(record, context.as_of)]
        debts, evidence = debts_of(events)
        notices = [index for index, event in enumerate(events) if is_notice(event)]
        lapses = judged = pending = 0
        for debt in debts:
            told = next((i for i in notices if i > debt.event), None)
            piece = _judge(events, debt, told, context.as_of)
            evidence.append(piece)
            if piece.label == "pending":
                pending += 1
                continue
            judged += 1
            lapses += piece.label.startswith("not_told")
        if not judged:
            note = (
                _("{count} not yet due").format(count=pending)
                if pending
                else _("no status change or promise to tell the customer of")
            )
            return Measurement.not_applicable(note, tuple(evidence))
        note = _("{lapses} of {judged} not told in time").format(lapses=lapses, judged=judged)
        return Measurement(float(lapses), tuple(evidence), note)

    return keeps_informed


def _promise_due(
    event: Event,
    due_field: str,
    within_field: str,
    after: Callable[[datetime, float], datetime],
) -> datetime | str:
    """The promise's due time, or why it has none."""
    due = event.fields.get(due_field)
    if isinstance(due, str):
        try:
            moment = datetime.fromisoformat(due)
        except ValueError:
            return _("{field} {value!r} is not a timestamp").format(field=due_field, value=due)
        if moment.tzinfo is None:
            return _("{field} {value!r} has no UTC offset").format(field=due_field, value=due)
        return moment
    delay = event.fields.get(within_field)
    if delay is not None:
        try:
            return after(event.at, parse_duration(delay))
        except ValueError:
            return _("{field} {value!r} is not a duration").format(field=within_field, value=delay)
    return _("the promise has neither {due} nor {within}").format(
        due=due_field, within=within_field
    )


def _judge(
    events: tuple[Event, ...], debt: _Debt, told: int | None, as_of: datetime | None
) -> Evidence:
    """One debt's verdict, as evidence at the event that opened it."""
    opened = events[debt.event]
    what = opened.type
    if told is not None and events[told].at <= debt.due:
        waited = format_duration((events[told].at - opened.at).total_seconds())
        detail = _("{what}: told after {waited}, by {notice}").format(
            what=what, waited=waited, notice=events[told].type
        )
        return Evidence("event", f"told_of_{debt.label}", opened.at, None, debt.event, detail)
    if told is None and as_of is not None and as_of < debt.due:
        detail = _("{what}: to be told by {due}").format(what=what, due=debt.due.isoformat())
        return Evidence("event", "pending", opened.at, None, debt.event, detail)
    if told is None:
        detail = _("{what}: never told (due by {due})").format(what=what, due=debt.due.isoformat())
    else:
        late = format_duration((events[told].at - debt.due).total_seconds())
        detail = _("{what}: told {late} after the time it was due, {due}").format(
            what=what, late=late, due=debt.due.isoformat()
        )
    return Evidence("event", f"not_told_of_{debt.label}", opened.at, None, debt.event, detail)


KEEPS_INFORMED = Check(
    name="keeps_informed",
    dimension="communication",
    doc=(
        "Counts the times the customer was not kept informed: a status change (by default "
        "a status, escalated or reopened event) with no notice to the customer (by default "
        "an agent's message, callback or notification) within `within` (1h), and a promise "
        "(type promise, with a due time or a delay) with no notice after it and by its due "
        "time.  Run --as-of, a change or promise not yet due is pending, not counted.  Lower "
        "is better; by default none passes, one warns, more fail.  Evidence gives each "
        "change and promise with its verdict."
    ),
    params_schema=KEEPS_INFORMED_SCHEMA,
    compile=compile_keeps_informed,
    unit="count",
    better="lower",
    default_thresholds={"desired": 0, "adequate": 1},
    example="- id: keep-them-told\n  check: keeps_informed\n  params: {within: 2h}\n",
)
