"""``promises_kept``: an explicit promise recorded in the timeline is kept by its due time.

"We will call you back by 5 pm" is a service standard the agent set for this one customer.  A
promise kept on time builds trust; a promise broken is a finding even when every general time
standard was met.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from rulecore import (
    CASE_CLOCK_PROPERTIES,
    SELECTOR_SCHEMA,
    CaseClock,
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Event,
    Evidence,
    Measurement,
    Record,
    compile_selector,
    describe_selector,
    format_duration,
    known_events,
    parse_duration,
)
from rulecore.clock import Schedule, add_business_seconds
from rulecore.i18n import _

DEFAULT_FULFILMENT: dict[str, Any] = {"type": ["message", "callback"], "actor": "agent"}

PROMISES_KEPT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "promise": {
            **SELECTOR_SCHEMA,
            "description": "An explicit promise made to the customer (default: {type: promise}).",
        },
        "due_field": {
            "type": "string",
            "minLength": 1,
            "description": "The promise's field holding its due time as an RFC 3339 timestamp "
            "with an offset, such as 2026-03-18T17:00:00+01:00 (default: due).",
        },
        "within_field": {
            "type": "string",
            "minLength": 1,
            "description": "The promise's field holding its due time as a duration after the "
            "promise, such as 2h; used when the due field is absent (default: within).",
        },
        "default_within": {
            "type": ["string", "number"],
            "description": "The due time, as a duration after the promise, for promises that "
            "carry neither field (default: none; such promises are reported, not judged).",
        },
        "schedule": {
            "type": "string",
            "minLength": 1,
            "description": "A named business schedule: durations (within, default_within) "
            "count business time under it (default: calendar time).",
        },
        "schedule_attribute": CASE_CLOCK_PROPERTIES["schedule_attribute"],
        "schedules": CASE_CLOCK_PROPERTIES["schedules"],
        "timezone_attribute": {
            "type": "string",
            "minLength": 1,
            "description": "A record attribute with the IANA time zone for a schedule that "
            "names none.",
        },
        "fulfilment": {
            **SELECTOR_SCHEMA,
            "description": "An event that keeps a promise: the first one after it "
            "(default: {type: [message, callback], actor: agent}).",
        },
        "match_field": {
            "type": "string",
            "minLength": 1,
            "description": "When the promise carries this field (such as kind: callback), "
            "only a fulfilment with the same value keeps it.",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


class _Due(NamedTuple):
    """A promise's due time, or why it has none."""

    at: datetime | None
    problem: str = ""


DueReader = Callable[[Record, Event], _Due]


def compile_promises_kept(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    """Compile one rule; raises ``ValueError`` for an unknown schedule or a bad duration."""
    is_promise = compile_selector(params.get("promise", {"type": "promise"}))
    fulfilment_spec = params.get("fulfilment", DEFAULT_FULFILMENT)
    is_fulfilment = compile_selector(fulfilment_spec)
    fulfilment_words = describe_selector(fulfilment_spec)
    match_field: str | None = params.get("match_field")
    # The schedule keys only: timezone_attribute keeps this check's own, looser meaning.
    schedule_keys = ("schedule", "schedule_attribute", "schedules")
    clock = CaseClock.compile(
        {key: params[key] for key in schedule_keys if key in params}, context, reads_reopens=False
    )
    due_of = _due_reader(params, clock.schedule)
    #: with schedule_attribute: a reader for each schedule the attribute may choose
    due_on = {chosen.name: _due_reader(params, chosen) for chosen in clock.schedules.values()}

    def promises_kept(record: Record, context: EvaluationContext) -> Measurement:
        read_due = due_of
        if due_on:
            chosen = clock.schedule_for(record)
            if isinstance(chosen, Measurement):
                return chosen
            if chosen is not None and chosen is not clock.schedule:
                read_due = due_on[chosen.name]
        events = record.events[: known_events(record, context.as_of)]
        evidence: list[Evidence] = []
        judged = broken = pending = 0
        for index, event in enumerate(events):
            if not is_promise(event):
                continue
            due = read_due(record, event)
            if due.at is not None and due.at < event.at:
                due = _Due(
                    None,
                    _("due {due} is before the promise was made").format(due=due.at.isoformat()),
                )
            if due.at is None:
                evidence.append(
                    Evidence(
                        "event", "no_due_time", event.at, event_index=index, detail=due.problem
                    )
                )
                continue
            kept_by = _first_fulfilment(events, index, is_fulfilment, match_field)
            verdict = _verdict(events, index, due.at, kept_by, context.as_of, fulfilment_words)
            evidence.append(verdict)
            if verdict.label == "pending":
                pending += 1
                continue
            judged += 1
            if verdict.label == "broken":
                broken += 1
        if not judged:
            return Measurement.not_applicable(
                _why_nothing_judged(evidence, pending), tuple(evidence)
            )
        note = _summary(evidence, judged, pending)
        return Measurement(float(broken), tuple(evidence), note)

    return promises_kept


def _first_fulfilment(
    events: tuple[Event, ...],
    promise: int,
    is_fulfilment: Callable[[Event], bool],
    match_field: str | None,
) -> int | None:
    """Index of the first fulfilment after the promise (matching it on match_field if set)."""
    wanted = events[promise].fields.get(match_field) if match_field else None
    for later in range(promise + 1, len(events)):
        event = events[later]
        if not is_fulfilment(event):
            continue
        if wanted is None or (match_field and event.fields.get(match_field) == wanted):
            return later
    return None


def _verdict(
    events: tuple[Event, ...],
    index: int,
    due: datetime,
    kept_by: int | None,
    as_of: datetime | None,
    fulfilment_words: str,
) -> Evidence:
    """Evidence for one promise, labelled kept, broken or pending."""
    promised_at = events[index].at
    if kept_by is not None:
        kept_at = events[kept_by].at
        margin = format_duration(abs((due - kept_at).total_seconds()))
        if kept_at <= due:
            detail = _("kept by {type} at event {event}, {margin} before due").format(
                type=events[kept_by].type, event=kept_by, margin=margin
            )
            return Evidence("event", "kept", promised_at, due, event_index=index, detail=detail)
        detail = _("{type} at event {event} came {margin} after due").format(
            type=events[kept_by].type, event=kept_by, margin=margin
        )
        return Evidence("event", "broken", promised_at, due, event_index=index, detail=detail)
    if as_of is not None and as_of <= due:
        detail = _("not yet due as of {moment}; no {fulfilment} yet").format(
            moment=as_of.isoformat(), fulfilment=fulfilment_words
        )
        return Evidence("event", "pending", promised_at, due, event_index=index, detail=detail)
    detail = _("no {fulfilment} after the promise").format(fulfilment=fulfilment_words)
    return Evidence("event", "broken", promised_at, due, event_index=index, detail=detail)


def _summary(evidence: list[Evidence], judged: int, pending: int) -> str:
    """What happened to the promises, in a line: which were broken, and what is still due."""
    broken = [piece for piece in evidence if piece.label == "broken"]
    if broken:
        first = broken[0]
        due = first.until.isoformat() if first.until is not None else "?"
        text = _(
            "{broken} of {judged} promises broken; first: event {event}, due {due}, {detail}"
        ).format(
            broken=len(broken), judged=judged, event=first.event_index, due=due, detail=first.detail
        )
    else:
        text = _("{kept} of {judged} promises kept").format(kept=judged, judged=judged)
    return text + (_("; {count} not yet due").format(count=pending) if pending else "")


def _why_nothing_judged(evidence: list[Evidence], pending: int) -> str:
    if pending:
        return _("{count} promises made, none due yet").format(count=pending)
    if evidence:
        return _("no promise says when it is due")
    return _("the record has no promise")


def _due_reader(params: Mapping[str, Any], schedule: Schedule | None) -> DueReader:
    """Compile how to read a promise's due time from its fields."""
    due_field = params.get("due_field", "due")
    within_field = params.get("within_field", "within")
    zone_attribute = params.get("timezone_attribute")
    default_raw = params.get("default_within")
    default_seconds = parse_duration(default_raw) if default_raw is not None else None

    if schedule is None and zone_attribute is None:
        # Calendar time needs no clock: keep the hot path to one addition.
        def after(record: Record, event: Event, seconds: float) -> _Due:
            try:
                return _Due(event.at + timedelta(seconds=seconds))
            except OverflowError:
                return _Due(
                    None,
                    _("{duration} after it is past any date").format(
                        duration=format_duration(seconds)
                    ),
                )

    else:

        def after(record: Record, event: Event, seconds: float) -> _Due:
            zone = record.attribute(zone_attribute) if zone_attribute else None
            try:
                due = add_business_seconds(event.at, seconds, schedule, str(zone) if zone else None)
            except (ValueError, OverflowError) as error:
                return _Due(
                    None,
                    _("cannot count {duration} after it: {error}").format(
                        duration=format_duration(seconds), error=error
                    ),
                )
            return _Due(due)

    def due_of(record: Record, event: Event) -> _Due:
        fields = event.fields
        if fields.get(due_field) is not None:
            return _timestamp(fields[due_field], due_field)
        if fields.get(within_field) is not None:
            seconds = _seconds(fields[within_field])
            if seconds is None:
                return _Due(
                    None,
                    _("{field} {value!r} is not a duration such as 2h").format(
                        field=within_field, value=fields[within_field]
                    ),
                )
            return after(record, event, seconds)
        if default_seconds is not None:
            return after(record, event, default_seconds)
        return _Due(
            None,
            _("the promise has neither {due!r} nor {within!r}").format(
                due=due_field, within=within_field
            ),
        )

    return due_of


def _seconds(raw: Any) -> float | None:
    """A duration field's seconds, or None when it is not a finite duration."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        return None
    try:
        seconds = parse_duration(raw)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) else None


def _timestamp(raw: Any, field: str) -> _Due:
    """Read an RFC 3339 due time; it must carry an offset, since a bare time is ambiguous."""
    if isinstance(raw, datetime):
        moment = raw
    else:
        text = str(raw).strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return _Due(
                None,
                _("{field} {value!r} is not an RFC 3339 timestamp").format(field=field, value=raw),
            )
    if moment.tzinfo is None or moment.utcoffset() is None:
        return _Due(
            None,
            _("{field} {value!r} has no UTC offset, so its moment is unknown").format(
                field=field, value=raw
            ),
        )
    return _Due(moment)


PROMISES_KEPT = Check(
    name="promises_kept",
    dimension="anticipation",
    doc=(
        "Explicit promises recorded in the timeline are kept by their due time.  A promise is "
        "an event matching the promise selector (default: type promise).  Its due time is its "
        "due_field (default due), an RFC 3339 timestamp with an offset; or else its "
        "within_field (default within), a duration after the promise such as 2h; or else "
        "default_within.  Durations count calendar time, or business time under a named "
        "schedule.  The promise is kept when the first fulfilment after it (default: an "
        "agent message or callback; with match_field, one carrying the promise's value of "
        "that field) comes at or before the due time; a later fulfilment, or none, breaks "
        "it.  In-flight (as of a moment), events after that moment have not happened yet, "
        "and a promise whose due time has not come is pending, not broken.  Measured: the "
        "number of broken promises.  Lower is better; the default zone allows none.  "
        "not_applicable when the record has no promise, none says when it is due, or none "
        "is due yet.  Evidence: each promise with its due time (at → until) and the event "
        "that kept it, came late, or the absence of one."
    ),
    params_schema=PROMISES_KEPT_SCHEMA,
    compile=compile_promises_kept,
    unit="count",
    better="lower",
    default_thresholds={"max": 0},
    example=(
        "- id: call-back-when-promised\n"
        "  check: promises_kept\n"
        "  params:\n"
        "    promise: {type: promise}\n"
        "    fulfilment: {type: [message, callback], actor: agent}\n"
        "    match_field: kind\n"
    ),
)
