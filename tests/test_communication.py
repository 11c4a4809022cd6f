"""The communication checks: keeps_informed and same_channel.

The fixtures (``plugins/rulecore_communication/fixtures``), run by test_fixtures.py, prove the
outcomes case by case; these tests hold what fixtures cannot show: the evidence and notes a
finding carries, business time for ``within``, and the errors a bad rule gets.
"""

from __future__ import annotations

import pytest

from rulecore import StandardsInvalid
from rulecore.testing import event, findings, make_engine, record


def _standard(rule: str) -> str:
    return f"id: c\nversion: 1\ntitle: t\ndimension: communication\nrules:\n{rule}"


def test_keeps_informed_shows_each_change_and_promise_with_its_verdict() -> None:
    engine = make_engine(
        _standard('  - id: told\n    check: keeps_informed\n    message: "{note}"\n')
    )
    case = record(
        "R",
        event("2026-04-13T09:00:00+02:00", "opened", "customer"),
        event("2026-04-13T09:10:00+02:00", "status", "agent", status="pending"),
        event("2026-04-13T09:25:00+02:00", "message", "agent"),
        event("2026-04-13T09:30:00+02:00", "promise", "agent", due="2026-04-13T12:00:00+02:00"),
        event("2026-04-13T10:00:00+02:00", "escalated"),
        event("2026-04-13T14:00:00+02:00", "message", "agent"),
        event("2026-04-13T15:00:00+02:00", "promise", "agent", due="soon"),
    )
    (finding,) = findings(engine, case)
    assert finding.outcome == "fail"
    assert finding.measured == 2.0
    assert finding.message == "2 of 3 not told in time"
    pieces = [(piece.label, piece.event_index, piece.detail) for piece in finding.evidence]
    assert pieces == [
        ("no_due_time", 6, "due 'soon' is not a timestamp"),
        ("told_of_change", 1, "status: told after 15m, by message"),
        ("not_told_of_promise", 3, "promise: told 2h after the time it was due, "
         "2026-04-13T12:00:00+02:00"),
        ("not_told_of_change", 4, "escalated: told 3h after the time it was due, "
         "2026-04-13T11:00:00+02:00"),
    ]  # fmt: skip


def test_within_counts_business_hours_when_a_schedule_is_named() -> None:
    rules = (
        "  - id: calendar\n    check: keeps_informed\n"
        "  - id: office\n    check: keeps_informed\n    params: {schedule: office}\n"
    )
    office = {"timezone": "Europe/Berlin", "hours": {"mon-fri": "09:00-18:00"}}
    engine = make_engine(_standard(rules), schedules={"office": office})
    # A status change at 17:30 on Friday, told at 09:20 on Monday: 50 working minutes.
    case = record(
        "R",
        event("2026-04-17T17:30:00+02:00", "status", "agent", status="pending"),
        event("2026-04-20T09:20:00+02:00", "message", "agent"),
    )
    outcomes = {finding.rule: finding.outcome for finding in findings(engine, case)}
    assert outcomes == {"calendar": "warn", "office": "pass"}


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ("{within: soon}", "soon"),
        ("{schedule: nowhere}", "unknown schedule 'nowhere'"),
        ("{notice: {kind: message}}", "kind"),
    ],
)
def test_a_bad_rule_is_refused_when_the_standard_loads(params: str, words: str) -> None:
    rule = f"  - id: told\n    check: keeps_informed\n    params: {params}\n"
    with pytest.raises(StandardsInvalid, match=words):
        make_engine(_standard(rule))


def test_same_channel_names_both_channels_and_follows_the_customer() -> None:
    engine = make_engine(
        _standard('  - id: same\n    check: same_channel\n    message: "{note}"\n')
    )
    case = record(
        "R",
        event("2026-04-13T09:00:00+02:00", "opened", "customer"),
        event("2026-04-13T09:10:00+02:00", "message", "agent", channel="phone"),
        event("2026-04-13T10:00:00+02:00", "message", "customer", channel="chat"),
        event("2026-04-13T10:01:00+02:00", "message", "agent"),
        event("2026-04-13T10:02:00+02:00", "message", "agent", channel="chat"),
        channel="email",
    )
    (finding,) = findings(engine, case)
    assert finding.measured == 2.0
    assert finding.message == "2 of 3 replies on another channel"
    assert [(piece.event_index, piece.detail) for piece in finding.evidence] == [
        (1, "replied on phone to a customer on email"),
        (3, "replied on email to a customer on chat"),
    ]
