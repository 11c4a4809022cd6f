"""China's work calendar: per-date exceptions, make-up working days (调休) and the shipped
``china-business-hours`` schedule, held against a minute-by-minute count.

The official calendar below is typed in from the State Council's notices for 2024-2026 (the
sources are named in standards/schedules/china-business-hours.yaml), independently of both the
shipped file and the ``holidays`` package, so each of the three checks the others.
"""

from __future__ import annotations

import pickle
import random
import textwrap
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import holidays as holiday_calendars
import pytest

from rulecore._standards import compile_schedules, load_documents
from rulecore.clock import (
    COUNTED,
    HOLIDAY,
    OUTSIDE_HOURS,
    Schedule,
    ScheduleError,
    _year_table,
    _year_total,
    add_business_seconds,
    clock_for,
    measure,
    parse_schedule,
    tile_segments,
)

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "standards" / "schedules" / "china-business-hours.yaml"
BEIJING = timezone(timedelta(hours=8))  # China keeps one offset all year: no summer time
OPENS, CLOSES = 9 * 60, 18 * 60


def _days(first: str, last: str) -> set[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return {start + timedelta(days=offset) for offset in range((end - start).days + 1)}


#: Every day off of the official holiday blocks, weekends inside them included.
OFFICIAL_DAYS_OFF = set().union(
    *(
        _days(first, last)
        for first, last in [
            ("2024-01-01", "2024-01-01"),
            ("2024-02-10", "2024-02-17"),
            ("2024-04-04", "2024-04-06"),
            ("2024-05-01", "2024-05-05"),
            ("2024-06-10", "2024-06-10"),
            ("2024-09-15", "2024-09-17"),
            ("2024-10-01", "2024-10-07"),
            ("2025-01-01", "2025-01-01"),
            ("2025-01-28", "2025-02-04"),
            ("2025-04-04", "2025-04-06"),
            ("2025-05-01", "2025-05-05"),
            ("2025-05-31", "2025-06-02"),
            ("2025-10-01", "2025-10-08"),
            ("2026-01-01", "2026-01-03"),
            ("2026-02-15", "2026-02-23"),
            ("2026-04-04", "2026-04-06"),
            ("2026-05-01", "2026-05-05"),
            ("2026-06-19", "2026-06-21"),
            ("2026-09-25", "2026-09-27"),
            ("2026-10-01", "2026-10-07"),
        ]
    )
)
#: The weekend days worked in exchange (调休).
OFFICIAL_MAKE_UP_DAYS = {
    date.fromisoformat(day)
    for day in [
        "2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28", "2024-05-11", "2024-09-14",
        "2024-09-29", "2024-10-12",
        "2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
    ]
}  # fmt: skip

#: Spring Festival and Golden Week, with the make-up days around them: (first day, last day).
PERIODS = [
    ("2024-02-01", "2024-02-22"),
    ("2024-09-25", "2024-10-15"),
    ("2025-01-22", "2025-02-12"),
    ("2025-09-24", "2025-10-14"),
    ("2026-02-10", "2026-03-03"),
    ("2026-09-16", "2026-10-13"),
]


def _package_has_make_up_days() -> bool:
    calendar = holiday_calendars.country_holidays("CN", years=[2024, 2025, 2026])
    workdays = set(getattr(calendar, "weekend_workdays", ()))
    return workdays >= OFFICIAL_MAKE_UP_DAYS


needs_package_calendar = pytest.mark.skipif(
    not _package_has_make_up_days(),
    reason="the installed holidays package lacks China's 2024-2026 make-up working days "
    "(weekend_workdays); the shipped schedule lists them itself",
)


def _load_shipped() -> Schedule:
    documents, errors = load_documents([SHIPPED])
    schedules, schedule_errors = compile_schedules(documents)
    assert not errors
    assert not schedule_errors
    schedule: Schedule = schedules["china-business-hours"]
    return schedule


def _country_only() -> Schedule:
    return parse_schedule(
        "cn",
        {
            "timezone": "Asia/Shanghai",
            "hours": {"mon-fri": "09:00-18:00"},
            "holidays": {"country": "CN", "years": [2024, 2025, 2026]},
        },
    )


# --- the minute-by-minute count -----------------------------------------------------------


def _open_at(minute: datetime) -> bool:
    """Whether an office keeping China's official calendar is open in this (Beijing) minute."""
    day = minute.date()
    if day in OFFICIAL_MAKE_UP_DAYS:
        working = True
    elif day in OFFICIAL_DAYS_OFF:
        working = False
    else:
        working = day.weekday() < 5
    of_day = minute.hour * 60 + minute.minute
    return working and OPENS <= of_day < CLOSES


def _open_minutes(first: str, last: str) -> tuple[datetime, list[int]]:
    """The period's first minute, and the open minutes before each minute (a prefix count)."""
    start = datetime.combine(date.fromisoformat(first), datetime.min.time(), BEIJING)
    end = datetime.combine(date.fromisoformat(last) + timedelta(days=1), datetime.min.time())
    minutes = int((end.replace(tzinfo=BEIJING) - start).total_seconds() // 60)
    before = [0]
    for index in range(minutes):
        before.append(before[-1] + _open_at(start + timedelta(minutes=index)))
    return start, before


def _spans(before: list[int], rng: random.Random, count: int) -> list[tuple[int, int]]:
    spans = [(0, len(before) - 1)]
    for _ in range(count):
        first = rng.randrange(len(before))
        spans.append(tuple(sorted((first, rng.randrange(len(before))))))  # type: ignore[arg-type]
    return spans


@pytest.mark.parametrize(("first", "last"), PERIODS)
def test_shipped_schedule_counts_every_minute_as_the_official_calendar(
    first: str, last: str
) -> None:
    schedule = _load_shipped()
    clock = clock_for(schedule)
    start, before = _open_minutes(first, last)
    rng = random.Random(f"{first}:{last}")
    for lo, hi in _spans(before, rng, 150):
        expected = (before[hi] - before[lo]) * 60
        span_start, span_end = start + timedelta(minutes=lo), start + timedelta(minutes=hi)
        assert clock.seconds(span_start.timestamp(), span_end.timestamp()) == expected
        measured = measure(span_start, span_end, schedule)
        assert measured.seconds == expected
        counted = sum(s.seconds for s in measured.segments if s.kind == COUNTED)
        assert counted == expected


@needs_package_calendar
@pytest.mark.parametrize(("first", "last"), PERIODS)
def test_country_cn_alone_counts_every_working_minute(first: str, last: str) -> None:
    # The package lists the holidays that fall on weekdays: for a Monday-to-Friday office
    # that is the whole calendar, make-up days included.
    clock = clock_for(_country_only())
    start, before = _open_minutes(first, last)
    for lo, hi in _spans(before, random.Random(first), 100):
        expected = (before[hi] - before[lo]) * 60
        span_start, span_end = start + timedelta(minutes=lo), start + timedelta(minutes=hi)
        assert clock.seconds(span_start.timestamp(), span_end.timestamp()) == expected


def test_the_docs_worked_example() -> None:
    # docs/clock.md: opened Friday 24 Jan 2025 17:00, answered Sunday 26 Jan 10:00.
    opened = datetime(2025, 1, 24, 17, 0, tzinfo=BEIJING)
    answered = datetime(2025, 1, 26, 10, 0, tzinfo=BEIJING)
    assert measure(opened, answered, _load_shipped()).seconds == 2 * 3600
    docs = (REPO / "docs" / "clock.md").read_text(encoding="utf-8")
    assert "10:00 waited 2 working hours: 1 on Friday and 1 on the make-up Sunday" in docs


def test_pauses_over_a_make_up_sunday_take_off_only_its_open_hours() -> None:
    schedule = _load_shipped()
    # Sat 25 Jan 2025 to Mon 27 Jan: only Sunday 26th (make-up day) is open, 9 hours.
    start = datetime(2025, 1, 25, 0, 0, tzinfo=BEIJING)
    end = datetime(2025, 1, 27, 0, 0, tzinfo=BEIJING)
    assert measure(start, end, schedule).seconds == 9 * 3600
    paused = [(datetime(2025, 1, 26, 12, 0, tzinfo=BEIJING), end)]
    measured = measure(start, end, schedule, pauses=paused)
    assert measured.seconds == 3 * 3600
    assert [segment.kind for segment in measured.segments] == [
        OUTSIDE_HOURS, COUNTED, "paused", OUTSIDE_HOURS,
    ]  # fmt: skip


def test_a_due_time_runs_through_the_holiday_and_lands_on_the_make_up_saturday() -> None:
    schedule = _load_shipped()
    # Friday 7 Feb 2025 17:00 plus 2 working hours: 1 hour on Friday, then Saturday 8 Feb
    # (a make-up day) opens at 09:00.
    due = add_business_seconds(datetime(2025, 2, 7, 17, 0, tzinfo=BEIJING), 2 * 3600, schedule)
    assert due == datetime(2025, 2, 8, 10, 0, tzinfo=BEIJING)
    # From the eve of Spring Festival 2025, 1 working hour is on Sunday 26 Jan.
    due = add_business_seconds(datetime(2025, 1, 25, 12, 0, tzinfo=BEIJING), 3600, schedule)
    assert due == datetime(2025, 1, 26, 10, 0, tzinfo=BEIJING)


# --- the shipped file, the package and the notices agree ----------------------------------


def test_shipped_schedule_lists_the_official_calendar() -> None:
    schedule = _load_shipped()
    assert set(schedule.exceptions) == OFFICIAL_MAKE_UP_DAYS
    assert all(hours == ((OPENS, CLOSES),) for hours in schedule.exceptions.values())
    assert schedule.holidays >= OFFICIAL_DAYS_OFF
    covered = {day for day in schedule.holidays if 2024 <= day.year <= 2026}
    weekday_days_off = {day for day in covered if day.weekday() < 5}
    assert weekday_days_off == {day for day in OFFICIAL_DAYS_OFF if day.weekday() < 5}


@needs_package_calendar
def test_the_package_brings_the_same_make_up_days_and_weekday_holidays() -> None:
    schedule = _country_only()
    assert set(schedule.exceptions) == OFFICIAL_MAKE_UP_DAYS
    weekday_days_off = {day for day in schedule.holidays if day.weekday() < 5}
    assert weekday_days_off == {day for day in OFFICIAL_DAYS_OFF if day.weekday() < 5}


@needs_package_calendar
def test_make_up_days_can_be_turned_off_or_given_their_own_hours() -> None:
    base = {"timezone": "Asia/Shanghai", "hours": {"mon-fri": "09:00-18:00", "sat": "10:00-12:00"}}
    off = parse_schedule("cn", {**base, "holidays": {"country": "CN", "years": [2025],
                                                      "make_up_days": False}})  # fmt: skip
    assert not off.exceptions
    short_days = {"country": "CN", "years": [2025], "make_up_hours": "09:00-12:00"}
    short = parse_schedule("cn", {**base, "holidays": short_days})
    assert short.exceptions[date(2025, 1, 26)] == ((540, 720),)
    # Without make_up_hours a make-up Saturday keeps a weekday's hours, not Saturday's.
    usual = parse_schedule("cn", {**base, "holidays": {"country": "CN", "years": [2025]}})
    assert usual.exceptions[date(2025, 2, 8)] == ((540, 1080),)


# --- exceptions in general ----------------------------------------------------------------

THREE_KINDS = {
    "timezone": "Asia/Shanghai",
    "hours": {"mon-fri": "09:00-18:00"},
    "holidays": {"dates": ["2025-12-31"]},
    "exceptions": {
        "2025-01-26": {"hours": "09:00-18:00", "note": "调休"},
        "2025-02-03": "closed",
        "2025-12-31": {"hours": "09:00-12:00"},  # wins over the holiday on the same date
        "2025-12-30": ["09:00-10:00", "16:00-18:00"],
    },
}


@pytest.mark.parametrize(
    ("day", "hours", "kinds"),
    [
        ("2025-01-26", 9, [OUTSIDE_HOURS, COUNTED, OUTSIDE_HOURS]),  # a Sunday worked
        ("2025-02-03", 0, [HOLIDAY]),  # a Monday closed
        ("2025-12-31", 3, [OUTSIDE_HOURS, COUNTED, OUTSIDE_HOURS]),  # a half day
        ("2025-12-30", 3, [OUTSIDE_HOURS, COUNTED, OUTSIDE_HOURS, COUNTED, OUTSIDE_HOURS]),
        ("2025-12-29", 9, [OUTSIDE_HOURS, COUNTED, OUTSIDE_HOURS]),  # an ordinary Monday
    ],
)
def test_an_exception_gives_its_date_its_own_hours(day: str, hours: int, kinds: list[str]) -> None:
    schedule = parse_schedule("desk", THREE_KINDS)
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), BEIJING)
    end = start + timedelta(days=1)
    assert clock_for(schedule).seconds(start.timestamp(), end.timestamp()) == hours * 3600
    segments = tile_segments(start, end, schedule, (), None)
    assert [segment.kind for segment in segments] == kinds


def test_year_totals_and_tables_agree_with_exceptions() -> None:
    schedule = parse_schedule("desk", THREE_KINDS)
    zone = clock_for(schedule).zone  # type: ignore[attr-defined]
    assert _year_total(schedule, zone, 2025) == _year_table(schedule, zone, 2025).total
    # A span long enough to be counted year by year meets the same totals.
    start = datetime(2024, 6, 1, tzinfo=BEIJING).timestamp()
    end = datetime(2070, 6, 1, tzinfo=BEIJING).timestamp()
    near = clock_for(schedule).seconds(start, datetime(2026, 1, 1, tzinfo=BEIJING).timestamp())
    far = clock_for(schedule).seconds(start, end)
    assert far > near > 0


def test_a_schedule_built_in_code_takes_exceptions_and_compares_by_them() -> None:
    weekly = (((540, 1080),),) * 5 + ((), ())
    with_sunday = Schedule(
        "x", "Asia/Shanghai", weekly, exceptions={date(2025, 1, 26): [(540, 1080)]}
    )
    plain = Schedule("x", "Asia/Shanghai", weekly)
    assert with_sunday != plain
    assert with_sunday == Schedule(
        "x", "Asia/Shanghai", weekly, exceptions={date(2025, 1, 26): ((540, 1080),)}
    )
    assert hash(with_sunday) == hash(plain)  # exceptions are compared, not hashed
    assert pickle.loads(pickle.dumps(with_sunday)) == with_sunday  # as --jobs workers may need
    with pytest.raises(TypeError):
        with_sunday.exceptions[date(2025, 1, 27)] = ()  # type: ignore[index]
    with pytest.raises(ValueError, match="must open before it closes"):
        Schedule("x", None, weekly, exceptions={date(2025, 1, 26): ((600, 540),)})
    with pytest.raises(ValueError, match="must be a date"):
        Schedule("x", None, weekly, exceptions={"2025-01-26": ((540, 600),)})  # type: ignore[dict-item]


def test_a_schedule_open_only_on_its_exception_dates_runs_out() -> None:
    event_desk = parse_schedule(
        "fair", {"timezone": "UTC", "hours": {"daily": "closed"},
                 "exceptions": {"2026-05-01": "09:00-17:00", "2026-05-02": "09:00-13:00"}},
    )  # fmt: skip
    start = datetime(2026, 4, 30, tzinfo=timezone.utc)
    assert add_business_seconds(start, 10 * 3600, event_desk) == datetime(
        2026, 5, 2, 11, 0, tzinfo=timezone.utc
    )
    with pytest.raises(ValueError, match="open only on its exception dates"):
        add_business_seconds(start, 13 * 3600, event_desk)


# --- mistakes are located ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("exceptions", "line", "words"),
    [
        ('  "2025-13-01": closed\n', 8, "is not a date"),
        ('  "2025-01-26": {hours: "18:00-09:00"}\n', 8, "ends before it starts"),
        ('  "2025-01-26": {hours: "09:00-18:00", colour: red}\n', 8, "colour"),
        ('  "2025-01-25": closed\n  "2025-01-26": shut\n', 9, "2025-01-26"),
    ],
)
def test_a_bad_exception_is_reported_at_its_line(
    tmp_path: Path, exceptions: str, line: int, words: str
) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            kind: schedule
            name: desk
            timezone: Asia/Shanghai
            hours:
              mon-fri: "09:00-18:00"
            holidays: {country: CN, years: [2025]}
            exceptions:
            """
        )
        + exceptions,
        encoding="utf-8",
    )
    documents, errors = load_documents([path])
    _schedules, problems = compile_schedules(documents)
    assert not errors
    assert len(problems) == 1, problems
    assert f"desk.yaml:{line}:" in str(problems[0])
    assert words in str(problems[0])


@pytest.mark.parametrize(
    ("data", "path", "words"),
    [
        ({"exceptions": ["2025-01-26"]}, ("exceptions",), "must map dates to hours"),
        ({"exceptions": {"2025-01-26": {"note": "x"}}}, ("exceptions", "2025-01-26"),
         "needs hours"),
        ({"exceptions": {"2025-01-26": {"hours": "closed", "note": 3}}},
         ("exceptions", "2025-01-26", "note"), "note must be text"),
        ({"holidays": {"make_up_days": True}}, ("holidays", "make_up_days"),
         "only used with a country"),
        ({"holidays": {"country": "CN", "make_up_days": "yes"}}, ("holidays", "make_up_days"),
         "true or false"),
        ({"holidays": {"country": "CN", "make_up_days": False, "make_up_hours": "09:00-12:00"}},
         ("holidays", "make_up_hours"), "only used with make_up_days"),
        ({"holidays": {"country": "CN", "make_up_hours": "9-12"}}, ("holidays", "make_up_hours"),
         "not a range"),
    ],
)  # fmt: skip
def test_parse_errors_say_where(data: dict[str, Any], path: tuple[str, ...], words: str) -> None:
    with pytest.raises(ScheduleError, match=words) as raised:
        parse_schedule("desk", {"hours": {"mon-fri": "09:00-18:00"}, **data})
    assert raised.value.path == path
