"""rulecore.pytest_plugin: fixture cases as pytest items, their failure reports, and fixtures.

Each test runs pytest inside pytest (``pytester``) on a folder holding a standard, its
fixture and test modules, with the plugin turned on exactly as its users do: ``-p``.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

STANDARD = """\
id: chat-desk
version: 1
title: Chats are answered fast
dimension: timeliness
scope: {field: channel, op: eq, value: chat}
rules:
  - id: first-reply
    check: elapsed
    params:
      from: {type: opened}
      to: {type: message, actor: agent}
    thresholds: {desired: 1m, adequate: 3m}
"""

FIXTURE = """\
cases:
  - name: answered within the minute
    record:
      id: quick
      attributes: {channel: chat}
      events:
        - {at: "2026-03-02T09:00:00Z", type: opened, actor: customer}
        - {at: "2026-03-02T09:00:45Z", type: message, actor: agent}
    expect: {first-reply: pass}
  - name: answered after two minutes
    record:
      id: slow
      attributes: {channel: chat}
      events:
        - {at: "2026-03-02T09:00:00Z", type: opened, actor: customer}
        - {at: "2026-03-02T09:02:00Z", type: message, actor: agent}
    expect: {first-reply: EXPECTED}
  - name: e-mails are out of scope
    record:
      id: email
      attributes: {channel: email}
    expect: {first-reply: out_of_scope}
"""


def _write(pytester: pytest.Pytester, expected: str) -> None:
    pytester.makefile(".yaml", **{"chat-desk": STANDARD})
    pytester.makefile(".test.yaml", **{"chat-desk": FIXTURE.replace("EXPECTED", expected)})


def test_each_case_of_a_fixture_is_one_item_named_after_it(pytester: pytest.Pytester) -> None:
    _write(pytester, "warn")

    result = pytester.runpytest("-p", "rulecore.pytest_plugin", "-v")

    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "chat-desk.test.yaml::answered within the minute PASSED*",
            "chat-desk.test.yaml::answered after two minutes PASSED*",
            "chat-desk.test.yaml::e-mails are out of scope PASSED*",
        ]
    )


def test_without_the_plugin_fixtures_are_not_collected(pytester: pytest.Pytester) -> None:
    _write(pytester, "warn")

    result = pytester.runpytest()

    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_failing_case_shows_expected_actual_measured_thresholds_and_evidence(
    pytester: pytest.Pytester,
) -> None:
    _write(pytester, "pass")

    result = pytester.runpytest("-p", "rulecore.pytest_plugin")

    result.assert_outcomes(passed=2, failed=1)
    failure = result.stdout.str()
    report = failure[failure.index("chat-desk.test.yaml:10:") :].splitlines()[:10]
    assert report == [
        "chat-desk.test.yaml:10: answered after two minutes (record slow)",
        "  first-reply: expected pass, got warn",
        "      measured:   2m",
        "      thresholds: desired ≤ 1m, adequate ≤ 3m",
        "      message:    measured 2m; desired ≤ 1m, adequate ≤ 3m",
        "      evidence:",
        "        - event  from  2026-03-02T09:00:00+00:00  event 0  opened",
        "        - event  to  2026-03-02T09:02:00+00:00  event 1  message by agent",
        "        - note  clock  2026-03-02T09:00:00+00:00 → 2026-03-02T09:02:00+00:00  "
        "2m on the calendar, 2m counted (calendar time)",
        "        - segment  counted  2026-03-02T09:00:00+00:00 → 2026-03-02T09:02:00+00:00  2m",
    ]
    result.stdout.fnmatch_lines(["FAILED chat-desk.test.yaml::answered after two minutes*"])


def test_a_case_left_out_of_scope_says_there_was_no_finding(pytester: pytest.Pytester) -> None:
    _write(pytester, "warn")
    fixture = pytester.path / "chat-desk.test.yaml"
    fixture.write_text(
        fixture.read_text(encoding="utf-8").replace(
            "{first-reply: out_of_scope}", "{first-reply: pass}"
        ),
        encoding="utf-8",
    )

    result = pytester.runpytest("-p", "rulecore.pytest_plugin")

    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "chat-desk.test.yaml:*: e-mails are out of scope (record email)",
            "  first-reply: expected pass, got out_of_scope",
            "      no finding: the rule's scope or its standard's scope left the record out",
        ]
    )


def test_an_invalid_standard_fails_every_case_at_its_location(pytester: pytest.Pytester) -> None:
    _write(pytester, "warn")
    (pytester.path / "chat-desk.yaml").write_text(
        STANDARD.replace("check: elapsed", "check: elapsd"), encoding="utf-8"
    )

    result = pytester.runpytest("-p", "rulecore.pytest_plugin")

    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        ["invalid fixture:", "*chat-desk.yaml:8:12: unknown check 'elapsd'*"]
    )


def test_a_fixture_that_is_not_a_fixture_is_a_located_collection_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".test.yaml", broken="cases: []\n")

    result = pytester.runpytest("-p", "rulecore.pytest_plugin")

    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["invalid fixture:", "*broken.test.yaml:1:*"])


def test_the_engine_and_audit_fixtures_audit_records_in_a_python_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".yaml", **{"chat-desk": STANDARD})
    pytester.makefile(
        ".jsonl",
        chats='{"id": "C-1", "attributes": {"channel": "chat"}, "events": '
        '[{"at": "2026-03-02T09:00:00Z", "type": "opened", "actor": "customer"}, '
        '{"at": "2026-03-02T09:05:00Z", "type": "message", "actor": "agent"}]}\n'
        "not json\n",
    )
    pytester.makepyfile(
        """
        from pathlib import Path

        from rulecore.testing import record

        def test_from_python(rulecore_engine, audit_records):
            rulecore_engine(Path("chat-desk.yaml"))
            quick = record(
                "Q",
                ("2026-03-02T09:00:00Z", "opened", "customer"),
                ("2026-03-02T09:00:30Z", "message", "agent"),
                channel="chat",
            )
            assert audit_records([quick]).outcomes == {("Q", "first-reply"): "pass"}

        def test_from_a_file(rulecore_engine, audit_records):
            engine = rulecore_engine(Path("chat-desk.yaml"))
            audit = audit_records("chats.jsonl", engine)
            assert audit.outcome("C-1", "first-reply") == "fail"
            assert [rejection.line for rejection in audit.rejections] == [2]
            assert audit.summary.read == 2

        def test_two_engines_need_naming_the_one(rulecore_engine, audit_records):
            rulecore_engine(Path("chat-desk.yaml"))
            rulecore_engine(Path("chat-desk.yaml"))
            try:
                audit_records([])
            except TypeError as error:
                assert "built 2 engines" in str(error)
            else:
                raise AssertionError("no TypeError")
        """
    )

    result = pytester.runpytest("-p", "rulecore.pytest_plugin")

    result.assert_outcomes(passed=3)


def test_a_plugin_not_installed_is_named_in_the_ini_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        countplugin="""
        from rulecore import Check, Measurement, hookimpl

        def _compile(params, context):
            return lambda record, context: Measurement(float(len(record.events)))

        @hookimpl
        def rulecore_register_checks(register):
            register(Check(name="event_total", dimension="flow", doc="Events.",
                           params_schema={"type": "object"}, compile=_compile))
        """
    )
    pytester.makeini(
        """
        [pytest]
        pythonpath = .
        rulecore_plugins = countplugin
        rulecore_entrypoints = false
        """
    )
    pytester.makefile(
        ".test.yaml",
        short="""\
standard:
  id: short
  version: 1
  title: Short
  dimension: flow
  rules:
    - {id: few-events, check: event_total, thresholds: {desired: 1, adequate: 2}}
    - {id: handoffs-too, check: handoffs}
cases:
  - name: one event passes
    record:
      id: R1
      events: [{at: "2026-03-02T09:00:00Z", type: opened}]
    expect: {few-events: pass}
""",
    )

    result = pytester.runpytest("-p", "rulecore.pytest_plugin")

    # The installed plugins are left out, so the first-party check is unknown.
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["invalid fixture:", "*unknown check 'handoffs'*"])
    fixture = pytester.path / "short.test.yaml"
    fixture.write_text(
        fixture.read_text(encoding="utf-8").replace(
            "    - {id: handoffs-too, check: handoffs}\n", ""
        ),
        encoding="utf-8",
    )
    pytester.runpytest("-p", "rulecore.pytest_plugin").assert_outcomes(passed=1)
