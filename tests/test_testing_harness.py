"""rulecore.testing, used the way an outside team tests its own check.

The plugin below is what a team outside the project would write: a class with a
``rulecore_register_checks`` hookimpl.  The tests read as that team's tests would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from rulecore import (
    Accumulator,
    AnyCheck,
    Check,
    CompileContext,
    CrossRecordCheck,
    EvaluationContext,
    Evaluator,
    Evidence,
    Measurement,
    Record,
    StandardsInvalid,
    hookimpl,
)
from rulecore.testing import (
    assert_fixture_passes,
    event,
    find_fixtures,
    findings,
    make_engine,
    outcomes,
    record,
)

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------------
# the outside plugin: "a promised callback is made on time"
# ---------------------------------------------------------------------------------------------


def compile_callback_kept(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    promise_type = params.get("promise", "callback_promised")

    def callback_kept(record: Record, context: EvaluationContext) -> Measurement:
        promises = [i for i, e in enumerate(record.events) if e.type == promise_type]
        if not promises:
            return Measurement.not_applicable("no callback was promised")
        promised = promises[0]
        due = datetime.fromisoformat(record.events[promised].fields["by"])
        calls = [
            i
            for i, e in enumerate(record.events)
            if i > promised and e.type == "call" and e.actor == "agent"
        ]
        if not calls:
            return Measurement(None, (), "the callback was never made", outcome="fail")
        called = record.events[calls[0]].at
        evidence = (Evidence("event", "call", called, event_index=calls[0]),)
        return Measurement(max(0.0, (called - due).total_seconds()), evidence)

    return callback_kept


class CallbackPlugin:
    @staticmethod
    @hookimpl
    def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
        register(
            Check(
                name="callback_kept",
                dimension="anticipation",
                doc="Seconds by which a promised callback was late; 0 when on time.",
                params_schema={
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"promise": {"type": "string"}},
                },
                compile=compile_callback_kept,
                unit="seconds",
                better="lower",
                default_thresholds={"desired": 0, "adequate": "15m"},
            )
        )


STANDARD = """
    id: callbacks
    version: 1
    title: Promised callbacks are made on time
    dimension: anticipation
    rules:
      - id: callback-on-time
        check: callback_kept
        scope: {field: channel, op: eq, value: phone}
"""


def promised_callback(id: str, call_at: str | None, **attributes: Any) -> Record:
    promise = ("2026-03-02T09:00:00Z", "callback_promised", "agent", {"by": "2026-03-02T12:00:00Z"})
    calls = [(call_at, "call", "agent")] if call_at else []
    return record(id, promise, *calls, **attributes)


# ---------------------------------------------------------------------------------------------
# a plugin author's tests
# ---------------------------------------------------------------------------------------------


def test_every_outcome_of_the_callback_check() -> None:
    engine = make_engine(STANDARD, plugins=[CallbackPlugin()], entrypoints=False)

    result = outcomes(
        engine,
        promised_callback("on-time", "2026-03-02T11:59:00Z", channel="phone"),
        promised_callback("late", "2026-03-02T12:10:00Z", channel="phone"),
        promised_callback("very-late", "2026-03-02T12:15:01Z", channel="phone"),
        promised_callback("never", None, channel="phone"),
        record("no-promise", ("2026-03-02T09:00:00Z", "opened", "customer"), channel="phone"),
        promised_callback("e-mail", "2026-03-02T15:00:00Z", channel="email"),
    )

    assert result == {
        ("e-mail", "callback-on-time"): "out_of_scope",
        ("late", "callback-on-time"): "warn",
        ("never", "callback-on-time"): "fail",
        ("no-promise", "callback-on-time"): "not_applicable",
        ("on-time", "callback-on-time"): "pass",
        ("very-late", "callback-on-time"): "fail",
    }


def test_findings_carry_the_measured_value_and_the_evidence() -> None:
    engine = make_engine(STANDARD, plugins=[CallbackPlugin()], entrypoints=False)

    (finding,) = findings(
        engine, promised_callback("late", "2026-03-02T12:10:00Z", channel="phone")
    )

    assert (finding.outcome, finding.measured) == ("warn", 600.0)
    assert [(piece.label, piece.at) for piece in finding.evidence] == [
        ("call", datetime.fromisoformat("2026-03-02T12:10:00+00:00"))
    ]


FIXTURE = """\
standard:
  id: callbacks
  version: 1
  title: Promised callbacks are made on time
  dimension: anticipation
  rules:
    - id: callback-on-time
      check: callback_kept
cases:
  - name: called back ten minutes late is tolerated
    record:
      id: late
      events:
        - at: "2026-03-02T09:00:00Z"
          type: callback_promised
          actor: agent
          fields: {by: "2026-03-02T12:00:00Z"}
        # 10 minutes after the promised time: inside the 15-minute zone.
        - {at: "2026-03-02T12:10:00Z", type: call, actor: agent}
    expect: {callback-on-time: EXPECTED}
"""


def test_a_fixture_file_for_the_plugin_passes(tmp_path: Path) -> None:
    fixture = tmp_path / "callbacks.test.yaml"
    fixture.write_text(FIXTURE.replace("EXPECTED", "warn"), encoding="utf-8")

    assert_fixture_passes(fixture, plugins=[CallbackPlugin()], entrypoints=False)


def test_a_fixture_with_a_wrong_expectation_fails_with_the_mismatch(tmp_path: Path) -> None:
    fixture = tmp_path / "callbacks.test.yaml"
    fixture.write_text(FIXTURE.replace("EXPECTED", "pass"), encoding="utf-8")

    with pytest.raises(AssertionError) as raised:
        assert_fixture_passes(fixture, plugins=[CallbackPlugin()], entrypoints=False)

    assert str(raised.value) == (
        f"1 of 1 cases in {fixture} did not pass:\n"
        f"  {fixture}:10: called back ten minutes late is tolerated (record late)\n"
        "      callback-on-time: expected pass, got warn "
        "(measured 10m; desired ≤ 0s, adequate ≤ 15m)"
    )


def test_find_fixtures_lists_fixture_files_sorted_and_refuses_a_missing_folder(
    tmp_path: Path,
) -> None:
    (tmp_path / "b").mkdir()
    for name in ("b/second.test.yaml", "first.test.yml", "standard.yaml"):
        (tmp_path / name).write_text("cases: []\n", encoding="utf-8")

    assert find_fixtures(tmp_path) == [tmp_path / "b/second.test.yaml", tmp_path / "first.test.yml"]
    with pytest.raises(FileNotFoundError, match="no-such-folder"):
        find_fixtures(tmp_path / "no-such-folder")


# ---------------------------------------------------------------------------------------------
# standards given as text, a mapping or a path
# ---------------------------------------------------------------------------------------------


def test_a_broken_standard_is_a_readable_error_at_its_line() -> None:
    with pytest.raises(StandardsInvalid) as raised:
        make_engine(
            STANDARD + "        params: {promis: callback_promised}\n",
            plugins=[CallbackPlugin()],
            entrypoints=False,
        )

    # Line and column count in the dedented text: line 1 is the empty first line.
    assert str(raised.value) == "<standard>:10:14: unknown key 'promis'; did you mean 'promise'?"


def test_a_standard_naming_a_check_nobody_registered_says_so() -> None:
    with pytest.raises(StandardsInvalid, match=r"unknown check 'callback_kept'; no checks"):
        make_engine(STANDARD, entrypoints=False)


def test_a_file_name_passed_as_text_is_pointed_at_pathlib() -> None:
    with pytest.raises(StandardsInvalid, match=r"pass pathlib\.Path"):
        make_engine("standards/flow-handoffs.yaml")


def test_a_standard_as_a_mapping() -> None:
    standard = {
        "id": "callbacks",
        "version": 1,
        "title": "Callbacks",
        "dimension": "anticipation",
        "rules": [{"id": "kept", "check": "callback_kept", "thresholds": {"max": "5m"}}],
    }
    engine = make_engine(standard, plugins=[CallbackPlugin()], entrypoints=False)

    assert outcomes(engine, promised_callback("late", "2026-03-02T12:10:00Z")) == {
        ("late", "kept"): "fail"
    }


def test_a_shipped_standard_by_path_with_the_installed_plugins() -> None:
    engine = make_engine(ROOT / "standards" / "flow-handoffs.yaml")
    bounced = record(
        "T1",
        event("2026-03-02T09:00:00Z", "assigned", team="billing"),
        event("2026-03-02T09:30:00Z", "assigned", team="returns"),
        event("2026-03-02T10:00:00Z", "assigned", team="billing"),
    )

    assert outcomes(engine, bounced) == {("T1", "team-handoffs"): "warn"}


def test_schedules_reach_the_checks_that_name_them() -> None:
    class SchedulePlugin:
        @staticmethod
        @hookimpl
        def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
            def compile_open(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
                schedule = context.schedule(params["schedule"])
                where = f"{schedule.name} in {schedule.timezone}"
                return lambda record, _: Measurement(0.0, note=where)

            register(
                Check("on_schedule", "timeliness", "", {"type": "object"}, compile_open, "count")
            )

    standard = {
        "id": "hours",
        "version": 1,
        "title": "Hours",
        "dimension": "timeliness",
        "rules": [
            {
                "id": "open-hours",
                "check": "on_schedule",
                "params": {"schedule": "office"},
                "thresholds": {"max": 0},
            }
        ],
    }
    office = {"timezone": "Europe/London", "hours": {"mon-fri": "09:00-17:00"}}

    engine = make_engine(
        standard, plugins=[SchedulePlugin], entrypoints=False, schedules={"office": office}
    )
    (finding,) = findings(engine, record("T1"))

    assert (finding.outcome, finding.message.endswith("(office in Europe/London)")) == (
        "pass",
        True,
    )
    with pytest.raises(StandardsInvalid, match=r"unknown schedule 'office'"):
        make_engine(standard, plugins=[SchedulePlugin], entrypoints=False)
    with pytest.raises(StandardsInvalid, match=r"^<schedules>:1:1: schedule 'office'"):
        make_engine(
            standard,
            plugins=[SchedulePlugin],
            entrypoints=False,
            schedules={"office": {"hours": 9}},
        )


# ---------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------


def test_the_three_event_forms_build_the_same_record() -> None:
    as_tuple = record("T1", ("2026-03-02T09:00:00Z", "assigned", "system", {"team": "billing"}))
    as_mapping = record(
        "T1",
        {"at": "2026-03-02T09:00:00Z", "type": "assigned", "fields": {"team": "billing"}},
    )
    as_event = record("T1", event("2026-03-02T09:00:00Z", "assigned", team="billing"))

    assert as_tuple == as_mapping == as_event


def test_events_out_of_order_are_sorted_as_a_reader_would() -> None:
    built = record(
        "T1",
        ("2026-03-02T10:00:00+01:00", "message", "agent"),  # 09:00Z
        ("2026-03-02T08:30:00Z", "opened", "customer"),
        channel="chat",
        priority=2,
    )

    assert [e.type for e in built.events] == ["opened", "message"]
    assert built.reordered
    assert built.attributes == {"channel": "chat", "priority": 2}


def test_a_timestamp_without_an_offset_is_refused_naming_the_record() -> None:
    with pytest.raises(ValueError, match=r"record 'T1' .*timezone.*events\[0\]\.at"):
        record("T1", ("2026-03-02T09:00:00", "opened"))
    with pytest.raises(ValueError, match=r"tuple \(at, type"):
        record("T1", ("2026-03-02T09:00:00Z",))


def test_two_records_with_one_id_are_refused() -> None:
    engine = make_engine(STANDARD, plugins=[CallbackPlugin()], entrypoints=False)

    with pytest.raises(ValueError, match="'T1' is given twice"):
        outcomes(engine, record("T1"), record("T1"))


# ---------------------------------------------------------------------------------------------
# a plugin that fails, and a check across records
# ---------------------------------------------------------------------------------------------


def test_a_plugin_that_fails_to_register_is_named() -> None:
    class BrokenPlugin:
        @staticmethod
        @hookimpl
        def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
            raise RuntimeError("forgot to configure")

    with pytest.raises(AssertionError, match=r"BrokenPlugin: .*RuntimeError: forgot to configure"):
        make_engine(STANDARD, plugins=[BrokenPlugin()], entrypoints=False)


class _RepeatContacts:
    """Per customer, how many earlier records the same customer opened."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.counts: list[tuple[str, int]] = []

    def add(self, record: Record, context: EvaluationContext) -> None:
        customer = str(record.attribute("customer"))
        self.counts.append((record.id, self.seen.get(customer, 0)))
        self.seen[customer] = self.seen.get(customer, 0) + 1

    def results(self) -> Iterator[tuple[str, Measurement]]:
        for record_id, earlier in self.counts:
            yield record_id, Measurement(float(earlier))


class RepeatPlugin:
    @staticmethod
    @hookimpl
    def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
        def compile_repeats(
            params: Mapping[str, Any], context: CompileContext
        ) -> Callable[[], Accumulator]:
            return _RepeatContacts

        register(
            CrossRecordCheck("repeats", "anticipation", "", {"type": "object"}, compile_repeats)
        )


def test_outcomes_run_a_whole_audit_so_cross_record_checks_see_every_record() -> None:
    engine = make_engine(
        """
        id: repeats
        version: 1
        title: Customers need not come back
        dimension: anticipation
        rules:
          - {id: first-contact-resolution, check: repeats, thresholds: {desired: 0, adequate: 1}}
        """,
        plugins=[RepeatPlugin()],
        entrypoints=False,
    )

    result = outcomes(
        engine,
        record("A", customer="C1"),
        record("B", customer="C2"),
        record("C", customer="C1"),
        record("D", customer="C1"),
    )

    assert result == {
        ("A", "first-contact-resolution"): "pass",
        ("B", "first-contact-resolution"): "pass",
        ("C", "first-contact-resolution"): "warn",
        ("D", "first-contact-resolution"): "fail",
    }
