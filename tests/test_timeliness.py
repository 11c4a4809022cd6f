"""The timeliness checks, ``elapsed`` and ``update_gap``, against values worked out by hand.

The annotated fixtures (``plugins/rulecore_timeliness/fixtures``, ``standards/timeliness-
resolution.test.yaml``) prove outcomes; here the same records are held to the exact number of
seconds each rule must measure, so a clock that is off by a little cannot hide inside a zone of
tolerance.  The tables below are the hand-worked working: each value is derived in the
fixture case's name.  Then: evidence, in-flight judgement, bad parameters, odd records, and
the promise that nothing is parsed per record.

Dates (2026): Fri 6 Mar, Mon 9 Mar, Tue 10 Mar; Good Friday 3 Apr and Easter Monday 6 Apr.
Clocks change on Sun 8 Mar in New York, on Sun 29 Mar and Sun 25 Oct in London.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from rulecore_timeliness import ELAPSED, UPDATE_GAP, compile_elapsed, compile_update_gap

import rulecore
from rulecore import (
    CompileContext,
    EvaluationContext,
    Evidence,
    Finding,
    Measurement,
    Record,
    StandardsInvalid,
    Thresholds,
    record_from_mapping,
)
from rulecore.clock import SEGMENT_KINDS, parse_schedule
from rulecore.testing import findings, make_engine, record

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "plugins" / "rulecore_timeliness" / "fixtures"
UTC = timezone.utc
HOUR = 3600.0
MINUTE = 60.0


# ---------------------------------------------------------------------------------------------
# running a fixture's records
# ---------------------------------------------------------------------------------------------


def _fixture_schedules() -> dict[str, Any]:
    schedules: dict[str, Any] = {}
    for path in sorted(FIXTURES.glob("*.yaml")):
        if path.name.endswith(".test.yaml"):
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        schedules[data["name"]] = {k: v for k, v in data.items() if k not in ("kind", "name")}
    return schedules


def _fixture_records(data: Mapping[str, Any]) -> list[Record]:
    return [record_from_mapping(case["record"]) for case in data["cases"]]


def run_plugin_fixture(name: str) -> dict[tuple[str, str], Finding]:
    """Every finding of a plugin fixture's records, by (record, rule)."""
    data = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
    engine = make_engine(data["standard"], schedules=_fixture_schedules())
    as_of = datetime.fromisoformat(data["as_of"]) if "as_of" in data else None
    found = findings(engine, *_fixture_records(data), as_of=as_of)
    return {(finding.record, finding.rule): finding for finding in found}


def run_shipped_fixture() -> dict[tuple[str, str], Finding]:
    """Every finding of the shipped resolution standard on its fixture's records."""
    data = yaml.safe_load(
        (ROOT / "standards" / "timeliness-resolution.test.yaml").read_text(encoding="utf-8")
    )
    engine = make_engine(ROOT / "standards")
    return {
        (finding.record, finding.rule): finding
        for finding in findings(engine, *_fixture_records(data))
        if finding.standard == "timeliness-resolution"
    }


class Worked(NamedTuple):
    record: str
    rule: str
    seconds: float | None  #: ``None``: the rule must measure nothing (not_applicable)


def _table(fixture: str, *rows: Worked) -> Iterator[Any]:
    for row in rows:
        yield pytest.param(fixture, row, id=f"{fixture.split('.')[0]}:{row.record}:{row.rule}")


CLOCK = _table(
    "elapsed-clock.test.yaml",
    Worked("weekend", "london-reply", 2 * HOUR),
    Worked("weekend", "calendar-reply", 65.5 * HOUR),
    Worked("easter", "london-reply", 2 * HOUR),
    Worked("easter", "calendar-reply", (4 * 24 + 17.5) * HOUR),
    Worked("london-autumn", "london-reply", 2 * HOUR),
    Worked("new-york-spring", "new-york-reply", 3 * HOUR),
    Worked("london-short-day", "london-day", 23 * HOUR),
    Worked("london-short-day", "calendar-reply", 23 * HOUR),
    Worked("london-long-day", "london-day", 25 * HOUR),
    Worked("tokyo", "local-reply", 2 * HOUR),
    Worked("tokyo", "london-reply", 8.5 * HOUR),
    Worked("los-angeles", "local-reply", 2 * HOUR),
    Worked("no-zone", "local-reply", None),
    Worked("no-zone", "london-reply", 1 * HOUR),
    Worked("unknown-zone", "local-reply", None),
    Worked("no-reply", "calendar-reply", None),
    Worked("no-opened", "london-reply", None),
    Worked("reply-before-opened", "calendar-reply", None),
    Worked("out-of-order", "london-reply", 1.5 * HOUR),
)
PAUSE = _table(
    "elapsed-pause.test.yaml",
    Worked("pause-over-weekend", "resolution-paused", 3.5 * HOUR),
    Worked("pause-over-weekend", "resolution-unpaused", 6.5 * HOUR),
    Worked("pause-starts-when-closed", "resolution-paused", 5.5 * HOUR),
    Worked("pause-starts-when-closed", "resolution-unpaused", 6.5 * HOUR),
    Worked("pending-until-resolved", "resolution-paused", 1 * HOUR),
    Worked("pending-until-resolved", "resolution-unpaused", 7 * HOUR),
    Worked("two-pauses", "resolution-paused", 4 * HOUR),
    Worked("two-pauses", "resolution-unpaused", 6 * HOUR),
    Worked("paused-from-the-start", "resolution-paused", 2 * HOUR),
    Worked("paused-from-the-start", "resolution-unpaused", 5 * HOUR),
    Worked("state-from-status-events-only", "resolution-state-field", 2 * HOUR),
    Worked("paused-never-resolved", "resolution-paused", None),
    Worked("pause-out-of-order", "resolution-paused", 3.5 * HOUR),
    Worked("pause-out-of-order", "resolution-unpaused", 6.5 * HOUR),
)
REOPEN = _table(
    "elapsed-reopen.test.yaml",
    Worked("reopened-by-event", "restart", 1.5 * HOUR),
    Worked("reopened-by-event", "continue", 2.5 * HOUR),
    Worked("reopened-by-event", "as-recorded", 7.5 * HOUR),
    Worked("reopened-by-status", "restart", 1.5 * HOUR),
    Worked("reopened-by-status", "continue", 2.5 * HOUR),
    Worked("reopened-twice", "restart", 45 * MINUTE),
    Worked("reopened-twice", "continue", 2.75 * HOUR),
    Worked("reopened-twice", "as-recorded", 6.75 * HOUR),
    Worked("resolved-then-closed", "restart", 1.5 * HOUR),
    Worked("resolved-then-closed", "continue", 2.5 * HOUR),
    Worked("reopened-still-open", "restart", None),
    Worked("reopened-still-open", "as-recorded", 1 * HOUR),
    Worked("never-reopened", "restart", 3 * HOUR),
    Worked("never-reopened", "continue", 3 * HOUR),
    Worked("reopen-without-resolution", "restart", 1 * HOUR),
    Worked("reopen-without-resolution", "continue", 2 * HOUR),
    Worked("custom-reopen-event", "restart-custom", 3 * HOUR),
    Worked("custom-reopen-event", "restart", 30 * MINUTE),
    Worked("custom-resolved-status", "restart-custom", 3 * HOUR),
    Worked("custom-resolved-status", "restart", 30 * MINUTE),
    Worked("continue-over-weekend", "continue-business", 2 * HOUR),
    Worked("continue-over-weekend", "as-recorded", (2 * 24 + 18.5) * HOUR),
    Worked("reopen-out-of-order", "restart", 1.5 * HOUR),
    Worked("reopen-out-of-order", "continue", 2.5 * HOUR),
)
RUSHED = _table(
    "elapsed-rushed.test.yaml",
    Worked("twenty-seconds", "chat-not-rushed", 20),
    Worked("twenty-seconds", "hard-minimum", 30),
    Worked("one-minute", "chat-not-rushed", 60),
    Worked("ninety-seconds", "chat-not-rushed", 90),
    Worked("ninety-seconds", "hard-minimum", 100),
    Worked("two-minutes", "chat-not-rushed", 120),
    Worked("twenty-nine-seconds", "hard-minimum", 29),
    Worked("ten-minutes", "chat-not-rushed", 600),
    Worked("two-hours", "chat-not-rushed", 2 * HOUR),
    Worked("not-resolved", "chat-not-rushed", None),
)
UPDATES = _table(
    "update-gap.test.yaml",
    Worked("regular", "gap-calendar", 2 * HOUR),
    Worked("regular", "gap-business", 2 * HOUR),
    Worked("over-the-weekend", "gap-calendar", 66 * HOUR),
    Worked("over-the-weekend", "gap-business", 2.5 * HOUR),
    Worked("over-easter", "gap-business", 4 * HOUR),
    Worked("over-easter", "gap-calendar", (4 * 24 + 19.5) * HOUR),
    Worked("awaiting-customer", "gap-business", 2 * HOUR),
    Worked("awaiting-customer", "gap-calendar", 8 * HOUR),
    Worked("reopened", "gap-calendar", 2 * HOUR),
    Worked("reopened", "gap-business", 2 * HOUR),
    Worked("never-updated", "gap-calendar", 10.5 * HOUR),
    Worked("never-updated", "gap-business", 8.5 * HOUR),
    Worked("system-notice", "gap-any-update", 1.5 * HOUR),
    Worked("system-notice", "gap-calendar", 6 * HOUR),
    Worked("still-open", "gap-calendar", 3 * HOUR),
    Worked("open-no-update", "gap-calendar", None),
    Worked("no-opening", "gap-calendar", None),
    Worked("out-of-order", "gap-business", 2 * HOUR),
)
IN_FLIGHT = _table(
    "in-flight.test.yaml",
    Worked("high-breached", "resolution-by-priority", 11.5 * HOUR),
    Worked("high-breached", "resolution-at-75", 27 * HOUR),
    Worked("high-at-risk", "resolution-by-priority", 2.5 * HOUR),
    Worked("high-on-track", "resolution-by-priority", None),
    Worked("at-75-percent", "resolution-at-75", 6 * HOUR),
    Worked("just-under-75-percent", "resolution-at-75", None),
    Worked("resolved-before", "resolution-by-priority", 1 * HOUR),
    Worked("resolved-before", "posted", 30 * MINUTE),
    Worked("resolved-after", "resolution-by-priority", 2.5 * HOUR),
    Worked("opened-after", "resolution-by-priority", None),
    Worked("pending-in-flight", "resolution-by-priority", None),
    Worked("over-the-weekend", "resolution-by-priority", 12 * HOUR),
    Worked("waiting-for-news", "posted", 26.5 * HOUR),
    Worked("recently-updated", "posted", 2 * HOUR),
)


@pytest.mark.parametrize(("fixture", "worked"), [*CLOCK, *PAUSE, *REOPEN, *RUSHED, *UPDATES])
def test_the_clock_measures_the_hand_worked_value(fixture: str, worked: Worked) -> None:
    finding = run_plugin_fixture(fixture)[(worked.record, worked.rule)]

    assert finding.measured == worked.seconds, finding.message


@pytest.mark.parametrize(("fixture", "worked"), list(IN_FLIGHT))
def test_an_open_case_measures_the_hand_worked_time_so_far(fixture: str, worked: Worked) -> None:
    finding = run_plugin_fixture(fixture)[(worked.record, worked.rule)]

    assert finding.measured == worked.seconds, finding.message


@pytest.mark.parametrize(
    ("record_id", "rule", "seconds"),
    [
        ("high-same-morning", "resolution-by-priority", 3 * HOUR),
        ("high-over-weekend", "resolution-by-priority", 8 * HOUR),
        ("high-summer-time", "resolution-by-priority", 6 * HOUR),
        ("low-over-easter", "resolution-by-priority", 14 * HOUR),
        ("low-over-easter", "keep-the-customer-posted", 4 * HOUR),
        ("normal-awaiting-customer", "resolution-by-priority", 8 * HOUR),
        ("normal-reopened", "resolution-by-priority", 7 * HOUR),
        ("urgent-otherwise", "resolution-by-priority", 10 * HOUR),
        ("urgent-otherwise", "keep-the-customer-posted", 5 * HOUR),
        ("chat-3m", "chat-not-rushed", 3 * MINUTE),
        ("chat-7m", "chat-not-rushed", 7 * MINUTE),
        ("silent-for-a-day", "keep-the-customer-posted", 13 * HOUR),
        ("silent-for-a-day", "resolution-by-priority", 15 * HOUR),
    ],
)
def test_the_shipped_standard_measures_the_hand_worked_value(
    record_id: str, rule: str, seconds: float
) -> None:
    finding = run_shipped_fixture()[(record_id, rule)]

    assert finding.measured == seconds, finding.message


# ---------------------------------------------------------------------------------------------
# evidence: an auditor can see exactly why the wall-clock time became the measured time
# ---------------------------------------------------------------------------------------------


def _segments(finding: Finding) -> list[Evidence]:
    return [piece for piece in finding.evidence if piece.kind == "segment"]


def _length(segment: Evidence) -> float:
    # In UTC: two times in one ZoneInfo zone subtract by their wall clocks.
    assert segment.at is not None
    assert segment.until is not None
    return (segment.until.astimezone(UTC) - segment.at.astimezone(UTC)).total_seconds()


def _labelled(finding: Finding, label: str) -> list[Evidence]:
    return [piece for piece in finding.evidence if piece.label == label]


@pytest.mark.parametrize(
    ("fixture", "record_id", "rule"),
    [
        ("elapsed-clock.test.yaml", "easter", "london-reply"),
        ("elapsed-clock.test.yaml", "london-long-day", "london-day"),
        ("elapsed-pause.test.yaml", "pause-over-weekend", "resolution-paused"),
        ("elapsed-reopen.test.yaml", "continue-over-weekend", "continue-business"),
        ("update-gap.test.yaml", "over-easter", "gap-business"),
    ],
)
def test_the_segments_tile_the_span_and_add_up_to_the_measurement(
    fixture: str, record_id: str, rule: str
) -> None:
    finding = run_plugin_fixture(fixture)[(record_id, rule)]
    segments = _segments(finding)
    clock = _labelled(finding, "clock")[0]

    assert segments[0].at == clock.at
    assert segments[-1].until == clock.until
    assert all(a.until == b.at for a, b in pairwise(segments))
    assert {piece.label for piece in segments} <= set(SEGMENT_KINDS)
    counted = sum(_length(piece) for piece in segments if piece.label == "counted")
    assert counted == finding.measured


def test_evidence_shows_how_four_days_became_two_working_hours() -> None:
    finding = run_plugin_fixture("elapsed-clock.test.yaml")[("easter", "london-reply")]

    assert [(piece.kind, piece.label) for piece in finding.evidence[:3]] == [
        ("event", "from"),
        ("event", "to"),
        ("note", "clock"),
    ]
    assert _labelled(finding, "clock")[0].detail == (
        "4d17h30m on the calendar, 2h counted (business time on london-office (Europe/London)): "
        "2d15h30m outside_hours, 2d holiday"
    )
    assert [(piece.label, piece.detail) for piece in _segments(finding)] == [
        ("counted", "1h"),
        ("outside_hours", "6h30m"),
        ("holiday", "1d"),
        ("outside_hours", "2d"),
        ("holiday", "1d"),
        ("outside_hours", "9h"),
        ("counted", "1h"),
    ]


def test_segments_read_in_the_schedules_own_zone() -> None:
    finding = run_plugin_fixture("elapsed-clock.test.yaml")[("london-autumn", "london-reply")]
    counted = [piece for piece in _segments(finding) if piece.label == "counted"]

    assert [piece.at.isoformat() for piece in counted] == [  # type: ignore[union-attr]
        "2026-10-23T16:30:00+01:00",
        "2026-10-26T09:00:00+00:00",
    ]


def test_calendar_time_reads_in_the_records_own_offset() -> None:
    engine = make_engine(_standard({"from": {"type": "opened"}, "to": {"type": "resolved"}}))
    case = record(
        "T1",
        ("2026-03-10T09:00:00+05:30", "opened", "customer"),
        ("2026-03-10T10:00:00+05:30", "resolved", "agent"),
    )

    (finding,) = findings(engine, case)

    assert _segments(finding)[0].at.isoformat() == "2026-03-10T09:00:00+05:30"  # type: ignore[union-attr]


def test_a_pause_names_the_event_and_status_that_stopped_the_clock() -> None:
    finding = run_plugin_fixture("elapsed-pause.test.yaml")[
        ("pause-over-weekend", "resolution-paused")
    ]

    (pause,) = _labelled(finding, "pause")
    assert (pause.event_index, pause.detail) == (1, "status awaiting_customer")
    assert [piece.detail for piece in _segments(finding) if piece.label == "paused"] == [
        "1h",
        "2h",
    ]


def test_a_pause_still_running_says_so() -> None:
    finding = run_plugin_fixture("elapsed-pause.test.yaml")[
        ("pending-until-resolved", "resolution-paused")
    ]

    (pause,) = _labelled(finding, "pause")
    assert pause.until is None
    assert "still paused" in pause.detail


def test_a_restart_shows_every_reopen_and_starts_at_the_last() -> None:
    finding = run_plugin_fixture("elapsed-reopen.test.yaml")[("reopened-twice", "restart")]

    reopens = _labelled(finding, "reopen")
    assert [piece.event_index for piece in reopens] == [2, 4]
    assert "restarts here" in reopens[-1].detail
    assert _labelled(finding, "from")[0].event_index == 4


def test_a_continued_clock_shows_each_resolution_it_stopped_at() -> None:
    finding = run_plugin_fixture("elapsed-reopen.test.yaml")[("reopened-twice", "continue")]

    assert [piece.event_index for piece in _labelled(finding, "resolved")] == [1, 3]
    assert _labelled(finding, "from")[0].event_index == 0
    assert _labelled(finding, "to")[0].event_index == 5


def test_events_sorted_by_the_reader_are_noted() -> None:
    finding = run_plugin_fixture("elapsed-clock.test.yaml")[("out-of-order", "london-reply")]

    assert _labelled(finding, "reordered")


def test_the_longest_gap_is_named_with_its_events() -> None:
    finding = run_plugin_fixture("update-gap.test.yaml")[("over-easter", "gap-business")]

    (summary,) = _labelled(finding, "longest_gap")
    assert summary.detail == "the longest of 3 waits while open: 4h"
    assert _labelled(finding, "from")[0].event_index == 1
    assert _labelled(finding, "to")[0].event_index == 2
    assert "longest wait: from the message by agent at 2026-04-02T16:30:00+01:00" in (
        finding.message
    )


def test_when_every_event_is_an_update_the_evidence_names_each_by_its_type() -> None:
    gaps = compile_update_gap({"updates": {}}, CompileContext("s", "r", {}))
    case = record(
        "ANY",
        ("2026-03-02T09:00:00Z", "opened", "customer"),
        ("2026-03-02T10:00:00Z", "note", "agent"),
        ("2026-03-02T15:00:00Z", "message", "agent"),
        ("2026-03-02T16:00:00Z", "resolved", "agent"),
    )

    measured = gaps(case, EvaluationContext(None))

    assert measured.value == 5 * HOUR
    assert measured.note == (
        "longest wait: from the event (note) at 2026-03-02T10:00:00+00:00 "
        "to the event (message) at 2026-03-02T15:00:00+00:00"
    )
    evidence = measured.evidence() if callable(measured.evidence) else measured.evidence
    assert "any event" not in " ".join(str(item.detail) for item in evidence)


def test_an_open_case_says_the_wait_after_its_last_event_is_not_judged() -> None:
    finding = run_plugin_fixture("update-gap.test.yaml")[("still-open", "gap-calendar")]

    assert _labelled(finding, "still_open")


# ---------------------------------------------------------------------------------------------
# too rushed
# ---------------------------------------------------------------------------------------------


def test_a_too_rushed_case_fails_with_a_message_that_says_so() -> None:
    finding = run_plugin_fixture("elapsed-rushed.test.yaml")[("twenty-seconds", "chat-not-rushed")]

    assert finding.outcome == "fail"
    assert finding.message == (
        "20s from first reply to resolution (too rushed: 20s is under the minimum of 1m)"
    )


def test_a_rushed_case_warns_and_says_which_minimum_it_missed() -> None:
    finding = run_plugin_fixture("elapsed-rushed.test.yaml")[("ninety-seconds", "chat-not-rushed")]

    assert finding.outcome == "warn"
    assert "rushed: 1m30s is under the desired minimum of 2m" in finding.message


# ---------------------------------------------------------------------------------------------
# a 'to' event that never came
# ---------------------------------------------------------------------------------------------


def test_a_reply_that_never_came_fails_with_a_note_and_the_from_event() -> None:
    finding = run_plugin_fixture("elapsed-missing.test.yaml")[("never-answered", "reply-or-fail")]

    assert finding.outcome == "fail"
    assert finding.measured is None
    assert finding.message == "measured n/a; ≤ 4h (no agent_response event after the created)"
    evidence = [
        (piece.kind, piece.label, piece.event_index, piece.detail) for piece in finding.evidence
    ]
    assert evidence == [
        ("event", "from", 0, "created"),
        ("note", "missing", None, "no agent_response event after the created"),
    ]


def test_an_open_case_audited_as_of_a_moment_is_still_judged_in_flight() -> None:
    on_track = _in_flight({"missing": "fail"}, _open_since("2026-03-10T11:00:00Z"))
    breached = _in_flight({"missing": "fail"}, _open_since("2026-03-10T07:00:00Z"))

    assert (on_track.outcome, on_track.note[:8]) == (None, "on track")
    assert (breached.outcome, breached.value) == ("fail", 5 * HOUR)


def test_a_lower_bound_whose_desired_is_shorter_than_adequate_is_refused() -> None:
    standard = _standard(
        {
            "from": {"type": "opened"},
            "to": {"type": "resolved"},
            "at_least": {"desired": "1m", "adequate": "2m"},
        }
    )

    with pytest.raises(StandardsInvalid, match="at_least: desired must not be shorter"):
        make_engine(standard)


# ---------------------------------------------------------------------------------------------
# in flight: judged on the time so far
# ---------------------------------------------------------------------------------------------


class _ContextWithZones(NamedTuple):
    """A compile context that carries a rule's thresholds, as ``CompileContext.zone_for`` does."""

    standard: str
    rule: str
    schedules: Mapping[str, Any]
    thresholds: Thresholds

    def schedule(self, name: str | None) -> Any:
        return CompileContext(self.standard, self.rule, self.schedules).schedule(name)

    def zone_for(self, record: Record) -> Thresholds | None:
        return self.thresholds


AS_OF = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TARGET = Thresholds(2 * HOUR, 4 * HOUR, "lower", "seconds")


def _open_since(opened: str) -> Record:
    return record("OPEN", (opened, "opened", "customer"))


def _in_flight(params: Mapping[str, Any], case: Record) -> Measurement:
    context = _ContextWithZones("s", "r", {}, TARGET)
    evaluate = compile_elapsed(
        {"from": {"type": "opened"}, "to": {"type": "resolved"}, **params},
        context,  # type: ignore[arg-type]
    )
    return evaluate(case, EvaluationContext(AS_OF))


@pytest.mark.parametrize(
    ("opened", "params", "outcome", "note_starts"),
    [
        ("2026-03-10T07:00:00Z", {}, "fail", "breached"),
        ("2026-03-10T08:00:00Z", {}, "warn", "at risk"),  # exactly the 4h target: not past it
        ("2026-03-10T10:00:00Z", {}, "warn", "at risk"),  # exactly the desired 2h
        ("2026-03-10T10:00:01Z", {}, "not_applicable", "on track"),
        ("2026-03-10T09:00:00Z", {"at_risk": "75%"}, "warn", "at risk"),  # 3h = 75% of 4h
        ("2026-03-10T09:00:01Z", {"at_risk": "75%"}, "not_applicable", "on track"),
        ("2026-03-10T10:00:00Z", {"at_risk": 0.25}, "warn", "at risk"),  # 2h >= 1h
    ],
)
def test_an_open_case_is_breached_at_risk_or_on_track(
    opened: str, params: dict[str, Any], outcome: str, note_starts: str
) -> None:
    measured = _in_flight(params, _open_since(opened))

    assert (measured.outcome or "not_applicable") == outcome
    assert measured.note.startswith(note_starts)
    assert (measured.value is None) == (outcome == "not_applicable")


def test_the_at_risk_note_says_how_much_of_the_target_is_used() -> None:
    measured = _in_flight({"at_risk": "75%"}, _open_since("2026-03-10T08:30:00Z"))

    assert measured.note == (
        "at risk: still open as of 2026-03-10T12:00:00+00:00, 3h30m so far, 88% of the target of 4h"
    )


def test_in_flight_evidence_shows_the_as_of_moment_and_the_segments() -> None:
    measured = _in_flight({}, _open_since("2026-03-10T09:00:00Z"))

    as_of = [piece for piece in measured.evidence if piece.label == "as_of"]
    assert [piece.at for piece in as_of] == [AS_OF]
    segments = [piece for piece in measured.evidence if piece.kind == "segment"]
    assert segments[-1].until == AS_OF


def test_events_after_the_as_of_moment_have_not_happened_yet() -> None:
    case = record(
        "LATE",
        ("2026-03-10T09:30:00Z", "opened", "customer"),
        ("2026-03-10T12:30:00Z", "resolved", "agent"),
    )

    measured = _in_flight({}, case)

    assert (measured.outcome, measured.value) == ("warn", 2.5 * HOUR)


def test_a_case_finished_before_the_as_of_moment_is_judged_by_the_engine() -> None:
    case = record(
        "DONE",
        ("2026-03-10T07:00:00Z", "opened", "customer"),
        ("2026-03-10T11:00:00Z", "resolved", "agent"),
    )

    measured = _in_flight({}, case)

    assert (measured.outcome, measured.value) == (None, 4 * HOUR)


# ---------------------------------------------------------------------------------------------
# parameters and odd records
# ---------------------------------------------------------------------------------------------


def _standard(params: Mapping[str, Any], check: str = "elapsed") -> dict[str, Any]:
    return {
        "id": "timeliness-under-test",
        "version": 1,
        "title": "Under test",
        "dimension": "timeliness",
        "rules": [
            {
                "id": "rule",
                "check": check,
                "params": dict(params),
                "thresholds": {"desired": "2h", "adequate": "4h"},
            }
        ],
    }


LONDON = {"timezone": "Europe/London", "hours": {"mon-fri": "09:00-17:00"}}


@pytest.mark.parametrize(
    ("params", "schedules", "error"),
    [
        (
            {"schedule": "london", "timezone_attribute": "tz"},
            {"london": LONDON},
            "schedule 'london' has its own time zone (Europe/London); timezone_attribute only "
            "applies to a schedule that names none",
        ),
        ({"schedule": "lodnon"}, {"london": LONDON}, "unknown schedule 'lodnon'; known schedules"),
        (
            {"timezone_attribute": "tz"},
            {},
            "timezone_attribute chooses the zone a schedule runs in",
        ),
        (
            {"schedule_attribute": "region", "schedules": {"emea": "lodnon"}},
            {"london": LONDON},
            "schedules.emea: unknown schedule 'lodnon'; known schedules: london",
        ),
        (
            {"schedule_attribute": "region"},
            {"london": LONDON},
            "schedule_attribute 'region' needs schedules",
        ),
        (
            {"schedules": {"emea": "london"}},
            {"london": LONDON},
            "this rule names no schedule_attribute",
        ),
        (
            {
                "schedule_attribute": "region",
                "schedules": {"emea": "london"},
                "timezone_attribute": "tz",
            },
            {"london": LONDON},
            "schedule 'london' has its own time zone",
        ),
        ({"reopen": {"events": {"type": "reopen"}}}, {}, "without on_reopen (restart or continue)"),
        ({"status": {"field": "state"}}, {}, "which only pause and on_reopen use"),
        ({"pause": {"while": []}}, {}, "should be non-empty"),
        ({"pause": {"until": ["pending"]}}, {}, "unknown key 'until'"),
        ({"on_reopen": "resume"}, {}, "'resume' is not allowed here"),
        ({"at_risk": "150%"}, {}, "at_risk must be more than 0% and at most 100%"),
        ({"at_least": "soon"}, {}, "at_least"),
    ],
)
def test_bad_params_are_refused_in_plain_words(
    params: dict[str, Any], schedules: dict[str, Any], error: str
) -> None:
    standard = _standard({"from": {"type": "opened"}, "to": {"type": "resolved"}, **params})

    with pytest.raises(StandardsInvalid) as raised:
        make_engine(standard, schedules=schedules)

    assert error in str(raised.value)


def test_update_gap_takes_the_same_clock_keys_as_elapsed() -> None:
    clock_keys = {
        "schedule",
        "schedule_attribute",
        "schedules",
        "timezone_attribute",
        "status",
        "pause",
        "reopen",
    }

    def shape(check: Any, key: str) -> dict[str, Any]:
        return {
            k: v for k, v in check.params_schema["properties"][key].items() if k != "description"
        }

    assert clock_keys <= set(ELAPSED.params_schema["properties"])
    assert clock_keys <= set(UPDATE_GAP.params_schema["properties"])
    assert all(shape(ELAPSED, key) == shape(UPDATE_GAP, key) for key in clock_keys)


def _schema_nodes(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    for name, spec in schema.get("properties", {}).items():
        yield f"{path}{name}", spec
        yield from _schema_nodes(spec, f"{path}{name}.")


@pytest.mark.parametrize("check", [ELAPSED, UPDATE_GAP], ids=lambda check: check.name)
def test_every_parameter_is_described_for_explain(check: Any) -> None:
    undescribed = [
        path
        for path, spec in _schema_nodes(check.params_schema)
        if not spec.get("description") and path.split(".")[-1] not in ("type", "actor", "where")
    ]

    assert not undescribed


def _odd_records() -> Iterator[Record]:
    base = datetime(2026, 3, 10, 9, tzinfo=UTC)

    def at(minutes: float) -> str:
        return (base + timedelta(minutes=minutes)).isoformat()

    yield record("empty")
    yield record("only-opened", (at(0), "opened", "customer"))
    yield record(
        "same-instant", (at(0), "opened"), (at(0), "message", "agent"), (at(0), "resolved")
    )
    yield record("resolved-first", (at(0), "resolved", "agent"), (at(5), "opened", "customer"))
    yield record(
        "odd-statuses",
        (at(0), "opened", "customer", {"status": 3}),
        (at(1), "note", "agent", {"status": None}),
        (at(2), "note", "agent", {"status": ["pending"]}),
        (at(3), "message", "agent", {"status": "pending"}),
        (at(4), "reopened", "customer"),
        (at(5), "resolved", "agent", {"status": "resolved"}),
        (at(6), "resolved", "agent", {"status": "closed"}),
    )
    yield record(
        "reopen-storm",
        *[(at(n), "reopened" if n % 2 else "resolved", "agent") for n in range(1, 40)],
        (at(0), "opened", "customer"),
    )
    yield record("zone-number", (at(0), "opened"), (at(9), "resolved"), tz=5)
    yield record("zone-empty", (at(0), "opened"), (at(9), "resolved"), tz="")


@pytest.mark.parametrize("as_of", [None, AS_OF, datetime(2020, 1, 1, tzinfo=UTC)])
def test_odd_records_never_raise(as_of: datetime | None) -> None:
    params = {
        "schedule": "office",
        "timezone_attribute": "tz",
        "pause": {"while": ["pending", "3"]},
    }
    rules = [
        {
            "id": f"elapsed-{mode}",
            "check": "elapsed",
            "params": {
                "from": {"type": "opened"},
                "to": {"type": "resolved"},
                "on_reopen": mode,
                "at_least": "1m",
                **params,
            },
            "thresholds": {"desired": "2h", "adequate": "4h"},
        }
        for mode in ("restart", "continue")
    ]
    rules.append(
        {
            "id": "gaps",
            "check": "update_gap",
            "params": params,
            "thresholds": {"desired": "2h", "adequate": "4h"},
        }
    )
    engine = make_engine(
        {**_standard({}), "rules": rules},
        schedules={"office": {"hours": {"mon-fri": "09:00-17:00"}}},
    )

    found = findings(engine, *_odd_records(), as_of=as_of)

    errors = {(finding.record, finding.rule) for finding in found if finding.outcome == "error"}
    assert {record_id for record_id, _ in errors} <= {"zone-number"}
    assert not [finding for finding in found if "raised" in finding.message]


# ---------------------------------------------------------------------------------------------
# cost: everything is compiled once, nothing is parsed per record
# ---------------------------------------------------------------------------------------------


def test_nothing_is_compiled_or_parsed_per_record(monkeypatch: pytest.MonkeyPatch) -> None:
    context = CompileContext("s", "r", {"office": parse_schedule("office", LONDON)})
    params = {
        "schedule": "office",
        "pause": {"while": ["pending"]},
        "on_reopen": "continue",
        "at_least": {"desired": "2m", "adequate": "1m"},
    }
    elapsed = compile_elapsed(
        {"from": {"type": "opened"}, "to": {"type": "resolved"}, **params}, context
    )
    gaps = compile_update_gap(params, context)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled or parsed while evaluating a record")

    for module in ("_casetime", "_elapsed", "_update_gap", "_params"):
        target = f"rulecore_timeliness.{module}"
        for name in ("compile_selector", "describe_selector", "parse_duration", "parse_schedule"):
            monkeypatch.setattr(f"{target}.{name}", refuse, raising=False)
    monkeypatch.setattr(CompileContext, "schedule", refuse)
    case = record(
        "T1",
        ("2026-03-09T09:00:00Z", "opened", "customer"),
        ("2026-03-09T10:00:00Z", "message", "agent", {"status": "pending"}),
        ("2026-03-09T11:00:00Z", "resolved", "agent", {"status": "resolved"}),
        ("2026-03-09T12:00:00Z", "reopened", "customer", {"status": "open"}),
        ("2026-03-09T13:00:00Z", "resolved", "agent"),
    )

    assert elapsed(case, EvaluationContext()).value == 2 * HOUR  # 1h, pending, resolved, 1h
    assert gaps(case, EvaluationContext()).value == 1 * HOUR


# ---------------------------------------------------------------------------------------------
# the shipped standards, on the example records
# ---------------------------------------------------------------------------------------------


def test_every_timeliness_rule_judges_the_example_records() -> None:
    engine = rulecore.Engine.from_paths([ROOT / "standards"])
    records = [
        rulecore.decode_record(line)
        for line in (ROOT / "examples" / "records" / "service-desk.jsonl").read_text().splitlines()
    ]

    found = findings(engine, *records)

    judged: dict[tuple[str, str], set[str]] = {}
    for finding in found:
        if finding.dimension == "timeliness":
            judged.setdefault((finding.standard, finding.rule), set()).add(finding.outcome)
    resolution = {rule for standard, rule in judged if standard == "timeliness-resolution"}
    assert resolution == {"resolution-by-priority", "chat-not-rushed", "keep-the-customer-posted"}
    assert all(outcomes - {"not_applicable"} for outcomes in judged.values())
    assert not any("error" in outcomes for outcomes in judged.values())


def test_the_timeline_index_finds_what_a_walk_finds() -> None:
    """Checks answer types-only selectors from rulecore.timeline_index by bisection; on random
    timelines that must give exactly what find_event's walk gives."""
    import random

    from rulecore import (
        compile_selector,
        find_event,
        find_position,
        positions_of,
        record_from_mapping,
        timeline_index,
    )

    kinds = ["opened", "message", "resolved", "reopened", "note"]
    rng = random.Random(11)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    for case in range(400):
        moments = sorted(
            start + timedelta(seconds=rng.randrange(0, 10**6)) for _ in range(rng.randrange(0, 12))
        )
        record = record_from_mapping(
            {
                "id": f"c{case}",
                "events": [
                    {"at": moment.isoformat(), "type": rng.choice(kinds)} for moment in moments
                ],
            }
        )
        index = timeline_index(record)
        assert index.times == tuple(event.at.timestamp() for event in record.events)
        for types in ({"message"}, {"resolved", "reopened"}, {"absent"}):
            positions = positions_of(index, frozenset(types))
            matches = compile_selector({"type": sorted(types)})
            for occurrence in ("first", "last"):
                for after in range(-1, len(record.events)):
                    assert find_position(positions, occurrence, after) == find_event(
                        record, matches, occurrence, after
                    )
