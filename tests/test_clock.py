"""The business-hours clock, against cases worked out by hand.

Dates used below (2026): Mon 2 Mar, Fri 6 Mar, Mon 9 Mar; Mon 5 Jan; Thu 24 Dec (Christmas is
a Friday, Boxing Day a Saturday, observed Mon 28 Dec in England); Thu 2 Jul (4 July is a
Saturday, observed Fri 3 Jul in the US).  Clocks change on Sun 29 Mar and Sun 25 Oct in
London, and on Sun 8 Mar and Sun 1 Nov in New York.
"""

from __future__ import annotations

import json
import random
import re
import textwrap
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import jsonschema
import pytest
import yaml

import rulecore.clock as clock_module
from rulecore import collect, get_plugin_manager
from rulecore._standards import compile_schedules, load_documents, load_standards
from rulecore.clock import (
    CALENDAR,
    COUNTED,
    HOLIDAY,
    OUTSIDE_HOURS,
    PAUSED,
    SEGMENT_KINDS,
    BusinessClock,
    Measured,
    Schedule,
    Segment,
    add_business_seconds,
    clock_for,
    measure,
    parse_schedule,
)

REPO = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO / "rulecore" / "schemas" / "schedule.schema.json"
DOCS_PATH = REPO / "docs" / "clock.md"

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600

OFFICE = parse_schedule("office", {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}})
OFFICE_WITH_HOLIDAY = parse_schedule(
    "office_with_holiday",
    {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}, "holidays": {"dates": ["2026-03-04"]}},
)
SPLIT_SATURDAY = parse_schedule(
    "split_saturday", {"timezone": "UTC", "hours": {"sat": ["10:00-12:00", "13:00-15:00"]}}
)
ENGLAND_OFFICE = parse_schedule(
    "england_office",
    {
        "timezone": "Europe/London",
        "hours": {"mon-fri": "09:00-17:00"},
        "holidays": {"country": "GB", "subdivision": "ENG", "years": [2026]},
    },
)
US_OFFICE = parse_schedule(
    "us_office",
    {
        "timezone": "America/New_York",
        "hours": {"mon-fri": "09:00-17:00"},
        "holidays": {"country": "US", "years": [2026]},
    },
)
LONDON_DAILY = parse_schedule(
    "london_daily", {"timezone": "Europe/London", "hours": {"daily": "09:00-17:00"}}
)
NEW_YORK_DAILY = parse_schedule(
    "new_york_daily", {"timezone": "America/New_York", "hours": {"daily": "09:00-17:00"}}
)
LONDON_24X7 = Schedule.calendar("Europe/London")
NEW_YORK_24X7 = Schedule.calendar("America/New_York")
# open all day, but a holiday makes the clock walk the days instead of taking the 24x7 shortcut
LONDON_ALL_DAY_WALKED = Schedule(
    "london_walked", "Europe/London", LONDON_24X7.weekly, frozenset({date(2026, 1, 1)})
)
NEW_YORK_ALL_DAY_WALKED = Schedule(
    "new_york_walked", "America/New_York", NEW_YORK_24X7.weekly, frozenset({date(2026, 1, 1)})
)
ZONELESS_OFFICE = parse_schedule("zoneless_office", {"hours": {"mon-fri": "09:00-17:00"}})


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def london(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)  # type: ignore[arg-type, misc]


def new_york(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK)  # type: ignore[arg-type, misc]


class Case(NamedTuple):
    start: datetime
    end: datetime
    schedule: Schedule | None
    pauses: Sequence[tuple[datetime, datetime]]
    tz: str | None
    expected_seconds: float


# fmt: off
CASES = {
    # 2 Mar 10:00 -> 3 Mar 12:30 is 24h + 2h30 = 26.5h
    "calendar time": Case(utc(2026, 3, 2, 10), utc(2026, 3, 3, 12, 30), None, (), None,
                          26.5 * HOUR),
    # 26.5h less a 1h pause = 25.5h
    "calendar time with a pause": Case(
        utc(2026, 3, 2, 10), utc(2026, 3, 3, 12, 30), None,
        [(utc(2026, 3, 2, 11), utc(2026, 3, 2, 12))], None, 25.5 * HOUR),
    # calendar time across London's spring-forward night: 00:00 GMT -> 00:00 BST is 23 real hours
    "calendar time across a clock change": Case(
        london(2026, 3, 29), london(2026, 3, 30), None, (), None, 23 * HOUR),
    # Mon 10:00 -> 12:30, all inside 09-17: 2.5h
    "same day inside hours": Case(utc(2026, 3, 2, 10), utc(2026, 3, 2, 12, 30), OFFICE, (), None,
                                  2.5 * HOUR),
    # Mon 07:00 -> 10:00: only 09:00-10:00 counts = 1h
    "start before opening": Case(utc(2026, 3, 2, 7), utc(2026, 3, 2, 10), OFFICE, (), None,
                                 1 * HOUR),
    # Mon 15:00 -> 19:00: only 15:00-17:00 counts = 2h
    "end after closing": Case(utc(2026, 3, 2, 15), utc(2026, 3, 2, 19), OFFICE, (), None,
                              2 * HOUR),
    # Fri 16:00-17:00 (1h) + Mon 09:00-10:00 (1h) = 2h
    "spans a weekend": Case(utc(2026, 3, 6, 16), utc(2026, 3, 9, 10), OFFICE, (), None,
                            2 * HOUR),
    # Sat 09:00 -> 16:00 with Sat 10-12 and 13-15 open: 2h + 2h = 4h
    "two windows in a day": Case(utc(2026, 3, 7, 9), utc(2026, 3, 7, 16), SPLIT_SATURDAY, (),
                                 None, 4 * HOUR),
    # Tue 16-17 (1h) + Wed 4 Mar is a holiday (0) + Thu 09-10 (1h) = 2h
    "explicit holiday": Case(utc(2026, 3, 3, 16), utc(2026, 3, 5, 10), OFFICE_WITH_HOLIDAY, (),
                             None, 2 * HOUR),
    # Thu 24 Dec 16-17 (1h) + Fri 25 Christmas + weekend + Mon 28 Boxing Day observed
    # + Tue 29 09-10 (1h) = 2h; London is on GMT in December
    "GB holidays from the holidays package": Case(
        london(2026, 12, 24, 16), london(2026, 12, 29, 10), ENGLAND_OFFICE, (), None, 2 * HOUR),
    # Thu 2 Jul 16-17 (1h) + Fri 3 Jul (Independence Day observed) + weekend + Mon 6 Jul 09-10
    # (1h) = 2h
    "US holidays from the holidays package": Case(
        new_york(2026, 7, 2, 16), new_york(2026, 7, 6, 10), US_OFFICE, (), None, 2 * HOUR),
    # Mon 09-17 (8h) less the pause 10:00-11:30 (1.5h) = 6.5h
    "pause inside hours": Case(
        utc(2026, 3, 2, 9), utc(2026, 3, 2, 17), OFFICE,
        [(utc(2026, 3, 2, 10), utc(2026, 3, 2, 11, 30))], None, 6.5 * HOUR),
    # Mon 15:00 -> Tue 12:00 is 2h Mon + 3h Tue = 5h open; the pause Mon 16:00 -> Tue 10:00
    # covers Mon 16-17 and Tue 09-10 of it (2h), so 3h count
    "pause across closing and opening": Case(
        utc(2026, 3, 2, 15), utc(2026, 3, 3, 12), OFFICE,
        [(utc(2026, 3, 2, 16), utc(2026, 3, 3, 10))], None, 3 * HOUR),
    # Mon 09-17 (8h); pauses, unsorted and overlapping, merge to 09:00-09:30 (the 08:00 start
    # is clipped), 10:00-12:00 and 16:30-17:00 (the 18:00 end is clipped): 3h paused, 5h count
    "overlapping unsorted pauses": Case(
        utc(2026, 3, 2, 9), utc(2026, 3, 2, 17), OFFICE,
        [(utc(2026, 3, 2, 11), utc(2026, 3, 2, 12)),
         (utc(2026, 3, 2, 10), utc(2026, 3, 2, 11, 30)),
         (utc(2026, 3, 2, 8), utc(2026, 3, 2, 9, 30)),
         (utc(2026, 3, 2, 16, 30), utc(2026, 3, 2, 18))],
        None, 5 * HOUR),
    # Fri 16:00 -> Mon 10:00 with a pause Fri 16:30 -> Mon 09:30: counted Fri 16:00-16:30 and
    # Mon 09:30-10:00 = 1h; only Fri 16:30-17 and Mon 09-09:30 are "paused"
    "pause over a weekend": Case(
        utc(2026, 3, 6, 16), utc(2026, 3, 9, 10), OFFICE,
        [(utc(2026, 3, 6, 16, 30), utc(2026, 3, 9, 9, 30))], None, 1 * HOUR),
    # 09:00-17:00 on London's spring-forward Sunday: 09:00 BST -> 17:00 BST = 8 real hours
    "London spring forward, business hours": Case(
        london(2026, 3, 29), london(2026, 3, 30), LONDON_DAILY, (), None, 8 * HOUR),
    # the fall-back Sunday: 09:00 GMT -> 17:00 GMT = 8 real hours
    "London fall back, business hours": Case(
        london(2026, 10, 25), london(2026, 10, 26), LONDON_DAILY, (), None, 8 * HOUR),
    "New York spring forward, business hours": Case(
        new_york(2026, 3, 8), new_york(2026, 3, 9), NEW_YORK_DAILY, (), None, 8 * HOUR),
    "New York fall back, business hours": Case(
        new_york(2026, 11, 1), new_york(2026, 11, 2), NEW_YORK_DAILY, (), None, 8 * HOUR),
    # Fri 27 Mar 16:00 GMT -> Mon 30 Mar 10:00 BST on weekdays 09-17: 1h + 1h = 2h
    "London weekend with a clock change": Case(
        london(2026, 3, 27, 16), london(2026, 3, 30, 10), ENGLAND_OFFICE, (), None, 2 * HOUR),
    # a 24h local day: 01:00 GMT jumps to 02:00 BST, so the day is 23 real hours
    "London spring forward, 24x7": Case(
        london(2026, 3, 29), london(2026, 3, 30), LONDON_24X7, (), None, 23 * HOUR),
    # 02:00 BST falls back to 01:00 GMT: 25 real hours
    "London fall back, 24x7": Case(
        london(2026, 10, 25), london(2026, 10, 26), LONDON_24X7, (), None, 25 * HOUR),
    "New York spring forward, 24x7": Case(
        new_york(2026, 3, 8), new_york(2026, 3, 9), NEW_YORK_24X7, (), None, 23 * HOUR),
    "New York fall back, 24x7": Case(
        new_york(2026, 11, 1), new_york(2026, 11, 2), NEW_YORK_24X7, (), None, 25 * HOUR),
    # the same four days, walked day by day: 23h, 25h, 23h, 25h
    "London spring forward, 24h days walked": Case(
        london(2026, 3, 29), london(2026, 3, 30), LONDON_ALL_DAY_WALKED, (), None, 23 * HOUR),
    "London fall back, 24h days walked": Case(
        london(2026, 10, 25), london(2026, 10, 26), LONDON_ALL_DAY_WALKED, (), None, 25 * HOUR),
    "New York spring forward, 24h days walked": Case(
        new_york(2026, 3, 8), new_york(2026, 3, 9), NEW_YORK_ALL_DAY_WALKED, (), None, 23 * HOUR),
    "New York fall back, 24h days walked": Case(
        new_york(2026, 11, 1), new_york(2026, 11, 2), NEW_YORK_ALL_DAY_WALKED, (), None,
        25 * HOUR),
    # New York office, January (EST = UTC-5). 15:00Z = 10:00 EST; 23:00+01:00 = 22:00Z =
    # 17:00 EST. Open 10:00-17:00 = 7h
    "times in other offsets than the schedule": Case(
        utc(2026, 1, 5, 15), datetime(2026, 1, 5, 23, tzinfo=timezone(timedelta(hours=1))),
        US_OFFICE, (), None, 7 * HOUR),
    "zero-length interval": Case(utc(2026, 3, 2, 10), utc(2026, 3, 2, 10), OFFICE, (), None, 0),
    # the schedule names no zone, so tz applies: 14:00Z-22:00Z is 09:00-17:00 EST = 8h
    "tz argument for a zoneless schedule": Case(
        utc(2026, 1, 5, 14), utc(2026, 1, 5, 22), ZONELESS_OFFICE, (), "America/New_York",
        8 * HOUR),
    # without tz the zoneless schedule runs in UTC: 14:00-17:00Z = 3h
    "zoneless schedule without tz is UTC": Case(
        utc(2026, 1, 5, 14), utc(2026, 1, 5, 22), ZONELESS_OFFICE, (), None, 3 * HOUR),
    # the schedule's own zone (UTC) beats tz: 14:00-17:00Z = 3h
    "tz ignored when the schedule has a zone": Case(
        utc(2026, 1, 5, 14), utc(2026, 1, 5, 22), OFFICE, (), "America/New_York", 3 * HOUR),
}
# fmt: on


def measure_case(case: Case) -> Measured:
    return measure(case.start, case.end, case.schedule, case.pauses, case.tz)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_counted_seconds_match_the_hand_worked_value(case: Case) -> None:
    assert measure_case(case).seconds == case.expected_seconds


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_segments_tile_the_span_exactly(case: Case) -> None:
    measured = measure_case(case)
    if case.start == case.end:
        assert measured.segments == ()
        return
    assert measured.segments[0].start == case.start
    assert measured.segments[-1].end == case.end
    for earlier, later in pairwise(measured.segments):
        assert earlier.end == later.start
        assert earlier.kind != later.kind, "adjacent segments of one kind should be merged"
    assert all(segment.seconds > 0 for segment in measured.segments)
    assert all(segment.kind in SEGMENT_KINDS for segment in measured.segments)
    # via UTC: Python subtracts same-zone datetimes by wall clock
    elapsed = case.end.astimezone(UTC) - case.start.astimezone(UTC)
    assert sum(segment.seconds for segment in measured.segments) == elapsed.total_seconds()
    counted = sum(s.seconds for s in measured.segments if s.kind == COUNTED)
    assert counted == measured.seconds


def kinds_and_hours(measured: Measured) -> list[tuple[str, float]]:
    return [(segment.kind, segment.seconds / HOUR) for segment in measured.segments]


def test_weekend_segments() -> None:
    measured = measure_case(CASES["spans a weekend"])
    assert measured.segments == (
        Segment(utc(2026, 3, 6, 16), utc(2026, 3, 6, 17), COUNTED),
        Segment(utc(2026, 3, 6, 17), utc(2026, 3, 9, 9), OUTSIDE_HOURS),
        Segment(utc(2026, 3, 9, 9), utc(2026, 3, 9, 10), COUNTED),
    )


def test_pause_across_a_boundary_is_paused_only_inside_hours() -> None:
    measured = measure_case(CASES["pause across closing and opening"])
    assert measured.segments == (
        Segment(utc(2026, 3, 2, 15), utc(2026, 3, 2, 16), COUNTED),
        Segment(utc(2026, 3, 2, 16), utc(2026, 3, 2, 17), PAUSED),
        Segment(utc(2026, 3, 2, 17), utc(2026, 3, 3, 9), OUTSIDE_HOURS),
        Segment(utc(2026, 3, 3, 9), utc(2026, 3, 3, 10), PAUSED),
        Segment(utc(2026, 3, 3, 10), utc(2026, 3, 3, 12), COUNTED),
    )


def test_pause_over_a_weekend_does_not_overstate_the_pause() -> None:
    measured = measure_case(CASES["pause over a weekend"])
    # Fri 16:30-17:00 and Mon 09:00-09:30 are paused; the 64 closed hours stay outside_hours
    assert kinds_and_hours(measured) == [
        (COUNTED, 0.5),
        (PAUSED, 0.5),
        (OUTSIDE_HOURS, 64),
        (PAUSED, 0.5),
        (COUNTED, 0.5),
    ]


def test_a_paused_holiday_is_reported_as_holiday() -> None:
    # Tue 16:00 -> Thu 10:00 paused throughout: Tue 16-17 and Thu 09-10 are paused, Wed is a
    # holiday, the closed nights are outside hours
    start, end = utc(2026, 3, 3, 16), utc(2026, 3, 5, 10)
    measured = measure(start, end, OFFICE_WITH_HOLIDAY, [(start, end)])
    assert measured.seconds == 0
    assert kinds_and_hours(measured) == [
        (PAUSED, 1),
        (OUTSIDE_HOURS, 7),
        (HOLIDAY, 24),
        (OUTSIDE_HOURS, 9),
        (PAUSED, 1),
    ]


def test_holiday_covers_the_whole_local_day() -> None:
    measured = measure_case(CASES["explicit holiday"])
    holiday = next(s for s in measured.segments if s.kind == HOLIDAY)
    assert (holiday.start, holiday.end) == (utc(2026, 3, 4), utc(2026, 3, 5))


def test_segments_are_in_the_schedule_zone() -> None:
    measured = measure_case(CASES["times in other offsets than the schedule"])
    assert [segment.start.tzinfo for segment in measured.segments] == [NEW_YORK]
    assert measured.segments[0].start.hour == 10


def test_london_spring_forward_segments_read_in_local_time() -> None:
    measured = measure_case(CASES["London spring forward, business hours"])
    assert [(s.start.isoformat(), s.kind) for s in measured.segments] == [
        ("2026-03-29T00:00:00+00:00", OUTSIDE_HOURS),
        ("2026-03-29T09:00:00+01:00", COUNTED),
        ("2026-03-29T17:00:00+01:00", OUTSIDE_HOURS),
    ]


@pytest.mark.parametrize(
    ("hours", "expected_hours"),
    [
        # New York skips 02:00-03:00 on 8 Mar: the window keeps only 03:00-03:30
        ("02:30-03:30", 0.5),
        # 01:30-02:00 EST then the clocks jump: 0.5h
        ("01:30-02:00", 0.5),
        # a window ending in the skipped hour closes at the jump: 01:00-02:00 EST = 1h
        ("01:00-02:30", 1),
    ],
)
def test_windows_lose_the_hour_the_clocks_skip(hours: str, expected_hours: float) -> None:
    schedule = parse_schedule("night", {"timezone": "America/New_York", "hours": {"daily": hours}})
    measured = measure(new_york(2026, 3, 8), new_york(2026, 3, 9), schedule)
    assert measured.seconds == expected_hours * HOUR


@pytest.mark.parametrize(
    ("hours", "expected_hours"),
    [
        # New York repeats 01:00-02:00 on 1 Nov: 01:30-02:00 EDT and 01:30-02:00 EST = 1h
        ("01:30-02:00", 1),
        # 00:00-01:30 EDT (1.5h) and 01:00-01:30 EST (0.5h) = 2h
        ("00:00-01:30", 2),
        # untouched by the change
        ("02:30-03:30", 1),
    ],
)
def test_windows_get_the_repeated_hour_twice(hours: str, expected_hours: float) -> None:
    schedule = parse_schedule("night", {"timezone": "America/New_York", "hours": {"daily": hours}})
    measured = measure(new_york(2026, 11, 1), new_york(2026, 11, 2), schedule)
    assert measured.seconds == expected_hours * HOUR


SANTIAGO = ZoneInfo("America/Santiago")


def test_midnight_skipped_by_the_clocks() -> None:
    # Santiago jumps from Sat 5 Sep 24:00 to Sun 6 Sep 01:00. Sunday is a holiday here, so
    # Saturday counts its 24h and the Sunday holiday runs from the jump: 23 real hours.
    schedule = Schedule(
        "santiago", "America/Santiago", LONDON_24X7.weekly, frozenset({date(2026, 9, 6)})
    )
    measured = measure(
        datetime(2026, 9, 5, tzinfo=SANTIAGO), datetime(2026, 9, 7, tzinfo=SANTIAGO), schedule
    )
    assert measured.seconds == 24 * HOUR
    assert kinds_and_hours(measured) == [(COUNTED, 24), (HOLIDAY, 23)]
    assert measured.segments[1].start.isoformat() == "2026-09-06T01:00:00-03:00"


def test_midnight_repeated_by_the_clocks() -> None:
    # Santiago goes back from Sun 5 Apr 00:00 to Sat 4 Apr 23:00, so Saturday has 25 hours:
    # a Saturday window 23:00-24:00 is open twice, 2 real hours
    schedule = parse_schedule(
        "late", {"timezone": "America/Santiago", "hours": {"sat": "23:00-24:00"}}
    )
    measured = measure(
        datetime(2026, 4, 4, tzinfo=SANTIAGO), datetime(2026, 4, 6, tzinfo=SANTIAGO), schedule
    )
    assert measured.seconds == 2 * HOUR
    assert kinds_and_hours(measured) == [(OUTSIDE_HOURS, 23), (COUNTED, 2), (OUTSIDE_HOURS, 24)]


def test_end_before_start_raises() -> None:
    with pytest.raises(ValueError, match="before start"):
        measure(utc(2026, 3, 2, 10), utc(2026, 3, 2, 9), OFFICE)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        measure(datetime(2026, 3, 2, 9), utc(2026, 3, 2, 10), OFFICE)


def test_a_pause_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="pause ends"):
        measure(
            utc(2026, 3, 2, 9),
            utc(2026, 3, 2, 17),
            OFFICE,
            [(utc(2026, 3, 2, 12), utc(2026, 3, 2, 11))],
        )


def test_unknown_tz_argument_is_refused() -> None:
    with pytest.raises(ValueError, match="'Nowhere/Land' is not a known time zone"):
        measure(utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), ZONELESS_OFFICE, tz="Nowhere/Land")


def test_months_long_span_is_cheap_enough() -> None:
    # a year of two-window days with 500 pauses: a few hundred day steps, not minutes
    schedule = parse_schedule(
        "busy",
        {
            "timezone": "Europe/London",
            "hours": {"mon-fri": ["08:00-12:00", "13:00-18:00"], "sat": "10:00-14:00"},
            "holidays": {"country": "GB", "years": [2026, 2027]},
        },
    )
    start = utc(2026, 1, 1)
    pauses = [
        (start + timedelta(hours=17 * i), start + timedelta(hours=17 * i + 3)) for i in range(500)
    ]
    measured = measure(start, start + timedelta(days=365), schedule, pauses)
    assert 0 < measured.seconds < 365 * 24 * HOUR
    assert len(measured.segments) < 5000


# --- add_business_seconds ----------------------------------------------------------------------


# fmt: off
DUE_CASES = {
    # Fri 16:00 + 2h: 1h on Friday, then Mon 09:00 + 1h
    "over a weekend": (OFFICE, utc(2026, 3, 6, 16), 2 * HOUR, utc(2026, 3, 9, 10)),
    # nothing to add: the start itself, even outside hours
    "zero seconds": (OFFICE, utc(2026, 3, 2, 7), 0, utc(2026, 3, 2, 7)),
    "one second from before opening": (OFFICE, utc(2026, 3, 2, 7), 1, utc(2026, 3, 2, 9, 0, 1)),
    # lands exactly on closing time: 17:00, not Tuesday's 09:00
    "ends at closing": (OFFICE, utc(2026, 3, 2, 16), 1 * HOUR, utc(2026, 3, 2, 17)),
    # Tue 16:00 + 2h: Tue 16-17, Wed is a holiday, Thu 09-10
    "over an explicit holiday": (OFFICE_WITH_HOLIDAY, utc(2026, 3, 3, 16), 2 * HOUR,
                                 utc(2026, 3, 5, 10)),
    "over Christmas": (ENGLAND_OFFICE, london(2026, 12, 24, 16), 2 * HOUR,
                       london(2026, 12, 29, 10)),
    # Sat 28 Mar 16:00 GMT + 2h: 1h Saturday, Sun 09:00 BST + 1h
    "over spring forward": (LONDON_DAILY, london(2026, 3, 28, 16), 2 * HOUR,
                            london(2026, 3, 29, 10)),
    # 24x7 across New York's fall-back: 24 business hours are 24 real hours
    "24x7 over fall back": (NEW_YORK_24X7, new_york(2026, 10, 31, 12), 24 * HOUR,
                            datetime(2026, 11, 1, 11, tzinfo=NEW_YORK)),
    "calendar time": (None, utc(2026, 3, 2, 10), 90 * HOUR, utc(2026, 3, 6, 4)),
    "fractional seconds": (OFFICE, utc(2026, 3, 2, 16, 59, 59), 1.5,
                           utc(2026, 3, 3, 9, 0, 0, 500000)),
}
# fmt: on


@pytest.mark.parametrize(
    ("schedule", "start", "seconds", "expected_due"), DUE_CASES.values(), ids=DUE_CASES.keys()
)
def test_add_business_seconds(
    schedule: Schedule | None, start: datetime, seconds: float, expected_due: datetime
) -> None:
    due = add_business_seconds(start, seconds, schedule)
    assert due == expected_due
    assert measure(start, due, schedule).seconds == seconds


UNPAUSED_CASES = {name: case for name, case in CASES.items() if not case.pauses}


@pytest.mark.parametrize("case", UNPAUSED_CASES.values(), ids=UNPAUSED_CASES.keys())
def test_add_business_seconds_inverts_measure(case: Case) -> None:
    measured = measure_case(case)
    due = add_business_seconds(case.start, measured.seconds, case.schedule, case.tz)
    assert due <= case.end
    assert measure(case.start, due, case.schedule, tz=case.tz).seconds == measured.seconds


@pytest.mark.parametrize("schedule", [OFFICE, ENGLAND_OFFICE, NEW_YORK_DAILY, LONDON_24X7, None])
def test_add_business_seconds_round_trips_across_a_year(schedule: Schedule | None) -> None:
    start = london(2026, 3, 27, 13, 17)
    for seconds in (1, 59 * 60, 8 * HOUR, 9 * HOUR + 1, 40 * HOUR, 123_456, 2_000_000):
        due = add_business_seconds(start, seconds, schedule)
        assert measure(start, due, schedule).seconds == seconds


def test_add_business_seconds_refuses_a_never_open_schedule() -> None:
    never = Schedule("never", None, ((),) * 7)
    with pytest.raises(ValueError, match="'never' is never open"):
        add_business_seconds(utc(2026, 3, 2), 60, never)


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf")])
def test_add_business_seconds_refuses_impossible_amounts(seconds: float) -> None:
    with pytest.raises(ValueError, match="finite number"):
        add_business_seconds(utc(2026, 3, 2), seconds, OFFICE)


# --- parse_schedule ----------------------------------------------------------------------------

ALL_DAY = ((0, 1440),)


def test_parse_full_example() -> None:
    schedule = parse_schedule(
        "uk_office",
        {
            "timezone": "Europe/London",
            "hours": {"Mon-Fri": "09:00-17:30", "sat": ["10:00-12:00", "13:00-15:00"]},
            "holidays": {
                "dates": [date(2026, 12, 24), "2026-12-31"],
                "country": "gb",
                "subdivision": "ENG",
                "years": [2026],
            },
        },
    )
    assert schedule.name == "uk_office"
    assert schedule.timezone == "Europe/London"
    assert schedule.weekly == (((540, 1050),),) * 5 + (((600, 720), (780, 900)), ())
    assert {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 31)} <= schedule.holidays
    assert date(2027, 12, 25) not in schedule.holidays


def test_parse_merges_overlapping_and_touching_ranges_across_keys() -> None:
    schedule = parse_schedule(
        "merged",
        {
            "hours": {
                "mon": ["11:00-13:00", "09:00-12:00"],
                "mon-tue": "13:00-14:00",
                "daily": "20:00-24:00",
            }
        },
    )
    assert schedule.weekly[0] == ((540, 840), (1200, 1440))
    assert schedule.weekly[1] == ((780, 840), (1200, 1440))
    assert schedule.weekly[6] == ((1200, 1440),)


def test_parse_day_ranges_may_wrap_past_sunday() -> None:
    schedule = parse_schedule("weekend", {"hours": {"fri-mon": "00:00-24:00"}})
    assert schedule.weekly == (ALL_DAY, (), (), (), ALL_DAY, ALL_DAY, ALL_DAY)


def test_missing_hours_mean_open_all_day() -> None:
    assert parse_schedule("calendar", {}) == Schedule.calendar()


def test_default_country_holiday_years() -> None:
    schedule = parse_schedule("us", {"holidays": {"country": "US"}})
    assert date(2000, 7, 4) in schedule.holidays
    assert date(2040, 7, 4) in schedule.holidays
    assert date(1999, 7, 5) not in schedule.holidays


# fmt: off
PARSE_ERRORS = {
    "end before start": ({"hours": {"mon": "17:00-09:00"}},
                         ["'17:00-09:00'", "ends before it starts"]),
    "empty range": ({"hours": {"mon": "09:00-09:00"}}, ["'09:00-09:00'", "ends before it starts"]),
    "unknown day": ({"hours": {"funday": "09:00-17:00"}}, ["'funday'", "not a day"]),
    "unknown day in a range": ({"hours": {"mon-fry": "09:00-17:00"}}, ["'mon-fry'", "not a day"]),
    "not a range": ({"hours": {"mon": "9am-5pm"}}, ["'9am-5pm'", "not a range"]),
    "hour past 24": ({"hours": {"mon": "09:00-25:00"}}, ["'09:00-25:00'", "does not exist"]),
    "minute past 59": ({"hours": {"mon": "09:60-10:00"}}, ["'09:60-10:00'", "does not exist"]),
    "empty list": ({"hours": {"mon": []}}, ["'mon'", "list of such ranges"]),
    "number for hours": ({"hours": {"mon": 9}}, ["'mon'", "not 9"]),
    "hours not a mapping": ({"hours": "09:00-17:00"}, ["hours must map days"]),
    "closed and open": ({"hours": {"daily": "09:00-17:00", "sun": "closed"}},
                        ["sun is closed under 'sun'", "hours under 'daily'"]),
    "never open": ({"hours": {"mon": "closed"}}, ["closed every day"]),
    "unknown time zone": ({"timezone": "Mars/Olympus_Mons"},
                          ["'Mars/Olympus_Mons'", "not a known time zone"]),
    "time zone not text": ({"timezone": 5}, ["timezone must be", "not 5"]),
    "unknown country": ({"holidays": {"country": "XX"}}, ["'XX'", "country", "holidays package"]),
    "unknown subdivision": ({"holidays": {"country": "GB", "subdivision": "XYZ"}},
                            ["'XYZ'", "subdivision of GB", "ENG"]),
    "bad holiday date": ({"holidays": {"dates": ["2026-13-01"]}}, ["'2026-13-01'", "not a date"]),
    "datetime for a holiday": ({"holidays": {"dates": [datetime(2026, 12, 25, 9)]}},
                               ["not a date"]),
    "dates not a list": ({"holidays": {"dates": "2026-12-25"}}, ["list of dates"]),
    "years without country": ({"holidays": {"years": [2026]}},
                              ["years", "only used with a country"]),
    "bad years": ({"holidays": {"country": "GB", "years": ["2026"]}}, ["years", "['2026']"]),
    "unknown key": ({"colour": "blue"}, ["unknown key 'colour'", "timezone, hours, holidays"]),
    "unknown holidays key": ({"holidays": {"region": "ENG"}}, ["unknown key 'region'"]),
    "not a mapping": (["09:00-17:00"], ["must be a mapping"]),
}
# fmt: on


@pytest.mark.parametrize(("data", "words"), PARSE_ERRORS.values(), ids=PARSE_ERRORS.keys())
def test_parse_errors_name_the_schedule_and_the_value(data: Any, words: list[str]) -> None:
    with pytest.raises(ValueError, match="schedule 'acme'") as raised:
        parse_schedule("acme", data)
    for word in words:
        assert word in str(raised.value)


def test_schedule_built_in_code_is_checked() -> None:
    with pytest.raises(ValueError, match="7 days"):
        Schedule("short", None, (ALL_DAY,) * 6)
    with pytest.raises(ValueError, match="must not overlap"):
        Schedule("overlap", None, (((540, 720), (600, 800)),) + ((),) * 6)
    with pytest.raises(ValueError, match="'Nowhere/Land' is not a known time zone"):
        Schedule("zoned", "Nowhere/Land", (ALL_DAY,) * 7)


# --- the JSON schema and the docs --------------------------------------------------------------


@pytest.fixture(scope="module")
def schedule_schema() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def as_json(data: Any) -> Any:
    # The project's YAML loader keeps dates as text; yaml.safe_load here does not.
    return json.loads(json.dumps(data, default=str))


def doc_yaml_blocks() -> list[str]:
    """Every ```yaml block in docs/clock.md, dedented (one sits inside a list item)."""
    text = DOCS_PATH.read_text(encoding="utf-8")
    return [textwrap.dedent(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)]


def test_every_docs_example_is_a_file_the_loader_accepts(
    schedule_schema: jsonschema.Draft202012Validator, tmp_path: Path
) -> None:
    """Each example, pasted into a file of its own among the standards, loads as it is."""
    blocks = doc_yaml_blocks()
    kinds = [yaml.safe_load(block).get("kind") for block in blocks]
    assert kinds.count("schedule") >= 4
    assert set(kinds) == {"schedule", "standard"}
    for number, block in enumerate(blocks):
        path = tmp_path / f"example-{number}.yaml"
        path.write_text(block, encoding="utf-8")
        data = yaml.safe_load(block)
        if data["kind"] == "standard":
            # beside the page's own schedules (the first of each name), as a user would paste
            folder = tmp_path / f"standard-{number}"
            folder.mkdir()
            for other in blocks:
                named = yaml.safe_load(other)
                schedule_file = folder / f"{named.get('name')}.yaml"
                if named["kind"] == "schedule" and not schedule_file.exists():
                    schedule_file.write_text(other, encoding="utf-8")
            (folder / "standard.yaml").write_text(block, encoding="utf-8")
            (standard,) = load_standards([folder], collect(get_plugin_manager()))
            assert standard.id == data["id"]
            continue
        documents, errors = load_documents([path])
        schedules, schedule_errors = compile_schedules(documents)
        assert not errors, block
        assert not schedule_errors, f"{block}\n{schedule_errors}"
        assert set(schedules) == {data["name"]}
        keys = {key: value for key, value in data.items() if key not in ("kind", "name")}
        schedule_schema.validate(as_json(keys))


@pytest.mark.parametrize(
    "data",
    [
        {"colour": "blue"},
        {"hours": {"funday": "09:00-17:00"}},
        {"hours": {"mon": "9am-5pm"}},
        {"hours": {"mon": "09:00-25:00"}},
        {"hours": {"mon": []}},
        {"holidays": {"years": [2026]}},
        {"holidays": {"dates": ["26/12/2026"]}},
    ],
)
def test_schema_rejects_what_the_parser_rejects(
    schedule_schema: jsonschema.Draft202012Validator, data: dict[str, Any]
) -> None:
    assert not schedule_schema.is_valid(data)
    with pytest.raises(ValueError, match="schedule 'acme'"):
        parse_schedule("acme", data)


def test_docs_evidence_example_is_what_the_clock_says() -> None:
    # docs/clock.md shows the segments for this exact call; keep them in step
    schedule = parse_schedule(
        "uk_office",
        {
            "timezone": "Europe/London",
            "hours": {"mon-fri": "09:00-17:30"},
            "holidays": {"country": "GB", "subdivision": "ENG"},
        },
    )
    measured = measure(
        datetime.fromisoformat("2026-03-27T16:00:00+00:00"),
        datetime.fromisoformat("2026-03-30T10:00:00+01:00"),
        schedule,
        pauses=[
            (
                datetime.fromisoformat("2026-03-27T17:00:00+00:00"),
                datetime.fromisoformat("2026-03-30T09:30:00+01:00"),
            )
        ],
    )
    docs = DOCS_PATH.read_text(encoding="utf-8")
    assert f"seconds: {measured.seconds:g}" in docs
    for segment in measured.segments:
        line = f"{segment.start.isoformat()}  {segment.end.isoformat()}  {segment.kind}"
        assert line in docs


@pytest.mark.parametrize(
    "data",
    [
        {"hours": {"mon-fri": "17:30-09:00"}},
        {"hours": {"weekdays": "09:00-17:30"}},
        {"timezone": "Europe/Londn"},
        {"holidays": {"country": "UK2"}},
    ],
)
def test_docs_error_examples_are_what_the_parser_says(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="schedule 'uk_office'") as raised:
        parse_schedule("uk_office", data)
    assert str(raised.value) in DOCS_PATH.read_text(encoding="utf-8")


# --- the clock as a function: B(end) - B(start), held to the walk of segments -------------------

RANDOM_SCHEDULES: dict[str, Schedule | None] = {
    "calendar": None,
    "new york office, US holidays": parse_schedule(
        "ny",
        {
            "timezone": "America/New_York",
            "hours": {"mon-fri": "09:00-17:00"},
            "holidays": {"country": "US", "years": [2025, 2026, 2027]},
        },
    ),
    "london split days, GB holidays": parse_schedule(
        "uk",
        {
            "timezone": "Europe/London",
            "hours": {"mon-fri": ["08:00-12:00", "13:00-18:30"], "sat": "10:00-14:00"},
            "holidays": {"country": "GB", "subdivision": "ENG", "years": [2025, 2026, 2027]},
        },
    ),
    # windows that hold the hour New York skips and the hour it repeats
    "new york nights": parse_schedule(
        "ny_nights",
        {"timezone": "America/New_York", "hours": {"daily": ["00:30-02:30", "23:00-24:00"]}},
    ),
    # open across midnight and New Year's midnight (Friday night into Saturday)
    "open across midnight": parse_schedule(
        "late",
        {
            "timezone": "Australia/Lord_Howe",  # clocks change by half an hour, at 02:00
            "hours": {"fri": "20:00-24:00", "sat": "00:00-04:00", "sun": "01:00-03:00"},
            "holidays": {"dates": ["2026-01-03"]},
        },
    ),
    "24h days walked": NEW_YORK_ALL_DAY_WALKED,
    "never open": Schedule("never", "Europe/Paris", ((),) * 7),
    "zoneless office": ZONELESS_OFFICE,
}
RANDOM_ZONES = (None, "UTC", "Asia/Kolkata", "America/Sao_Paulo", "Europe/London")
RANDOM_FROM = utc(2025, 11, 1)


def random_moment(rng: random.Random, around: datetime, reach: float) -> datetime:
    moment = around + timedelta(seconds=rng.randrange(int(reach) + 1))
    if rng.random() < 0.2:  # a fifth of the moments carry microseconds
        moment += timedelta(microseconds=rng.randrange(1, 1_000_000))
    return moment


def random_span(
    rng: random.Random, starts_from: datetime = RANDOM_FROM, most_pauses: int = 3
) -> tuple[datetime, datetime, list[tuple[datetime, datetime]], str | None]:
    start = random_moment(rng, starts_from, 450 * 86400)
    length = rng.choice((600, 4 * 3600, 86400, 5 * 86400, 40 * 86400))
    end = random_moment(rng, start, rng.uniform(0, length))
    pauses = []
    for _ in range(rng.randrange(most_pauses + 1)):
        paused_from = random_moment(
            rng, start - timedelta(days=2), (end - start).total_seconds() + 4 * 86400
        )
        pauses.append((paused_from, random_moment(rng, paused_from, rng.uniform(0, 3 * 86400))))
    zone = rng.choice(RANDOM_ZONES)
    shown_in = ZoneInfo(rng.choice(("UTC", "Europe/Berlin", "America/New_York")))
    return start.astimezone(shown_in), end, pauses, zone


def walked_seconds(
    start: datetime,
    end: datetime,
    schedule: Schedule | None,
    pauses: Sequence[tuple[datetime, datetime]],
    tz: str | None,
) -> float:
    """The straightforward count: walk the days into segments, add up the counted ones."""
    segments = measure(start, end, schedule, pauses, tz).segments
    counted = sum(
        (s.end.astimezone(UTC) - s.start.astimezone(UTC) for s in segments if s.kind == COUNTED),
        timedelta(),
    )
    return counted.total_seconds()


@pytest.mark.parametrize("name", RANDOM_SCHEDULES)
def test_the_clock_as_a_function_counts_what_the_walk_counts(name: str) -> None:
    schedule = RANDOM_SCHEDULES[name]
    rng = random.Random(f"clock {name}")
    for _ in range(600):
        start, end, pauses, zone = random_span(rng)
        expected = walked_seconds(start, end, schedule, pauses, zone)
        epochs = [(lo.timestamp(), hi.timestamp()) for lo, hi in pauses]
        counted = clock_for(schedule, zone).seconds(start.timestamp(), end.timestamp(), epochs)
        assert counted == expected, (start, end, pauses, zone)
        assert measure(start, end, schedule, pauses, zone).seconds == expected


@pytest.mark.parametrize("name", ["calendar", "london split days, GB holidays", "24h days walked"])
def test_many_pauses_and_years_before_2004_count_what_the_walk_counts(name: str) -> None:
    # outside the regime where a whole count is trusted without looking at the inputs
    schedule = RANDOM_SCHEDULES[name]
    rng = random.Random(f"clock before 2004 {name}")
    for _ in range(300):
        start, end, pauses, zone = random_span(rng, utc(2003, 6, 1), most_pauses=6)
        expected = walked_seconds(start, end, schedule, pauses, zone)
        assert measure(start, end, schedule, pauses, zone).seconds == expected


def test_a_span_beyond_the_joined_years_is_counted_year_by_year() -> None:
    schedule = RANDOM_SCHEDULES["new york office, US holidays"]
    assert schedule is not None
    clock = clock_for(schedule)
    assert isinstance(clock, BusinessClock)
    start, end = utc(2026, 3, 2, 12), utc(2026 + 45, 6, 1, 12, 0, 0, 250_000)
    pauses = [(utc(2030, 1, 1), utc(2031, 1, 1)), (utc(2026, 3, 2, 13), utc(2026, 3, 2, 14))]
    expected = walked_seconds(start, end, schedule, pauses, None)
    epochs = [(lo.timestamp(), hi.timestamp()) for lo, hi in pauses]
    assert clock.seconds(start.timestamp(), end.timestamp(), epochs) == expected
    # the far years were counted without growing the joined table, and few are kept
    assert clock._near.last_year - clock._near.first_year < 40
    assert len(clock._far_years) <= 8


def test_clock_for_calendar_time_needs_no_zone() -> None:
    assert clock_for(None) is CALENDAR
    assert clock_for(LONDON_24X7, "America/New_York") is CALENDAR
    assert CALENDAR.seconds(100.0, 250.5, [(120.0, 130.0), (125.0, 140.0)]) == 130.5
    with pytest.raises(ValueError, match="is before start"):
        CALENDAR.seconds(10.0, 5.0)
    with pytest.raises(ValueError, match="pause ends"):
        CALENDAR.seconds(0.0, 50.0, [(20.0, 10.0)])


def test_clock_for_keeps_one_clock_per_schedule_and_zone() -> None:
    assert clock_for(ZONELESS_OFFICE, "Asia/Tokyo") is clock_for(ZONELESS_OFFICE, "Asia/Tokyo")
    assert clock_for(ZONELESS_OFFICE, "Asia/Tokyo") is not clock_for(ZONELESS_OFFICE)
    assert clock_for(OFFICE, "Asia/Tokyo") is clock_for(OFFICE)  # its own zone wins
    with pytest.raises(ValueError, match="not a known time zone"):
        clock_for(ZONELESS_OFFICE, "Nowhere/Land")


def test_segments_are_worked_out_only_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES["pause over a weekend"]
    walked = measure_case(case)

    def no_walk(*_args: object) -> tuple[Segment, ...]:
        raise AssertionError("the segments were walked before anyone read them")

    monkeypatch.setattr("rulecore.clock.tile_segments", no_walk)
    measured = measure_case(case)
    assert measured.seconds == case.expected_seconds
    monkeypatch.undo()
    seconds, segments = measured
    assert (seconds, segments) == (walked.seconds, walked.segments)
    assert measured == walked
    assert hash(measured) == hash(walked)
    assert measured == Measured(walked.seconds, walked.segments)
    assert (len(measured), measured[0], measured[-1]) == (2, walked.seconds, walked.segments)
    with pytest.raises(AttributeError):
        measured.seconds = 0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("zone", "year"),
    [
        ("America/New_York", 2026),
        ("Australia/Lord_Howe", 2026),  # half-hour changes
        ("Africa/Casablanca", 2024),  # summer time stopped for Ramadan, a month apart
        ("America/Sao_Paulo", 2018),  # clocks went forward at midnight
        ("Pacific/Apia", 2011),  # skipped 30 December altogether
        ("Europe/London", 1968),  # on summer time all year
    ],
)
def test_a_whole_year_totals_what_its_table_holds(zone: str, year: int) -> None:
    schedule = parse_schedule(
        "mixed",
        {
            "hours": {"mon-thu": ["00:00-03:30", "09:00-17:00"], "fri-sun": "00:00-24:00"},
            "holidays": {"dates": [f"{year}-07-01"]},
        },
    )
    total = clock_module._year_total(schedule, ZoneInfo(zone), year)
    assert total == clock_module._year_table(schedule, ZoneInfo(zone), year).total
