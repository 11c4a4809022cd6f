"""``repeat_contact``: the same customer comes back about the same thing within a window.

A customer who has to come back was not served the first time: the need was not met before
they had to ask again.  This check looks across records, so it is a
:class:`rulecore.CrossRecordCheck`: an accumulator sees every in-scope record and reports a
measurement for each.

How memory stays bounded
------------------------

Per (customer, category) the accumulator keeps one compact entry per contact: its opening
time, its record id and the time its window counts from (opening or resolution), as floats
and a string.  Nothing else of a record is kept.

Records may arrive in any order, so when is a record's result final, and when may an entry be
forgotten?  ``max_lateness`` says how far out of time order (by opening time) the input may
be.  With ``T`` the latest opening time seen so far, every record still to come opens at or
after ``T - max_lateness`` (the *finality line*).  So:

- a record that opened before the line can gain no earlier contact: its result is final, and
  it is moved from the waiting heap to the ready list;
- an entry whose window start is more than ``window`` before the line can be no later
  record's earlier contact: it is dropped.  A key's entries are pruned whenever the key is
  touched, and every key is swept once the line has moved on by a whole window, so customers
  who never return are forgotten too.

The memory bound, stated honestly:

- time-ordered input (``max_lateness: 0s``): the entries kept are the contacts whose window
  start lies within ``2 × window`` of the latest opening time (one window that is still
  needed, plus at most one window not yet swept), whatever the input's length; the waiting
  heap holds only records that share the latest opening time;
- input out of order by at most ``L``: the same with ``2 × window + L``, and the waiting heap
  holds the records of the last ``L``;
- ``max_lateness: unbounded`` (the default, exact for input in any order): nothing can be
  forgotten, since any record still to come may be earlier than all the others, so one entry
  per contact is kept until the end.  That is the distinct customers × their contacts, a few
  dozen bytes each.

A record that arrives later than ``max_lateness`` allows breaks that promise: its result, and
those of contacts already reported after it, may miss each other.  It is reported as an error
that says so, never silently.

Results already final are handed out by ``drain()`` as the audit goes, when the engine asks
for them, and by ``results()`` at the end.  Within each batch they come in order of opening
time, then record id, so the order is deterministic for a given input.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, insort
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, NamedTuple

from rulecore import (
    SELECTOR_SCHEMA,
    Accumulator,
    CompileContext,
    CrossRecordCheck,
    EvaluationContext,
    Event,
    Evidence,
    Measurement,
    Record,
    compile_selector,
    find_event,
    format_duration,
    parse_duration,
)
from rulecore.i18n import _

#: Evidence names at most this many earlier contacts; the measured value still counts all.
EVIDENCE_LIMIT = 5
UNBOUNDED = "unbounded"

REPEAT_CONTACT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "customer": {
            "type": "string",
            "minLength": 1,
            "description": "The record attribute that identifies the customer (default: customer).",
        },
        "category": {
            "type": "string",
            "minLength": 1,
            "description": "The record attribute that says what the contact is about, such "
            "as category or product; contacts about another category are not repeats "
            "(default: none; any earlier contact by the customer counts).",
        },
        "window": {
            "type": ["string", "number"],
            "description": "How soon a return counts as a repeat: a duration such as 7d "
            "(default: 7d).",
        },
        "since": {
            "enum": ["opened", "resolved"],
            "description": "Which time of the earlier case the window counts from: its "
            "opening (default) or its resolution.  With resolved, a contact while the earlier "
            "case is still open is a repeat too.",
        },
        "opened": {
            **SELECTOR_SCHEMA,
            "description": "The event that opens a case; its first occurrence is the case's "
            "opening time, and the first event when there is none (default: {type: opened}).",
        },
        "resolved": {
            **SELECTOR_SCHEMA,
            "description": "The event that resolves a case; its last occurrence is the "
            "resolution, and the last event when there is none "
            "(default: {type: [resolved, closed]}).",
        },
        "measure": {
            "enum": ["repeat", "earlier_contacts"],
            "description": "repeat (default): 1 when the record is a repeat contact, else 0.  "
            "earlier_contacts: how many earlier contacts fall within the window.",
        },
        "max_lateness": {
            "type": ["string", "number"],
            "description": "How far out of time order (by opening time) records may arrive: "
            "0s for input sorted by opening time, a duration such as 1d, or unbounded "
            "(default).  Memory is bounded by the window plus this; see the docs.",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


class _Settings(NamedTuple):
    """One rule's compiled parameters, shared by every accumulator it makes."""

    customer: str
    category: str | None
    window: float
    since_resolved: bool
    opened: Callable[[Event], bool]
    resolved: Callable[[Event], bool]
    count_all: bool
    lateness: float  #: seconds; ``math.inf`` for unbounded


class _Contact(NamedTuple):
    """One contact as the accumulator remembers it; compared by opening time, then id."""

    opened: float  #: POSIX seconds
    record_id: str
    since: float  #: when the window counts from: opening or resolution, never before opening


Key = tuple[str, str | None]


class _Waiting(NamedTuple):
    opened: float
    record_id: str
    key: Key


def compile_repeat_contact(
    params: Mapping[str, Any], context: CompileContext
) -> Callable[[], Accumulator]:
    """Compile one rule into a factory of fresh accumulators, one per audit run.

    Raises ``ValueError`` for a window of zero or a duration that cannot be read.
    """
    window = parse_duration(params.get("window", "7d"))
    if window <= 0:
        raise ValueError(_("window must be longer than 0s"))
    raw_lateness = params.get("max_lateness", UNBOUNDED)
    lateness = math.inf if raw_lateness == UNBOUNDED else parse_duration(raw_lateness)
    settings = _Settings(
        customer=params.get("customer", "customer"),
        category=params.get("category"),
        window=window,
        since_resolved=params.get("since", "opened") == "resolved",
        opened=compile_selector(params.get("opened", {"type": "opened"})),
        resolved=compile_selector(params.get("resolved", {"type": ["resolved", "closed"]})),
        count_all=params.get("measure", "repeat") == "earlier_contacts",
        lateness=lateness,
    )

    def new_accumulator() -> Accumulator:
        return RepeatContactAccumulator(settings)

    return new_accumulator


class RepeatContactAccumulator:
    """The state of one audit's repeat-contact rule; see the module docstring for the design."""

    def __init__(self, settings: _Settings) -> None:
        self._settings = settings
        self._contacts: dict[Key, list[_Contact]] = {}
        self._waiting: list[_Waiting] = []
        self._ready: list[tuple[str, Measurement]] = []
        self._latest = -math.inf
        self._swept_horizon = -math.inf

    # -- what the engine calls ---------------------------------------------------------------

    def add(self, record: Record, context: EvaluationContext) -> None:
        """Remember ``record``'s contact and settle every result that can no longer change."""
        settings = self._settings
        key, problem = self._key(record)
        if key is None:
            self._ready.append((record.id, Measurement.not_applicable(problem)))
            return
        if not record.events:
            no_events = Measurement.not_applicable(_("the record has no events"))
            self._ready.append((record.id, no_events))
            return
        contact = self._contact(record)
        entries = self._contacts.setdefault(key, [])
        insort(entries, contact)
        line = self._finality_line()
        if contact.opened < line:
            self._ready.append((record.id, self._late(key, contact, line)))
        else:
            heapq.heappush(self._waiting, _Waiting(contact.opened, contact.record_id, key))
        self._latest = max(self._latest, contact.opened)
        self._settle(self._finality_line())
        horizon = self._finality_line() - settings.window
        self._prune(key, horizon)
        # With unbounded lateness the horizon stays at minus infinity: nothing is ever stale.
        if math.isfinite(horizon) and horizon - self._swept_horizon >= settings.window:
            self._sweep(horizon)

    def drain(self) -> Iterator[tuple[str, Measurement]]:
        """Hand out the results that are final already, and forget them."""
        ready, self._ready = self._ready, []
        yield from ready

    def results(self) -> Iterator[tuple[str, Measurement]]:
        """Settle every record still waiting and hand out all remaining results."""
        self._settle(math.inf)
        yield from self.drain()

    # -- what a test or a benchmark may read -------------------------------------------------

    @property
    def stored_contacts(self) -> int:
        """How many contacts the accumulator remembers now (the window state)."""
        return sum(map(len, self._contacts.values()))

    @property
    def waiting_records(self) -> int:
        """How many records wait for their result to become final."""
        return len(self._waiting)

    @property
    def buffered_results(self) -> int:
        """How many final results wait to be drained."""
        return len(self._ready)

    # -- inside ------------------------------------------------------------------------------

    def _key(self, record: Record) -> tuple[Key | None, str]:
        settings = self._settings
        customer = record.attribute(settings.customer)
        if customer is None or str(customer).strip() == "":
            return None, _("the record does not say who the customer is ({attribute!r})").format(
                attribute=settings.customer
            )
        if settings.category is None:
            return (str(customer), None), ""
        category = record.attribute(settings.category)
        if category is None or str(category).strip() == "":
            return None, _("the record does not say what it is about ({attribute!r})").format(
                attribute=settings.category
            )
        return (str(customer), str(category)), ""

    def _contact(self, record: Record) -> _Contact:
        settings = self._settings
        opened_at = find_event(record, settings.opened)
        opened = record.events[opened_at if opened_at is not None else 0].at.timestamp()
        since = opened
        if settings.since_resolved:
            resolved_at = find_event(record, settings.resolved, "last")
            # An unresolved case is taken as alive until its last event.
            end = record.events[resolved_at if resolved_at is not None else -1]
            since = max(opened, end.at.timestamp())
        return _Contact(opened, record.id, since)

    def _finality_line(self) -> float:
        """Every record still to come opens at or after this moment (by the lateness promise)."""
        return self._latest - self._settings.lateness

    def _settle(self, line: float) -> None:
        waiting = self._waiting
        while waiting and waiting[0].opened < line:
            settled = heapq.heappop(waiting)
            contact = self._find(settled)
            self._ready.append((settled.record_id, self._measure(settled.key, contact)))

    def _find(self, waiting: _Waiting) -> _Contact:
        entries = self._contacts[waiting.key]
        position = bisect_left(entries, (waiting.opened, waiting.record_id))
        return entries[position]

    def _earlier(self, key: Key, contact: _Contact) -> list[_Contact]:
        """The contacts before ``contact`` whose window it falls in, oldest first."""
        entries = self._contacts.get(key, [])
        before = bisect_left(entries, (contact.opened, contact.record_id))
        window_start = contact.opened - self._settings.window
        recent = bisect_left(entries, (window_start,), 0, before)
        # Opened inside the window means inside it whichever time it counts from, since a
        # window never starts before its case opened; older ones count only if resolved late.
        older = (
            [entry for entry in entries[:recent] if entry.since >= window_start]
            if self._settings.since_resolved
            else []
        )
        return older + entries[recent:before]

    def _measure(self, key: Key, contact: _Contact) -> Measurement:
        """The record's result; an error for that record alone when it cannot be measured.

        Results are settled in batches, so a record that breaks the measurement (a timestamp
        out of range, from a reader that let it through) must not take the others with it.
        """
        try:
            return self._measure_contact(key, contact)
        except Exception as error:  # this record's error outcome, not the whole batch's
            detail = f"{type(error).__name__}: {error}"
            return Measurement(
                None,
                (Evidence("note", "exception", detail=detail),),
                _("could not measure contact {record}: {detail}").format(
                    record=contact.record_id, detail=detail
                ),
                outcome="error",
            )

    def _measure_contact(self, key: Key, contact: _Contact) -> Measurement:
        earlier = self._earlier(key, contact)
        count = len(earlier)
        value = float(count) if self._settings.count_all else float(count > 0)
        evidence = [self._about(key, count)]
        shown = earlier[-EVIDENCE_LIMIT:]
        evidence += [self._earlier_evidence(entry, contact) for entry in reversed(shown)]
        if count > len(shown):
            evidence.append(
                Evidence(
                    "note",
                    "more",
                    detail=_("and {count} earlier contacts").format(count=count - len(shown)),
                )
            )
        window = format_duration(self._settings.window)
        if not count:
            note = _("no earlier contact about this within {window}").format(window=window)
            return Measurement(value, tuple(evidence), note)
        ids = ", ".join(entry.record_id for entry in reversed(shown))
        more = _(" and {count} more").format(count=count - len(shown)) if count > len(shown) else ""
        note = _("came back within {window} of {ids}{more}").format(
            window=window, ids=ids, more=more
        )
        return Measurement(value, tuple(evidence), note)

    def _about(self, key: Key, count: int) -> Evidence:
        customer, category = key
        who = _("customer {customer}").format(customer=customer) + (
            f", {category}" if category is not None else ""
        )
        window = format_duration(self._settings.window)
        detail = _("{who}: {count} earlier within {window}").format(
            who=who, count=count, window=window
        )
        return Evidence("note", "contacts", detail=detail)

    def _earlier_evidence(self, entry: _Contact, contact: _Contact) -> Evidence:
        gap = contact.opened - entry.since
        if self._settings.since_resolved:
            words = (
                _("resolved {gap} before this contact").format(gap=format_duration(gap))
                if gap >= 0
                else _("still open when this contact came")
            )
        else:
            words = _("opened {gap} before this contact").format(gap=format_duration(gap))
        return Evidence(
            "note",
            "earlier_contact",
            _moment(entry.opened),
            _moment(entry.since) if self._settings.since_resolved else None,
            detail=f"{entry.record_id} {words}",
        )

    def _late(self, key: Key, contact: _Contact, line: float) -> Measurement:
        measured = self._measure(key, contact)
        late = format_duration(self._latest - contact.opened)
        allowed = format_duration(self._settings.lateness)
        note = _(
            "arrived {late} out of time order, more than max_lateness {allowed} allows: "
            "contacts already reported may not count it, and it may not count contacts "
            "already forgotten; sort the input by opening time or raise max_lateness"
        ).format(late=late, allowed=allowed)
        return Measurement(measured.value, measured.evidence, note, outcome="error")

    def _prune(self, key: Key, horizon: float) -> None:
        entries = self._contacts.get(key)
        if not entries:
            return
        stale = bisect_left(entries, (horizon,))
        if self._settings.since_resolved:
            entries[:stale] = [entry for entry in entries[:stale] if entry.since >= horizon]
        else:
            del entries[:stale]
        if not entries:
            del self._contacts[key]

    def _sweep(self, horizon: float) -> None:
        for key in list(self._contacts):
            self._prune(key, horizon)
        self._swept_horizon = horizon


def _moment(posix: float) -> datetime:
    return datetime.fromtimestamp(posix, tz=timezone.utc)


REPEAT_CONTACT = CrossRecordCheck(
    name="repeat_contact",
    dimension="anticipation",
    doc=(
        "Customers do not have to come back about the same thing.  Looks across records: a "
        "record is a repeat contact when the same customer (the customer attribute) had an "
        "earlier case, about the same category when the category attribute is given, whose "
        "opening (or resolution, with since: resolved) lies within window before this "
        "record's opening.  Ties in opening time are ordered by record id.  Measured per "
        "record: 1 for a repeat and 0 otherwise, or with measure: earlier_contacts the number "
        "of earlier contacts within the window.  Lower is better; the default zone allows "
        "none.  not_applicable when the record names no customer (or no category).  Memory "
        "is bounded by the window plus max_lateness (how far out of time order records may "
        "arrive; unbounded by default, which is exact for any order but keeps one small "
        "entry per contact); a record later than that is an error, not a silent mistake.  "
        "Evidence: the customer and category, and the earlier cases by id with how long "
        "before each one was."
    ),
    params_schema=REPEAT_CONTACT_SCHEMA,
    compile=compile_repeat_contact,
    unit="count",
    better="lower",
    default_thresholds={"max": 0},
    example=(
        "- id: no-repeat-within-7d\n"
        "  check: repeat_contact\n"
        "  params:\n"
        "    customer: customer\n"
        "    category: team\n"
        "    window: 7d\n"
        "    max_lateness: 0s   # the export is sorted by opening time\n"
    ),
)
