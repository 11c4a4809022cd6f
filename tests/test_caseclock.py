"""The case clock (rulecore.caseclock) and the owner-change helper, tested on their own.

The checks that use them (elapsed, update_gap, stalls, reopens, handoffs, ping_pong,
repeated_information, first_contact_resolution) have their own tests and fixtures; these pin
down the shared mechanism those rest on, with every expected value worked out by hand.
"""

from __future__ import annotations

import pickle
import random
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import jsonschema
import pytest

import rulecore
from rulecore import (
    CASE_CLOCK_PROPERTIES,
    SELECTOR_SCHEMA,
    CaseClock,
    CaseView,
    CompileContext,
    Measurement,
    OpenPeriod,
    OwnerChange,
    Record,
    StatusChange,
    compile_selector,
    field_key,
    known_events,
    owner_changes,
)
from rulecore.caseclock import StatusPatterns, Wait, status_keys
from rulecore.clock import parse_schedule
from rulecore.testing import findings, make_engine, record

HOUR = 3600.0

#: London, weekdays 09:00-17:00.  In March 2026 London is on GMT (UTC+0) until Sunday 29th.
OFFICE = parse_schedule(
    "office", {"timezone": "Europe/London", "hours": {"mon-fri": "09:00-17:00"}}
)
#: The same hours in whatever zone the record names.
LOCAL = parse_schedule("local", {"hours": {"mon-fri": "09:00-17:00"}})
CONTEXT = CompileContext("standard", "rule", {"office": OFFICE, "local": LOCAL})


def clock(reads_reopens: bool = True, **params: Any) -> CaseClock:
    return CaseClock.compile(params, CONTEXT, reads_reopens=reads_reopens)


def view_of(case_clock: CaseClock, case: Record, as_of: datetime | None = None) -> CaseView:
    view = case_clock.view(case, as_of)
    assert isinstance(view, CaseView), view
    return view


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---------------------------------------------------------------------------------------------
# statuses
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (2, "2"),
        (2.0, "2"),
        ("2", "2"),
        (2.5, "2.5"),
        (" pending ", "pending"),
        ("Pending", "Pending"),
        (True, "true"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_a_field_value_becomes_one_comparable_key(value: Any, key: str | None) -> None:
    assert field_key(value) == key


def test_statuses_written_in_a_standard_become_the_same_keys() -> None:
    assert status_keys("pending") == {"pending"}
    assert status_keys([2, "3.0", 4.0, ""]) == {"2", "3.0", "4"}


@pytest.mark.parametrize(
    ("listed", "status", "matches"),
    [
        (["Wait*"], "Waiting on customer", True),
        (["Wait*"], "Wait", True),
        (["Wait*"], "waiting", False),  # letter case counts
        (["Wait*"], "Awaiting", False),  # the whole key must match
        (["awaiting_?"], "awaiting_3", True),
        (["awaiting_?"], "awaiting_33", False),
        (["[Pp]ending"], "pending", True),
        (["[!P]ending"], "Pending", False),
        ([" Wait* "], "Waiting", True),  # the pattern is a key: spaces trimmed
        (["Wait*", "closed"], "closed", True),  # listed as it is
        (["Wait[*]"], "Wait*", True),  # a wildcard in brackets is the character itself
        (["Wait[*]"], "Waiting", False),
    ],
)
def test_a_listed_status_with_a_wildcard_is_a_pattern(
    listed: list[str], status: str, matches: bool
) -> None:
    keys = status_keys(listed)

    assert isinstance(keys, StatusPatterns)
    assert (status in keys) is matches
    assert (status in keys) is matches  # the remembered answer is the same
    assert None not in keys


def test_statuses_without_a_wildcard_stay_a_plain_set() -> None:
    assert type(status_keys(["pending", 2])) is frozenset


def test_statuses_with_patterns_survive_a_trip_to_a_worker_process() -> None:
    keys = status_keys(["Wait*", "pending"])

    copied = pickle.loads(pickle.dumps(keys))

    assert copied == keys
    assert "Waiting" in copied


def test_a_pattern_pauses_the_clock_in_every_status_it_matches() -> None:
    case = record(
        "T1",
        ("2026-03-02T09:00:00Z", "opened", "customer", {"status": "new"}),
        ("2026-03-02T10:00:00Z", "message", "agent", {"status": "Waiting on customer"}),
        ("2026-03-02T12:00:00Z", "message", "customer", {"status": "In progress"}),
        ("2026-03-02T13:00:00Z", "message", "agent", {"status": "Waiting on supplier"}),
        ("2026-03-02T14:00:00Z", "message", "agent", {"status": "Wait"}),
        ("2026-03-02T15:00:00Z", "resolved", "agent", {"status": "resolved"}),
    )
    case_clock = clock(pause={"while": ["Wait*"]})
    view = view_of(case_clock, case)

    measured = case_clock.measure(view, at("2026-03-02T09:00:00Z"), at("2026-03-02T15:00:00Z"))

    # 10:00-12:00 and 13:00-15:00 are waits (moving between two of them is one pause).
    assert [(p.event, p.status) for p in view.pauses] == [
        (1, "Waiting on customer"),
        (3, "Waiting on supplier"),
    ]
    assert measured.seconds == 2 * HOUR


def test_a_pattern_in_resolved_statuses_closes_and_reopens() -> None:
    case = record(
        "T1",
        ("2026-03-02T09:00:00Z", "opened", "customer"),
        ("2026-03-02T10:00:00Z", "note", "agent", {"status": "Closed - fixed"}),
        ("2026-03-02T11:00:00Z", "note", "customer", {"status": "Open"}),
        ("2026-03-02T12:00:00Z", "note", "agent", {"status": "Closed - duplicate"}),
    )
    case_clock = clock(reopen={"resolved_statuses": ["Closed*"]})
    view = view_of(case_clock, case)

    assert view.reopens == (2,)
    assert case_clock.resolves(view) == {1, 3}
    assert case_clock.open_periods(view, 0, IS_CLOSING) == (OpenPeriod(0, 1), OpenPeriod(2, 3))


def test_status_changes_compare_values_as_keys_and_skip_repeats_and_blanks() -> None:
    case = record(
        "T1",
        ("2026-03-02T09:00:00Z", "opened", "customer", {"status": "new"}),
        ("2026-03-02T09:01:00Z", "note", "agent", {"status": 2}),
        ("2026-03-02T09:02:00Z", "note", "agent", {"status": 2.0}),
        ("2026-03-02T09:03:00Z", "note", "agent", {"status": "2"}),
        ("2026-03-02T09:04:00Z", "note", "agent", {"status": ""}),
        ("2026-03-02T09:05:00Z", "note", "agent", {"status": " pending "}),
        ("2026-03-02T09:06:00Z", "note", "agent", {"status": None}),
        ("2026-03-02T09:07:00Z", "note", "agent", {"status": "pending"}),
    )

    assert view_of(clock(), case).changes == (
        StatusChange(0, "new", None),
        StatusChange(1, "2", "new"),
        StatusChange(5, "pending", "2"),
    )


def test_only_the_selected_events_set_the_status_from_the_named_field() -> None:
    case = record(
        "T1",
        ("2026-03-02T09:00:00Z", "state_changed", "system", {"state": "new"}),
        ("2026-03-02T09:01:00Z", "message", "agent", {"state": "pending"}),
        ("2026-03-02T09:02:00Z", "state_changed", "system", {"state": "active", "status": "x"}),
    )
    case_clock = clock(status={"field": "state", "events": {"type": "state_changed"}})

    assert [(c.event, c.status) for c in view_of(case_clock, case).changes] == [
        (0, "new"),
        (2, "active"),
    ]


def test_statuses_are_not_read_when_nothing_needs_them() -> None:
    case = record("T1", ("2026-03-02T09:00:00Z", "opened", "customer", {"status": "new"}))

    assert view_of(clock(reads_reopens=False), case).changes == ()


# ---------------------------------------------------------------------------------------------
# pauses, on the business clock and on the calendar
# ---------------------------------------------------------------------------------------------

#: Opened Friday 6 March 15:00, waiting on the customer from 16:00 until Monday 10:00,
#: resolved Monday 12:00 (all GMT, so London time too).
PAUSED_OVER_A_WEEKEND = record(
    "T1",
    ("2026-03-06T15:00:00Z", "opened", "customer", {"status": "new"}),
    ("2026-03-06T16:00:00Z", "message", "agent", {"status": "awaiting_customer"}),
    ("2026-03-09T10:00:00Z", "message", "customer", {"status": "active"}),
    ("2026-03-09T12:00:00Z", "resolved", "agent", {"status": "resolved"}),
)


def test_a_pause_across_closing_time_and_a_weekend_counts_only_open_unpaused_hours() -> None:
    case_clock = clock(schedule="office", pause={"while": ["awaiting_customer"]})
    view = view_of(case_clock, PAUSED_OVER_A_WEEKEND)
    opened, resolved = at("2026-03-06T15:00:00Z"), at("2026-03-09T12:00:00Z")

    measured = case_clock.measure(view, opened, resolved)

    # Friday 15:00-16:00 and Monday 10:00-12:00; Friday 16:00-17:00 and Monday 09:00-10:00
    # were open hours spent waiting on the customer.
    assert measured.seconds == 3 * HOUR
    assert [(s.kind, s.seconds / HOUR) for s in measured.segments] == [
        ("counted", 1),
        ("paused", 1),
        ("outside_hours", 64),
        ("paused", 1),
        ("counted", 2),
    ]


def test_on_the_calendar_a_pause_takes_out_all_of_its_time() -> None:
    case_clock = clock(pause={"while": "awaiting_customer"})
    view = view_of(case_clock, PAUSED_OVER_A_WEEKEND)

    measured = case_clock.measure(view, at("2026-03-06T15:00:00Z"), at("2026-03-09T12:00:00Z"))

    # 69 hours on the calendar, 66 of them waiting on the customer.
    assert measured.seconds == 3 * HOUR


def test_a_pause_still_running_at_the_last_event_runs_to_the_end_of_the_span() -> None:
    case_clock = clock(pause={"while": ["awaiting_customer"]})
    view = view_of(case_clock, PAUSED_OVER_A_WEEKEND, as_of=at("2026-03-07T00:00:00Z"))

    assert [(p.event, p.status, p.end) for p in view.pauses] == [(1, "awaiting_customer", None)]
    measured = case_clock.measure(view, at("2026-03-06T15:00:00Z"), at("2026-03-07T00:00:00Z"))
    assert measured.seconds == 1 * HOUR


def test_a_numeric_status_pauses_however_the_export_wrote_the_number() -> None:
    case = record(
        "T1",
        ("2026-03-02T09:00:00Z", "opened", "customer", {"status": 1.0}),
        ("2026-03-02T10:00:00Z", "note", "agent", {"status": 2.0}),
        ("2026-03-02T11:00:00Z", "note", "agent", {"status": "3"}),
    )
    case_clock = clock(pause={"while": [2]})
    view = view_of(case_clock, case)

    assert [(p.start, p.end) for p in view.pauses] == [
        (at("2026-03-02T10:00:00Z"), at("2026-03-02T11:00:00Z"))
    ]
    assert case_clock.measure(view, case.events[0].at, case.events[2].at).seconds == HOUR


def test_the_evidence_shows_the_summary_the_pauses_and_every_segment() -> None:
    case_clock = clock(schedule="office", pause={"while": ["awaiting_customer"]})
    view = view_of(case_clock, PAUSED_OVER_A_WEEKEND)
    opened, resolved = at("2026-03-06T15:00:00Z"), at("2026-03-09T12:00:00Z")
    measured = case_clock.measure(view, opened, resolved)

    evidence = case_clock.evidence(view, measured, opened, resolved)

    summary, pause, *segments = evidence
    assert (summary.kind, summary.label, summary.at, summary.until) == (
        "note",
        "clock",
        opened,
        resolved,
    )
    assert summary.detail == (
        "2d21h on the calendar, 3h counted (business time on office (Europe/London)): "
        "2h paused, 2d16h outside_hours"
    )
    assert (pause.kind, pause.label, pause.event_index, pause.detail) == (
        "event",
        "pause",
        1,
        "status awaiting_customer",
    )
    assert [(s.kind, s.label) for s in segments] == [
        ("segment", "counted"),
        ("segment", "paused"),
        ("segment", "outside_hours"),
        ("segment", "paused"),
        ("segment", "counted"),
    ]
    without_pauses = case_clock.evidence(view, measured, opened, resolved, show_pauses=False)
    assert [piece.label for piece in without_pauses] == [
        "clock",
        *(s.label for s in segments),
    ]


def test_without_a_zone_of_its_own_the_evidence_reads_in_the_records_offset() -> None:
    case = record(
        "T1",
        ("2026-03-02T09:00:00+02:00", "opened", "customer"),
        ("2026-03-02T11:00:00+02:00", "resolved", "agent"),
    )
    case_clock = clock()
    view = view_of(case_clock, case)
    measured = case_clock.measure(view, case.events[0].at, case.events[1].at)

    (segment,) = case_clock.evidence(view, measured, case.events[0].at, case.events[1].at)[1:]

    assert segment.at is not None
    assert segment.at.isoformat() == "2026-03-02T09:00:00+02:00"
    assert case_clock.describe(view) == "calendar time"


# ---------------------------------------------------------------------------------------------
# the record's own time zone
# ---------------------------------------------------------------------------------------------


def test_a_schedule_without_a_zone_runs_in_the_zone_the_record_names() -> None:
    case = record(
        "T1",
        ("2026-03-02T13:00:00Z", "opened", "customer"),  # 08:00 in New York (EST, UTC-5)
        ("2026-03-02T16:00:00Z", "resolved", "agent"),  # 11:00 in New York
        tz="America/New_York",
    )
    case_clock = clock(schedule="local", timezone_attribute="tz")
    view = view_of(case_clock, case)

    assert view.zone == "America/New_York"
    assert case_clock.describe(view) == "business time on local (America/New_York)"
    # 09:00-11:00 New York time; the hour before nine is outside hours.
    assert case_clock.measure(view, case.events[0].at, case.events[1].at).seconds == 2 * HOUR


@pytest.mark.parametrize(
    ("zone", "outcome", "words"),
    [(None, None, "has no 'tz' attribute"), ("Mars/Base", "error", "not a known IANA time zone")],
)
def test_a_record_whose_zone_cannot_be_read_says_why(
    zone: str | None, outcome: str | None, words: str
) -> None:
    attributes = {"tz": zone} if zone is not None else {}
    case = record("T1", ("2026-03-02T13:00:00Z", "opened", "customer"), **attributes)

    result = clock(schedule="local", timezone_attribute="tz").view(case, None)

    assert isinstance(result, Measurement)
    assert (result.value, result.outcome) == (None, outcome)
    assert words in result.note


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"timezone_attribute": "tz"}, "timezone_attribute chooses the zone a schedule runs in"),
        (
            {"schedule": "office", "timezone_attribute": "tz"},
            "schedule 'office' has its own time zone (Europe/London)",
        ),
        ({"schedule": "ofice"}, "unknown schedule 'ofice'; known schedules: local, office"),
    ],
)
def test_a_clock_that_cannot_work_is_refused_when_the_rule_compiles(
    params: dict[str, Any], error: str
) -> None:
    with pytest.raises(ValueError, match=error.replace("(", r"\(").replace(")", r"\)")):
        clock(**params)


# ---------------------------------------------------------------------------------------------
# pauses the record states outright
# ---------------------------------------------------------------------------------------------


def _stated(*middle: tuple[str, str, str, dict[str, Any]]) -> Record:
    """Opened Monday 2 March 2026 at 09:00Z, resolved at 14:00Z (5h), ``middle`` between."""
    return record(
        "T1",
        ("2026-03-02T09:00:00Z", "opened", "customer"),
        *middle,
        ("2026-03-02T14:00:00Z", "resolved", "agent"),
    )


def _counted(case_clock: CaseClock, case: Record) -> float:
    view = view_of(case_clock, case)
    return case_clock.measure(view, view.events[0].at, view.events[-1].at).seconds


def test_an_event_can_state_a_pause_until_a_moment() -> None:
    case_clock = clock(pause={"until_field": "paused_until"})
    case = _stated(
        ("2026-03-02T10:00:00Z", "note", "agent", {"paused_until": "2026-03-02T12:00:00Z"})
    )

    view = view_of(case_clock, case)

    assert [(p.start, p.end, p.event, p.stated) for p in view.pauses] == [
        (at("2026-03-02T10:00:00Z"), at("2026-03-02T12:00:00Z"), 1, True)
    ]
    assert _counted(case_clock, case) == 3 * HOUR
    measured = case_clock.measure(view, view.events[0].at, view.events[-1].at)
    pause = next(
        e
        for e in case_clock.evidence(view, measured, view.events[0].at, view.events[-1].at)
        if e.label == "pause"
    )
    assert pause.detail == "stated by paused_until"


def test_overlapping_stated_pauses_are_merged_into_one() -> None:
    case_clock = clock(pause={"until_field": "paused_until"})
    case = _stated(
        ("2026-03-02T10:00:00Z", "note", "agent", {"paused_until": "2026-03-02T12:00:00Z"}),
        ("2026-03-02T11:00:00Z", "note", "agent", {"paused_until": "2026-03-02T13:00:00Z"}),
        ("2026-03-02T11:30:00Z", "note", "agent", {"paused_until": "2026-03-02T11:45:00Z"}),
    )

    view = view_of(case_clock, case)

    assert [(p.start, p.end) for p in view.pauses] == [
        (at("2026-03-02T10:00:00Z"), at("2026-03-02T13:00:00Z"))
    ]
    assert _counted(case_clock, case) == 2 * HOUR


def test_a_stated_pause_may_say_when_it_started() -> None:
    case_clock = clock(pause={"until_field": "hold_until", "from_field": "hold_from"})
    case = _stated(
        (
            "2026-03-02T13:00:00Z",
            "note",
            "agent",
            {"hold_from": "2026-03-02T10:00:00+01:00", "hold_until": "2026-03-02T11:00:00Z"},
        )
    )

    # 09:00Z-11:00Z on hold (10:00+01:00 is 09:00Z): 3h of 5h count.
    assert _counted(case_clock, case) == 3 * HOUR


def test_a_stated_pause_and_a_status_pause_that_overlap_count_once() -> None:
    case_clock = clock(pause={"while": ["awaiting_customer"], "until_field": "paused_until"})
    case = _stated(
        ("2026-03-02T10:00:00Z", "note", "agent", {"status": "awaiting_customer"}),
        ("2026-03-02T11:00:00Z", "note", "agent", {"paused_until": "2026-03-02T13:00:00Z"}),
        ("2026-03-02T12:00:00Z", "note", "customer", {"status": "open"}),
    )

    # paused 10:00-12:00 by status and 11:00-13:00 as stated: 10:00-13:00, so 2h count.
    assert _counted(case_clock, case) == 2 * HOUR


@pytest.mark.parametrize(
    "until",
    ["soon", "2026-03-02T12:00:00", "2026-03-02T09:30:00Z", "9999-12-31T00:00:00Z", 42, ""],
)
def test_a_stated_pause_that_cannot_be_read_pauses_nothing(until: Any) -> None:
    case_clock = clock(pause={"until_field": "paused_until"})
    case = _stated(("2026-03-02T10:00:00Z", "note", "agent", {"paused_until": until}))

    assert view_of(case_clock, case).pauses == ()
    assert _counted(case_clock, case) == 5 * HOUR


def test_a_stated_pause_needs_its_end_field() -> None:
    with pytest.raises(ValueError, match=r"pause\.until_field, where it ends, is missing"):
        clock(pause={"from_field": "hold_from"})


# ---------------------------------------------------------------------------------------------
# a schedule chosen by a record attribute
# ---------------------------------------------------------------------------------------------

#: Weekdays 09:00-17:00 in London (UTC+0 in early March) and in Tokyo (UTC+9).
REGIONAL = CompileContext(
    "standard",
    "rule",
    {
        "emea": OFFICE,
        "apac": parse_schedule(
            "apac", {"timezone": "Asia/Tokyo", "hours": {"mon-fri": "09:00-17:00"}}
        ),
        "local": LOCAL,
    },
)
BY_REGION = {
    "schedule_attribute": "region",
    "schedules": {"EMEA": "emea", "APAC": "apac", 7: "apac"},
}


def _seconds_by_region(params: dict[str, Any], **attributes: Any) -> float | Measurement:
    """Opened Monday 2 March 2026 at 08:00Z, resolved at 12:00Z, in a region."""
    case_clock = CaseClock.compile(params, REGIONAL, reads_reopens=False)
    case = record(
        "T1",
        ("2026-03-02T08:00:00Z", "opened", "customer"),
        ("2026-03-02T12:00:00Z", "resolved", "agent"),
        **attributes,
    )
    view = case_clock.view(case, None)
    if isinstance(view, Measurement):
        return view
    return case_clock.measure(view, view.events[0].at, view.events[1].at).seconds


def test_a_record_attribute_chooses_the_schedule() -> None:
    # London counts 09:00-12:00, 3h; in Tokyo 08:00Z-12:00Z is 17:00-21:00, after hours.
    assert _seconds_by_region(BY_REGION, region="EMEA") == 3 * HOUR
    assert _seconds_by_region(BY_REGION, region="APAC") == 0
    # values compare as keys: spaces trimmed, 7 and "7" are one value
    assert _seconds_by_region(BY_REGION, region=" EMEA ") == 3 * HOUR
    assert _seconds_by_region(BY_REGION, region="7") == 0


def test_the_chosen_schedule_is_named_in_the_evidence() -> None:
    case_clock = CaseClock.compile(BY_REGION, REGIONAL, reads_reopens=False)
    case = record("T1", ("2026-03-02T08:00:00Z", "opened", "customer"), region="APAC")
    view = view_of(case_clock, case)

    assert case_clock.describe(view) == "business time on apac (Asia/Tokyo)"


def test_an_unlisted_or_missing_value_runs_on_the_fallback_schedule() -> None:
    with_fallback = {**BY_REGION, "schedule": "emea"}

    assert _seconds_by_region(with_fallback, region="LATAM") == 3 * HOUR
    assert _seconds_by_region(with_fallback) == 3 * HOUR
    assert _seconds_by_region(with_fallback, region="APAC") == 0


def test_without_a_fallback_an_unlisted_value_is_not_judged_and_says_why() -> None:
    unlisted = _seconds_by_region(BY_REGION, region="LATAM")
    missing = _seconds_by_region(BY_REGION)

    assert isinstance(unlisted, Measurement)
    assert (unlisted.value, unlisted.outcome) == (None, None)  # not applicable
    assert unlisted.note == (
        "the record's 'region' attribute is 'LATAM', which chooses no schedule (schedules "
        "are listed for 7, APAC, EMEA), and the rule names no schedule for the others"
    )
    assert isinstance(missing, Measurement)
    assert (missing.value, missing.outcome) == (None, None)
    assert "has no 'region' attribute to choose its schedule by" in (missing.note or "")


def test_a_chosen_schedule_without_a_zone_runs_in_the_records_zone() -> None:
    params = {
        "schedule_attribute": "team",
        "schedules": {"night": "local"},
        "timezone_attribute": "tz",
    }

    assert _seconds_by_region(params, team="night", tz="Asia/Tokyo") == 0
    assert _seconds_by_region(params, team="night", tz="Europe/London") == 3 * HOUR


# ---------------------------------------------------------------------------------------------
# reopens: restart and continue
# ---------------------------------------------------------------------------------------------

#: Opened 09:00, resolved 10:00, reopened 12:00 (an event that also leaves the resolved
#: status), resolved again 13:00.
REOPENED = record(
    "T1",
    ("2026-03-02T09:00:00Z", "opened", "customer", {"status": "new"}),
    ("2026-03-02T10:00:00Z", "resolved", "agent", {"status": "resolved"}),
    ("2026-03-02T12:00:00Z", "reopened", "customer", {"status": "active"}),
    ("2026-03-02T12:30:00Z", "message", "agent"),
    ("2026-03-02T13:00:00Z", "resolved", "agent", {"status": "resolved"}),
)


def test_an_event_that_both_reopens_and_leaves_a_resolved_status_is_one_reopen() -> None:
    view = view_of(clock(), REOPENED)

    assert view.reopens == (2,)
    assert clock().resolves(view) == {1, 4}


def test_a_reopen_restarts_the_clock_or_continues_it_without_the_resolved_stretch() -> None:
    case_clock = clock()
    view = view_of(case_clock, REOPENED)
    is_resolved = compile_selector({"type": "resolved"})
    (reopen,) = view.reopens
    events = view.events

    restart_stop = view.find(is_resolved, after=reopen)
    assert restart_stop == 4
    restarted = case_clock.measure(view, events[reopen].at, events[restart_stop].at)
    resolved_stretch = (events[1].at, events[reopen].at)
    continued = case_clock.measure(view, events[0].at, events[4].at, [resolved_stretch])

    assert restarted.seconds == 1 * HOUR  # 12:00 → 13:00
    assert continued.seconds == 2 * HOUR  # 09:00 → 13:00, less 10:00 → 12:00


def test_a_change_away_from_a_resolved_status_reopens_without_a_reopen_event() -> None:
    case = record(
        "T1",
        ("2026-03-02T09:00:00Z", "opened", "customer", {"state": 1}),
        ("2026-03-02T10:00:00Z", "note", "agent", {"state": 6.0}),
        ("2026-03-02T11:00:00Z", "note", "agent", {"state": 7}),
        ("2026-03-02T12:00:00Z", "note", "customer", {"state": 2}),
    )
    case_clock = clock(status={"field": "state"}, reopen={"resolved_statuses": [6, "7"]})

    # 6 → 7 moves between resolved statuses; 7 → 2 leaves them.
    assert view_of(case_clock, case).reopens == (3,)


def test_reopens_are_not_read_unless_the_check_asks_for_them() -> None:
    case_clock = clock(reads_reopens=False)
    view = view_of(case_clock, REOPENED)

    assert view.reopens == ()
    with pytest.raises(ValueError, match="reads_reopens"):
        case_clock.open_periods(view, 0, compile_selector({"type": "closed"}))


# ---------------------------------------------------------------------------------------------
# open periods and waits, as of a moment
# ---------------------------------------------------------------------------------------------

#: Opened 09:00, answered 10:00, resolved 11:00, reopened 14:00, answered 15:00.
OPENED_TWICE = record(
    "T1",
    ("2026-03-02T09:00:00Z", "opened", "customer"),
    ("2026-03-02T10:00:00Z", "message", "agent"),
    ("2026-03-02T11:00:00Z", "resolved", "agent"),
    ("2026-03-02T14:00:00Z", "reopened", "customer"),
    ("2026-03-02T15:00:00Z", "message", "agent"),
)
IS_CLOSING = compile_selector({"type": ["resolved", "closed"]})
IS_AGENT_MESSAGE = compile_selector({"type": "message", "actor": "agent"})


@pytest.mark.parametrize(
    ("as_of", "periods"),
    [
        (None, [OpenPeriod(0, 2), OpenPeriod(3, None)]),
        ("2026-03-02T10:30:00Z", [OpenPeriod(0, None)]),
        ("2026-03-02T12:00:00Z", [OpenPeriod(0, 2)]),
        # An event stamped exactly at the moment has happened.
        ("2026-03-02T14:00:00Z", [OpenPeriod(0, 2), OpenPeriod(3, None)]),
    ],
)
def test_open_periods_run_from_the_opening_and_each_reopen_to_the_next_close(
    as_of: str | None, periods: list[OpenPeriod]
) -> None:
    case_clock = clock()
    view = view_of(case_clock, OPENED_TWICE, at(as_of) if as_of else None)

    assert list(case_clock.open_periods(view, 0, IS_CLOSING)) == periods


def test_entering_a_resolved_status_closes_an_open_period_too() -> None:
    case = record(
        "T1",
        ("2026-03-02T09:00:00Z", "opened", "customer"),
        ("2026-03-02T10:00:00Z", "note", "agent", {"status": "Done"}),
        ("2026-03-02T11:00:00Z", "note", "customer", {"status": "Open"}),
    )
    case_clock = clock(reopen={"resolved_statuses": ["Done"]})
    view = view_of(case_clock, case)

    assert case_clock.open_periods(view, 0, IS_CLOSING) == (OpenPeriod(0, 1), OpenPeriod(2, None))


def test_waits_run_between_the_events_that_end_them_inside_each_open_period() -> None:
    case_clock = clock()
    view = view_of(case_clock, OPENED_TWICE)
    periods = case_clock.open_periods(view, 0, IS_CLOSING)

    assert list(view.waits(periods, IS_AGENT_MESSAGE)) == [
        Wait(0, 1),  # opened → first answer
        Wait(1, 2),  # answer → resolved
        Wait(3, 4),  # reopened → answer
        Wait(4, None),  # still open after the last answer
    ]


def test_find_looks_only_at_the_events_considered() -> None:
    case_clock = clock()
    early = view_of(case_clock, OPENED_TWICE, at("2026-03-02T12:00:00Z"))

    assert early.considered == 3
    assert early.find(IS_AGENT_MESSAGE, "last") == 1
    assert view_of(case_clock, OPENED_TWICE).find(IS_AGENT_MESSAGE, "last") == 4
    assert early.find(compile_selector({"type": "reopened"})) is None


def test_known_events_counts_what_had_happened_by_the_moment() -> None:
    assert known_events(OPENED_TWICE, None) == 5
    assert known_events(OPENED_TWICE, at("2026-03-02T08:59:59Z")) == 0
    assert known_events(OPENED_TWICE, at("2026-03-02T11:00:00Z")) == 3


# ---------------------------------------------------------------------------------------------
# compiled once: nothing is parsed per record
# ---------------------------------------------------------------------------------------------


def test_reading_and_measuring_a_record_compiles_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    case_clock = clock(
        schedule="office",
        pause={"while": ["awaiting_customer"]},
        reopen={"resolved_statuses": ["resolved"]},
    )

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled or parsed while reading a record")

    monkeypatch.setattr("rulecore.caseclock.compile_selector", refuse)
    monkeypatch.setattr(CompileContext, "schedule", refuse)
    view = view_of(case_clock, PAUSED_OVER_A_WEEKEND)
    periods = case_clock.open_periods(view, 0, IS_CLOSING)
    measured = case_clock.measure(view, view.events[0].at, view.events[-1].at)

    assert periods == (OpenPeriod(0, 3),)
    assert measured.seconds == 3 * HOUR


def test_rules_with_the_same_clock_share_one_and_read_a_record_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    params = {"schedule": "office", "pause": {"while": ["awaiting_customer"]}}
    shared = clock(**params)
    assert clock(pause={"while": ["awaiting_customer"]}, schedule="office") is shared
    assert clock(schedule="office", pause={"while": ["pending"]}) is not shared
    assert clock(reads_reopens=False, **params) is not shared

    view = view_of(shared, PAUSED_OVER_A_WEEKEND)
    monkeypatch.setattr(
        "rulecore.caseclock.StatusRule.changes",
        lambda *args: pytest.fail("the record's statuses were read again"),
    )
    assert view_of(shared, PAUSED_OVER_A_WEEKEND) is view
    monkeypatch.undo()
    assert view_of(shared, PAUSED_OVER_A_WEEKEND, at("2026-03-07T00:00:00Z")) is not view


def test_one_pass_finds_the_changes_and_reopens_the_separate_readers_find() -> None:
    rng = random.Random("statuses and reopens")
    case_clock = clock(
        status={"events": {"actor": "agent"}}, reopen={"resolved_statuses": ["resolved", 3]}
    )
    for number in range(300):
        events = [
            (
                f"2026-03-02T09:{minute:02d}:00Z",
                rng.choice(("opened", "note", "reopened", "resolved")),
                rng.choice(("agent", "customer")),
                {"status": rng.choice((None, "", "new", "resolved", 3, 3.0, "active"))},
            )
            for minute in range(rng.randrange(12))
        ]
        case = record(f"T{number}", *events)
        considered = rng.randrange(len(case.events) + 1)
        changes = case_clock.status.changes(case.events, considered)
        reopens = case_clock.reopen.reopening_events(case.events, considered, changes)
        assert case_clock._changes_and_reopens(case.events, considered) == (changes, reopens)


def test_seconds_on_epoch_times_is_what_measure_counts() -> None:
    case_clock = clock(schedule="office", pause={"while": ["awaiting_customer"]})
    view = view_of(case_clock, PAUSED_OVER_A_WEEKEND, as_of=at("2026-03-09T09:30:00Z"))
    assert view.pause_times == ((at("2026-03-06T16:00:00Z").timestamp(), None),)
    opened, until = at("2026-03-06T15:00:00Z"), at("2026-03-09T09:30:00Z")
    extra = [(at("2026-03-06T15:30:00Z"), at("2026-03-06T15:45:00Z"))]

    measured = case_clock.measure(view, opened, until, extra)
    seconds = case_clock.seconds(
        view,
        opened.timestamp(),
        until.timestamp(),
        [(a.timestamp(), b.timestamp()) for a, b in extra],
    )

    # Friday 15:00-16:00 less the extra quarter hour; the pause still running covers Monday
    assert seconds == measured.seconds == 0.75 * HOUR


def test_measure_leaves_the_segments_until_the_evidence_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case_clock = clock(schedule="office", pause={"while": ["awaiting_customer"]})
    view = view_of(case_clock, PAUSED_OVER_A_WEEKEND)
    opened, resolved = at("2026-03-06T15:00:00Z"), at("2026-03-09T12:00:00Z")
    monkeypatch.setattr(
        "rulecore.caseclock.tile_segments", lambda *args: pytest.fail("segments walked unasked")
    )
    measured = case_clock.measure(view, opened, resolved)
    assert measured.seconds == 3 * HOUR
    monkeypatch.undo()
    assert [segment.kind for segment in measured.segments] == [
        "counted",
        "paused",
        "outside_hours",
        "paused",
        "counted",
    ]


# ---------------------------------------------------------------------------------------------
# the params schema
# ---------------------------------------------------------------------------------------------

CLOCK_PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": CASE_CLOCK_PROPERTIES,
    "$defs": SELECTOR_SCHEMA["$defs"],
}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"schedule": "office", "timezone_attribute": "tz"},
        {"pause": {"while": "pending"}},
        {"pause": {"while": ["pending", 2]}},
        {"status": {"field": "state", "events": {"type": ["created", "updated"]}}},
        {"reopen": {"events": {"type": "reopened"}, "resolved_statuses": [6, "Closed"]}},
    ],
)
def test_the_schema_takes_the_clock_params_as_standards_write_them(params: Any) -> None:
    jsonschema.Draft202012Validator(CLOCK_PARAMS_SCHEMA).validate(params)


@pytest.mark.parametrize(
    "params",
    [
        {"schedule": ""},
        {"pause": {}},
        {"pause": {"while": []}},
        {"pause": {"while": [["pending"]]}},
        {"pause": {"while": ["pending"], "until": ["active"]}},
        {"status": {"colour": "state"}},
        {"reopen": {"events": {"type": []}}},
        {"reopen": {"resolved_statuses": {"resolved": True}}},
    ],
)
def test_the_schema_refuses_clock_params_that_mean_nothing(params: Any) -> None:
    assert not jsonschema.Draft202012Validator(CLOCK_PARAMS_SCHEMA).is_valid(params)


def _properties(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    for name, spec in schema.get("properties", {}).items():
        yield f"{path}{name}", spec
        yield from _properties(spec, f"{path}{name}.")


def test_every_clock_param_is_described_for_explain() -> None:
    undescribed = [
        path
        for path, spec in _properties(CLOCK_PARAMS_SCHEMA)
        if not spec.get("description") and path.split(".")[-1] not in ("type", "actor", "where")
    ]

    assert not undescribed


# ---------------------------------------------------------------------------------------------
# owner changes
# ---------------------------------------------------------------------------------------------


def test_owner_changes_start_with_the_assignment_and_skip_the_same_owner_named_again() -> None:
    case = record(
        "T1",
        ("2026-03-02T09:00:00Z", "opened", "customer"),
        ("2026-03-02T09:01:00Z", "assigned", "system", {"team": "billing"}),
        ("2026-03-02T09:02:00Z", "message", "agent", {"team": "billing"}),
        ("2026-03-02T09:03:00Z", "assigned", "system", {"team": "returns"}),
        ("2026-03-02T09:04:00Z", "assigned", "system", {"team": "billing"}),
    )

    changes = list(owner_changes(case, "team"))

    assert changes == [
        OwnerChange(1, None, "billing"),
        OwnerChange(3, "billing", "returns"),
        OwnerChange(4, "returns", "billing"),
    ]
    assert [change.is_handoff for change in changes] == [False, True, True]


def test_only_the_events_that_carry_assignments_are_read() -> None:
    case = record(
        "T1",
        ("2026-03-02T09:00:00Z", "assigned", "system", {"team": "billing"}),
        ("2026-03-02T09:01:00Z", "message", "agent", {"team": "returns"}),
        ("2026-03-02T09:02:00Z", "assigned", "system", {"team": "accounts"}),
    )

    changes = owner_changes(case, "team", compile_selector({"type": "assigned"}))

    assert [(c.event_index, c.before, c.after) for c in changes] == [
        (0, None, "billing"),
        (2, "billing", "accounts"),
    ]


def test_owners_compare_as_keys_and_a_blank_names_no_owner() -> None:
    case = record(
        "T1",
        ("2026-03-02T09:00:00Z", "assigned", "system", {"team": 2}),
        ("2026-03-02T09:01:00Z", "assigned", "system", {"team": 2.0}),
        ("2026-03-02T09:02:00Z", "assigned", "system", {"team": " 2 "}),
        ("2026-03-02T09:03:00Z", "assigned", "system", {"team": ""}),
        ("2026-03-02T09:04:00Z", "assigned", "system", {"team": None}),
        ("2026-03-02T09:05:00Z", "assigned", "system", {"team": "Billing"}),
        ("2026-03-02T09:06:00Z", "assigned", "system", {"team": "billing"}),
    )

    assert [(c.before, c.after) for c in owner_changes(case, "team")] == [
        (None, "2"),
        ("2", "Billing"),
        ("Billing", "billing"),
    ]


def test_a_timeline_that_never_names_an_owner_has_no_changes() -> None:
    case = record("T1", ("2026-03-02T09:00:00Z", "opened", "customer", {"team": ""}))

    assert list(owner_changes(case, "team")) == []


def test_every_dimension_reads_a_handoff_the_same_way() -> None:
    engine = make_engine(
        """
        id: handoffs-everywhere
        version: 1
        title: One reading of a handoff
        dimension: flow
        rules:
          - {id: handoffs, check: handoffs}
          - id: fcr
            check: first_contact_resolution
            params: {breaks: [handoff]}
        """
    )
    # 2 and 2.0 are one team, so the case changed hands once: 2 → 3.
    case = record(
        "T1",
        ("2026-03-02T09:00:00Z", "opened", "customer", {"team": 2}),
        ("2026-03-02T09:05:00Z", "message", "agent", {"team": 2.0}),
        ("2026-03-02T09:10:00Z", "message", "agent", {"team": "3"}),
        ("2026-03-02T09:20:00Z", "resolved", "agent"),
    )

    measured = {finding.rule: finding.measured for finding in findings(engine, case)}

    assert measured == {"handoffs": 1, "fcr": 1}


def test_the_case_clock_and_owner_changes_are_public() -> None:
    for name in ("CaseClock", "CaseView", "CASE_CLOCK_PROPERTIES", "owner_changes", "field_key"):
        assert name in rulecore.__all__
