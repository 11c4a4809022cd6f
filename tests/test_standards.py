"""Standards: ``rulecore validate`` words every problem in a standard at ``file:line:col``.

Each test breaks a valid standard in one way and checks the error's words and where it points.
Expected locations are found in the YAML text itself (:func:`where`), so a test says which
piece of the file the error must point at, not a line number that drifts when the text changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

import rulecore.cli
from rulecore import (
    SELECTOR_SCHEMA,
    AnyCheck,
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Measurement,
    PluginManager,
    Record,
    SourceError,
    StandardsInvalid,
    collect,
    get_plugin_manager,
    hookimpl,
    load_standards,
)
from rulecore.cli import main

# A check of the tests' own, so that what is validated here does not move when the first-party
# plugins change their parameters.
WAIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["from", "to"],
    "additionalProperties": False,
    "properties": {
        "from": SELECTOR_SCHEMA,
        "to": {
            **SELECTOR_SCHEMA,
            "properties": {
                **SELECTOR_SCHEMA["properties"],
                "occurrence": {"enum": ["first", "last"]},
            },
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


def compile_wait(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    def wait(record: Record, eval_context: EvaluationContext) -> Measurement:
        return Measurement.not_applicable("never measures")

    return wait


class WaitCheck:
    @hookimpl
    def rulecore_register_checks(self, register: Callable[[AnyCheck], None]) -> None:
        register(Check("wait", "timeliness", "Time waited.", WAIT_SCHEMA, compile_wait, "seconds"))


def manager_with_wait(**options: Any) -> PluginManager:
    manager = get_plugin_manager(**options)
    manager.register(WaitCheck(), name="standards-test")
    return manager


@pytest.fixture(autouse=True)
def _wait_check_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rulecore.cli, "get_plugin_manager", manager_with_wait)


VALID = """\
id: first-reply
version: 1
title: First reply from an agent
dimension: timeliness
rules:
  - id: chat-reply
    check: wait
    scope: {field: channel, op: eq, value: chat}
    params:
      from: {type: opened}
      to: {type: message, actor: agent}
    thresholds: {desired: 1m, adequate: 5m}
"""

RULE = """\
  - id: {rule_id}
    check: wait
    params:
      from: {{type: opened}}
      to: {{type: resolved}}
    thresholds: {thresholds}
"""


def broken(*replacements: tuple[str, str], text: str = VALID) -> str:
    """``text`` with each ``(old, new)`` replaced once; fails if ``old`` is not there."""
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def where(path: Path, needle: str, occurrence: int = 1) -> str:
    """``path:line:col`` of the ``occurrence``-th ``needle`` in the file (1-based)."""
    text = path.read_text(encoding="utf-8")
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"{path}:{line}:{column}"


def validate(*paths: Path) -> Result:
    return CliRunner().invoke(main, ["validate", *map(str, paths)])


def errors(result: Result) -> list[str]:
    """The error lines ``validate`` printed, without the ``Error: `` prefix."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    return [line.removeprefix("Error: ") for line in lines if line.startswith("Error: ")]


def only_error(result: Result) -> str:
    found = errors(result)
    assert len(found) == 1, found
    return found[0]


def test_valid_standard_validates(tmp_path: Path) -> None:
    result = validate(write(tmp_path, "reply.yaml", VALID))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "ok: 1 standard with 1 rule in 1 file"


def test_validate_counts_only_the_files_that_hold_standards(tmp_path: Path) -> None:
    write(tmp_path, "reply.yaml", VALID)
    write(tmp_path, "export.mapping.yaml", "kind: mapping\nid: id\n")
    write(tmp_path, "office.yaml", "kind: schedule\nname: office\nhours: {mon-fri: 09:00-17:00}\n")
    result = validate(tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "ok: 1 standard with 1 rule in 1 file"


# ---------------------------------------------------------------------------------------------
# the standard schema
# ---------------------------------------------------------------------------------------------


def test_unknown_key_says_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", broken(("    scope:", "    scoep:")))
    assert only_error(validate(path)) == (
        f"{where(path, 'scoep')}: unknown key 'scoep'; did you mean 'scope'?"
    )


def test_unknown_key_far_from_any_lists_the_allowed_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", VALID + "zzz: 1\n")
    message = only_error(validate(path))
    assert message.startswith(f"{where(path, 'zzz')}: unknown key 'zzz'; expected one of: ")
    for key in ("dimension", "rules", "title", "version"):
        assert key in message


def test_missing_required_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        broken(("title: First reply from an agent\n", ""), ("    check: wait\n", "")),
    )
    assert errors(validate(path)) == [
        f"{path}:1:1: missing required key 'title'",
        f"{where(path, 'id: chat-reply')}: missing required key 'check' in rules[0]",
    ]


@pytest.mark.parametrize(
    ("old", "new", "needle", "words"),
    [
        (
            "version: 1",
            "version: [1]",
            "[1]",
            "version should be text or a whole number, not a list",
        ),
        (
            "title: First reply from an agent",
            "title: 5",
            "5",
            "title should be text, not the number 5",
        ),
        ("rules:\n", "rules: {}\n", "{}", "rules should be a list, not a mapping"),
        (
            "check: wait",
            "check: [elapsed]",
            "[elapsed]",
            "rules[0].check should be text, not a list",
        ),
    ],
)
def test_wrong_type(tmp_path: Path, old: str, new: str, needle: str, words: str) -> None:
    text = broken((old, new))
    if new.startswith("rules:"):
        text = text[: text.index("rules: {}") + len("rules: {}")] + "\n"
    path = write(tmp_path, "s.yaml", text)
    assert only_error(validate(path)) == f"{where(path, needle)}: {words}"


@pytest.mark.parametrize(
    ("old", "new", "bad_id"),
    [
        ("id: first-reply", "id: First Reply", "First Reply"),
        ("id: chat-reply", "id: -chat", "-chat"),
    ],
)
def test_bad_id(tmp_path: Path, old: str, new: str, bad_id: str) -> None:
    path = write(tmp_path, "s.yaml", broken((old, new)))
    assert only_error(validate(path)) == (
        f"{where(path, bad_id)}: {bad_id!r} is not a valid id; "
        "use lower-case letters, digits, '.', '_' and '-'"
    )


def test_unknown_scope_operator_lists_the_operators(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", broken(("op: eq", "op: equals")))
    message = only_error(validate(path))
    assert message.startswith(f"{where(path, 'equals')}: 'equals' is not allowed here; use one of")
    assert "'eq'" in message
    assert "'matches'" in message


# ---------------------------------------------------------------------------------------------
# YAML itself
# ---------------------------------------------------------------------------------------------


def test_duplicate_yaml_key_points_at_the_second(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", broken(("dimension:", "title: Again\ndimension:")))
    assert only_error(validate(path)) == (
        f"{where(path, 'title', occurrence=2)}: key 'title' appears twice (first on line 3)"
    )


def test_duplicate_key_inside_a_rule(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", VALID + "    check: handoffs\n")
    assert only_error(validate(path)) == (
        f"{where(path, 'check', occurrence=2)}: key 'check' appears twice (first on line 7)"
    )


def test_invalid_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", broken(("title: First", 'title: "First')))
    message = only_error(validate(path))
    assert message.startswith(f"{path}:")
    assert "this is not valid YAML" in message


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.mkdir [{target}]",
        "!!python/object/new:pathlib.Path [{target}]",
        "!!python/name:os.system",
    ],
)
def test_python_tags_are_errors_and_never_run(tmp_path: Path, tag: str) -> None:
    target = tmp_path / "created-by-yaml"
    path = write(
        tmp_path,
        "s.yaml",
        broken(("title: First reply from an agent", f"title: {tag.format(target=target)}")),
    )
    message = only_error(validate(path))
    assert message.startswith(f"{where(path, '!!python')}: this is not valid YAML")
    assert "constructor" in message
    assert not target.exists()


# ---------------------------------------------------------------------------------------------
# checks, parameters and thresholds
# ---------------------------------------------------------------------------------------------


def test_unknown_check_suggests_the_closest_name(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", broken(("check: wait", "check: wiat")))
    assert only_error(validate(path)) == (
        f"{where(path, 'wiat')}: unknown check 'wiat'; did you mean 'wait'?"
    )


def test_unknown_check_far_from_any_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", broken(("check: wait", "check: qqqqqq")))
    message = only_error(validate(path))
    assert message.startswith(f"{where(path, 'qqqqqq')}: unknown check 'qqqqqq'; known checks: ")
    known = collect(manager_with_wait()).checks
    assert message.endswith(", ".join(sorted(known)))


def test_params_failing_the_check_schema_are_located_at_the_param(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        broken(
            ("      to: {type: message, actor: agent}\n", ""),
            ("      from: {type: opened}", "      from: {type: opened, actr: agent}"),
        ),
    )
    assert errors(validate(path)) == [
        f"{where(path, 'from:')}: missing required key 'to' in rules[0].params",
        f"{where(path, 'actr')}: unknown key 'actr'; did you mean 'actor'?",
    ]


def test_param_of_the_wrong_type_is_located_at_its_value(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", broken(("from: {type: opened}", "from: 5")))
    value = where(path, "5\n")
    assert only_error(validate(path)) == (
        f"{value}: rules[0].params.from should be a mapping, not the number 5"
    )


def test_desired_worse_than_adequate(tmp_path: Path) -> None:
    path = write(
        tmp_path, "s.yaml", broken(("{desired: 1m, adequate: 5m}", "{desired: 5m, adequate: 1m}"))
    )
    assert only_error(validate(path)) == (
        f"{where(path, '{desired')}: desired (5m) must not be longer or larger than "
        "adequate (1m): lower is better for this check"
    )


def test_bad_duration(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", broken(("desired: 1m", "desired: 4hours")))
    assert only_error(validate(path)) == (
        f"{where(path, '{desired')}: '4hours' is not a duration; "
        "write it like 90s, 15m, 4h, 2d, 1w or 1h30m"
    )


def test_conflicting_zone_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path, "s.yaml", broken(("{desired: 1m, adequate: 5m}", "{max: 1m, desired: 5m}"))
    )
    message = only_error(validate(path))
    assert message == f"{where(path, '{max')}: these keys cannot be combined: desired, max"


def test_duplicate_rule_ids(tmp_path: Path) -> None:
    rule = RULE.format(rule_id="chat-reply", thresholds="{max: 1d}")
    path = write(tmp_path, "s.yaml", VALID + rule)
    assert only_error(validate(path)) == (
        f"{where(path, 'chat-reply', occurrence=2)}: rule id 'chat-reply' appears twice "
        "in this standard"
    )


def test_duplicate_standard_ids_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a/reply.yaml", VALID)
    second = write(tmp_path, "b/reply-copy.yaml", VALID)
    assert only_error(validate(tmp_path)) == (
        f"{second}:1:1: standard id 'first-reply' is already used by {first}"
    )


def test_several_errors_in_one_file_are_all_reported_in_file_order(tmp_path: Path) -> None:
    rules = [
        RULE.format(rule_id="unknown-check", thresholds="{max: 1d}").replace(
            "check: wait", "check: wiat"
        ),
        RULE.format(rule_id="inverted", thresholds="{desired: 2h, adequate: 1h}"),
        RULE.format(rule_id="chat-reply", thresholds="{max: 1d}"),
        RULE.format(rule_id="no-unit", thresholds="{desired: 4hours, adequate: 5h}"),
        RULE.format(rule_id="bad-param", thresholds="{max: 1d}").replace(
            "{type: resolved}", "{type: resolved, ocurrence: last}"
        ),
    ]
    path = write(tmp_path, "s.yaml", VALID + "".join(rules))
    found = errors(validate(path))
    assert found == [
        f"{where(path, 'wiat')}: unknown check 'wiat'; did you mean 'wait'?",
        f"{where(path, '{desired: 2h')}: desired (2h) must not be longer or larger than "
        "adequate (1h): lower is better for this check",
        f"{where(path, 'chat-reply', occurrence=2)}: rule id 'chat-reply' appears twice "
        "in this standard",
        f"{where(path, '{desired: 4hours')}: '4hours' is not a duration; "
        "write it like 90s, 15m, 4h, 2d, 1w or 1h30m",
        f"{where(path, 'ocurrence')}: unknown key 'ocurrence'; did you mean 'occurrence'?",
    ]


def test_errors_in_several_files_are_all_reported(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", broken(("check: wait", "check: wiat")))
    second = write(
        tmp_path, "b.yaml", broken(("id: first-reply", "id: other"), ("version: 1", "version: []"))
    )
    found = errors(validate(tmp_path))
    assert [line.split(":")[0] for line in found] == [str(first), str(second)]


def test_load_standards_raises_every_error_sorted_by_location(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", broken(("id: first-reply", "id: b"), ("check: wait", "check: x")))
    write(tmp_path, "a.yaml", broken(("id: first-reply", "id: a"), ("title:", "titl:")))
    registry = collect(manager_with_wait())
    with pytest.raises(StandardsInvalid) as raised:
        load_standards([tmp_path], registry)
    locations = [error.location for error in raised.value.errors]
    assert locations == sorted(locations)
    assert [Path(location.path).name for location in locations] == ["a.yaml", "a.yaml", "b.yaml"]
    assert all(isinstance(error, SourceError) for error in raised.value.errors)


def test_missing_standards_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert only_error(validate(missing)) == f"{missing}:1:1: no such file or folder"


def test_folder_without_standards(tmp_path: Path) -> None:
    write(tmp_path, "notes.txt", "not a standard")
    assert only_error(validate(tmp_path)) == f"{tmp_path}:1:1: no standards found here"


def test_misspelt_kind_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", VALID)
    typo = write(tmp_path, "typo.yaml", "kind: standrd\n" + broken(("id: first-reply", "id: b")))
    message = only_error(validate(tmp_path))
    assert message.startswith(f"{where(typo, 'standrd')}: ")
    assert "'standard'" in message


def test_scope_in_with_a_nested_list_is_a_located_error(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", broken(("op: eq, value: chat", "op: in, value: [[chat]]")))
    message = only_error(validate(path))
    assert message.startswith(f"{where(path, '{field: channel')}: ")


# ---------------------------------------------------------------------------------------------
# schedules
# ---------------------------------------------------------------------------------------------

SCHEDULE = """\
kind: schedule
name: office
timezone: Europe/London
hours: {mon-fri: "09:00-17:00"}
"""


BY_REGION = """\
id: by-region
version: 1
title: Resolution on each region's hours
dimension: timeliness
rules:
  - id: resolution
    check: elapsed
    params:
      from: {type: opened}
      to: {type: resolved}
      schedule_attribute: region
      schedules:
        emea: office
        apac: ofice
    thresholds: {desired: 1h, adequate: 2h}
"""


def test_a_schedule_chosen_by_attribute_validates(tmp_path: Path) -> None:
    write(tmp_path, "office.yaml", SCHEDULE)
    write(tmp_path, "region.yaml", BY_REGION.replace("apac: ofice", "apac: office"))
    result = validate(tmp_path)
    assert result.exit_code == 0, result.output


def test_an_unknown_schedule_chosen_by_attribute_is_located_at_its_value(tmp_path: Path) -> None:
    write(tmp_path, "office.yaml", SCHEDULE)
    path = write(tmp_path, "region.yaml", BY_REGION)
    assert only_error(validate(tmp_path)) == (
        f"{path}:14:15: check 'elapsed': schedules.apac: unknown schedule 'ofice'; "
        "known schedules: office"
    )


def test_valid_schedule_beside_a_standard(tmp_path: Path) -> None:
    write(tmp_path, "reply.yaml", VALID)
    write(tmp_path, "office.yaml", SCHEDULE)
    result = validate(tmp_path)
    assert result.exit_code == 0, result.output
    assert "in 1 file" in result.stdout  # the file that holds the standard


def test_schedule_file_with_an_unknown_key(tmp_path: Path) -> None:
    write(tmp_path, "reply.yaml", VALID)
    path = write(tmp_path, "office.yaml", SCHEDULE + "holiday: {dates: []}\n")
    assert only_error(validate(tmp_path)) == (
        f"{where(path, 'holiday')}: unknown key 'holiday'; did you mean 'holidays'?"
    )


def test_schedule_file_with_an_unknown_time_zone(tmp_path: Path) -> None:
    write(tmp_path, "reply.yaml", VALID)
    path = write(tmp_path, "office.yaml", SCHEDULE.replace("Europe/London", "Mars/Olympus"))
    message = only_error(validate(tmp_path))
    assert message.startswith(f"{path}:")
    assert "'office'" in message
    assert "'Mars/Olympus' is not a known time zone" in message


def test_schedule_defined_twice(tmp_path: Path) -> None:
    write(tmp_path, "reply.yaml", VALID)
    write(tmp_path, "a.yaml", SCHEDULE)
    second = write(tmp_path, "b.yaml", SCHEDULE)
    assert only_error(validate(tmp_path)) == (
        f"{where(second, 'office')}: schedule 'office' is defined twice"
    )


def _checks_taking_a_schedule() -> list[tuple[str, Any]]:
    checks = collect(get_plugin_manager()).checks
    return [
        (name, check)
        for name, (_plugin, check) in checks.items()
        if "schedule" in check.params_schema.get("properties", {})
    ]


def test_rule_naming_an_unknown_schedule(tmp_path: Path) -> None:
    taking = _checks_taking_a_schedule()
    if not taking:
        pytest.skip("no installed check takes a 'schedule' parameter yet")
    name, check = taking[0]
    [rule] = yaml.safe_load(check.example)
    rule["params"] = {**rule.get("params", {}), "schedule": "night-shift"}
    standard = {
        "id": "s",
        "version": 1,
        "title": "t",
        "dimension": check.dimension,
        "rules": [rule],
    }
    path = write(tmp_path, "s.yaml", yaml.safe_dump(standard, sort_keys=False))
    write(tmp_path, "office.yaml", SCHEDULE)
    message = only_error(validate(tmp_path))
    assert message.startswith(f"{path}:"), name
    assert "unknown schedule 'night-shift'" in message
    assert "office" in message


@pytest.mark.parametrize(
    ("thresholds", "words"),
    [
        ("{warn_at: 50%}", "'warn_at' needs 'target' beside it"),
        ("{min: 59s}", "'min' does not fit this check, where lower is better; use 'max'"),
        ("{max: 3m, warn_at: 50%}", "'warn_at' needs 'target' beside it"),
    ],
)
def test_thresholds_that_cannot_mean_what_they_say_are_located_errors(
    tmp_path: Path, thresholds: str, words: str
) -> None:
    path = write(tmp_path, "s.yaml", broken(("{desired: 1m, adequate: 5m}", thresholds)))
    message = only_error(validate(path))
    assert message.startswith(f"{path}:12:17: "), message
    assert words in message, message


def test_every_published_schema_is_a_valid_draft_2020_12_schema() -> None:
    import jsonschema

    from rulecore._schemas import SCHEMA_NAMES, load_schema

    for name in SCHEMA_NAMES:
        jsonschema.Draft202012Validator.check_schema(load_schema(name))


def test_the_standard_schema_embeds_the_code_s_condition_and_service_level_schemas() -> None:
    from rulecore._conditions import CONDITION_SCHEMA
    from rulecore._schemas import load_schema
    from rulecore._service_levels import SERVICE_LEVEL_SCHEMA

    published = load_schema("standard")["$defs"]
    assert published["condition"] == CONDITION_SCHEMA["$defs"]["condition"]
    assert published["scope"] == {k: v for k, v in CONDITION_SCHEMA.items() if k != "$defs"}
    assert published["service_level"] == SERVICE_LEVEL_SCHEMA
