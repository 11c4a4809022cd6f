"""The documentation cannot drift from the code.

Each test reads the docs and the code they describe and fails when one moved without the
other: a hook, check, CLI command or option, or public name missing from the docs; a JSON
report that does not match its published schema; a link to nothing; a README command that is
not the one CI runs; or an example whose output is no longer what rulecore prints.

Examples are verified the way datasette and cog keep their docs honest.  In any page:

- ``<!-- file: PATH -->`` before a fenced block makes that block a file, written to PATH in a
  scratch folder before the page's examples run;
- ``<!-- verified -->`` (or ``<!-- verified: exit N -->``, the last command's status) before a
  fenced block makes it a session: each ``$ rulecore ...``, ``$ python SCRIPT`` or
  ``$ cat FILE`` line runs, in turn, in the scratch folder (where ``examples/`` and
  ``standards/`` are the repository's own), and what it prints, stdout and stderr as a
  terminal shows them, must be the lines that follow it.  A line ``...`` stands for any lines;
- ``<!-- sample: summary -->``, ``<!-- sample: finding -->`` or ``<!-- sample: rejected -->``
  before a JSON block says it is taken from the JSON report of the README's audit
  (``examples/records`` against ``standards``): every key and list entry it shows must be there,
  with the same value (a finding is found by its record and rule).

After a deliberate change, ``python tests/test_docs.py`` rewrites the verified blocks that no
longer match with what rulecore prints now; read the diff before committing it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import click
import jsonschema
import pytest
import yaml
from click.testing import CliRunner

import rulecore
from rulecore import (
    BLOCK_ENV,
    AnyCheck,
    Registry,
    StandardsInvalid,
    collect,
    get_plugin_manager,
    hookspecs,
    load_schema,
    load_standards,
)
from rulecore.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"

SETUP = "python3 -m venv .venv && .venv/bin/python -m pip install -q -e '.[dev]'"
MAIN_JOB = (
    "audit examples/records --standards standards --by team --report html:report.html"
    " --fail-on never"
)
MAIN_JOB_COMMAND = f"{SETUP} && .venv/bin/rulecore {MAIN_JOB}"
TEST_COMMAND = f"{SETUP} && .venv/bin/python -m pytest"

CHECK_SECTIONS = ("What it measures", "Parameters", "Thresholds", "Outcomes", "Evidence", "Example")

# ---------------------------------------------------------------------------------------------
# reading markdown
# ---------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^(`{3,})([^\n`]*)\n(.*?)^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def _without_code(text: str) -> str:
    """The text with fenced blocks blanked out (to the same length, so offsets still hold),
    so that a '#' comment in a YAML block is not taken for a heading."""
    return _FENCE.sub(lambda match: re.sub(r"[^\n]", " ", match.group(0)), text)


def headings(text: str) -> list[tuple[int, str]]:
    """``(level, title)`` of every heading outside code blocks, in order."""
    return [(len(m.group(1)), m.group(2)) for m in _HEADING.finditer(_without_code(text))]


def section(text: str, title: str, level: int = 2) -> str | None:
    """The body under the heading ``title`` (backticks ignored), up to the next heading of the
    same or a higher level; ``None`` when there is no such heading."""
    bare = _without_code(text)
    found = [m for m in _HEADING.finditer(bare) if len(m.group(1)) <= level]
    for index, match in enumerate(found):
        if len(match.group(1)) == level and match.group(2).replace("`", "").strip() == title:
            end = found[index + 1].start() if index + 1 < len(found) else len(text)
            return text[match.end() : end]
    return None


def code_text(text: str) -> str:
    """Everything inside inline code spans and fenced blocks."""
    fenced = [match.group(3) for match in _FENCE.finditer(text)]
    inline = re.findall(r"`([^`\n]+)`", _without_code(text))
    return "\n".join(fenced + inline)


def slug(title: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", title.replace("`", "").strip().lower())
    return text.replace(" ", "-")


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


# ---------------------------------------------------------------------------------------------
# hooks, checks, commands and public names are all documented
# ---------------------------------------------------------------------------------------------


def hook_names() -> list[str]:
    return sorted(
        name
        for name, value in vars(hookspecs).items()
        if name.startswith("rulecore_") and hasattr(value, "rulecore_spec")
    )


def test_every_hook_has_a_heading_in_the_plugin_guide() -> None:
    assert hook_names(), "found no hooks in rulecore.hookspecs"
    guide = (DOCS / "plugins.md").read_text(encoding="utf-8")
    titles = {title.replace("`", "").strip() for _level, title in headings(guide)}
    missing = [name for name in hook_names() if name not in titles]
    assert not missing, f"docs/plugins.md needs a heading for each of these hooks: {missing}"


@cache
def registry() -> Registry:
    return collect(get_plugin_manager())


def registered_checks() -> list[str]:
    return sorted(registry().checks)


def check_named(name: str) -> AnyCheck:
    check = registry().check(name)
    assert check is not None
    return check


def _yaml_blocks(text: str) -> list[str]:
    return [m.group(3) for m in _FENCE.finditer(text) if m.group(2).strip() in ("yaml", "yml")]


def _standard_around(rules: Any, check: AnyCheck, number: int) -> dict[str, Any]:
    """A standard holding ``rules`` (a list of rules, one rule, or a whole standard)."""
    if isinstance(rules, dict) and "rules" in rules:
        return rules
    return {
        "id": f"docs-example-{number}",
        "version": 1,
        "title": "An example from the docs",
        "dimension": check.dimension,
        "rules": rules if isinstance(rules, list) else [rules],
    }


def _compiled_rules(documents: list[Any], check: AnyCheck, folder: Path) -> list[Any]:
    """Load ``documents`` (schedules, standards or rules) as standards; return their rules.

    Fails the test, quoting every error, when they do not validate.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for number, data in enumerate(documents):
        is_schedule = isinstance(data, dict) and data.get("kind") == "schedule"
        content = data if is_schedule else _standard_around(data, check, number)
        path = folder / f"example-{number}.yaml"
        path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    try:
        standards = load_standards([folder], registry())
    except StandardsInvalid as invalid:
        pytest.fail(f"the example does not validate:\n{invalid}")
    return [rule for standard in standards for rule in standard.rules]


def test_checks_are_found() -> None:
    assert {"elapsed", "handoffs", "request_handling", "follow_up"} <= set(registered_checks())


@pytest.mark.parametrize("name", registered_checks())
def test_every_check_has_a_page_with_the_required_sections(name: str) -> None:
    check = check_named(name)
    page = DOCS / "checks" / f"{name}.md"
    assert page.is_file(), f"check {name!r} has no page: write docs/checks/{name}.md"
    text = page.read_text(encoding="utf-8")
    assert text.splitlines()[0] == f"# {name}", "the page must start with '# <check-name>'"
    dimension = re.search(r"^Dimension:\s*\**`?([\w-]+)`?", text, re.MULTILINE)
    assert dimension is not None, "the page needs a 'Dimension: ...' line"
    assert dimension.group(1) == check.dimension
    titles = [title for level, title in headings(text) if level == 2]
    assert [t for t in titles if t in CHECK_SECTIONS] == list(CHECK_SECTIONS), (
        f"docs/checks/{name}.md needs these sections, in this order: {CHECK_SECTIONS}"
    )


@pytest.mark.parametrize("name", registered_checks())
def test_every_parameter_of_a_check_is_in_its_parameters_table(name: str) -> None:
    check = check_named(name)
    text = (DOCS / "checks" / f"{name}.md").read_text(encoding="utf-8")
    body = section(text, "Parameters") or ""
    documented = set(re.findall(r"^\|\s*`([^`]+)`", body, re.MULTILINE))
    schema_params = set(check.params_schema.get("properties", {}))
    assert documented == schema_params, (
        f"docs/checks/{name}.md documents {sorted(documented)}; "
        f"the check takes {sorted(schema_params)}"
    )


@pytest.mark.parametrize("name", registered_checks())
def test_a_check_pages_thresholds_say_its_unit_and_direction(name: str) -> None:
    check = check_named(name)
    text = (DOCS / "checks" / f"{name}.md").read_text(encoding="utf-8")
    body = section(text, "Thresholds") or ""
    assert check.unit in body, f"the Thresholds section must name the unit, {check.unit}"
    assert f"{check.better} is better" in body.lower(), (
        f"the Thresholds section must say '{check.better} is better'"
    )


@pytest.mark.parametrize("name", registered_checks())
def test_a_check_pages_example_is_a_valid_rule(name: str, tmp_path: Path) -> None:
    check = check_named(name)
    text = (DOCS / "checks" / f"{name}.md").read_text(encoding="utf-8")
    blocks = _yaml_blocks(section(text, "Example") or "")
    assert blocks, "the Example section needs a ```yaml block"
    rules = _compiled_rules([yaml.safe_load(block) for block in blocks], check, tmp_path)
    assert any(rule.check == name for rule in rules), f"no rule in the example uses {name!r}"


@pytest.mark.parametrize("name", registered_checks())
def test_the_example_rulecore_explain_prints_is_a_valid_rule(name: str, tmp_path: Path) -> None:
    check = check_named(name)
    assert check.example, f"check {name!r} has no example for `rulecore explain`"
    documents: list[Any] = [yaml.safe_load(check.example)]
    if "schedule:" in check.example:
        # An example may name a schedule; the shipped standards define the ones they use.
        documents += [
            yaml.safe_load(path.read_text(encoding="utf-8"))
            for path in sorted((ROOT / "standards").rglob("*.yaml"))
            if "kind: schedule" in path.read_text(encoding="utf-8")
        ]
    rules = _compiled_rules(documents, check, tmp_path)
    assert any(rule.check == name for rule in rules)


def cli_commands() -> list[str]:
    return sorted(main.commands)


def _option_names(command: click.Command) -> Iterator[str]:
    for param in command.params:
        if isinstance(param, click.Option):
            yield from param.opts
            yield from param.secondary_opts
        else:
            yield param.human_readable_name


def _mentions(body: str, name: str) -> bool:
    """Whether ``body`` names an option in code (`` `-s` ``, `` `--format NAME` ``) or an
    argument as a word (``RECORDS``), so that ``-s`` is not found inside ``--standards``."""
    if name.startswith("-"):
        return re.search(rf"`{re.escape(name)}[` =]", body) is not None
    return re.search(rf"\b{re.escape(name)}\b", body) is not None


@pytest.mark.parametrize("name", cli_commands())
def test_every_cli_command_and_option_is_in_the_cli_reference(name: str) -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    body = section(text, f"rulecore {name}")
    assert body is not None, f"docs/cli.md needs a section '## `rulecore {name}`'"
    options = _option_names(main.commands[name])
    missing = [option for option in options if not _mentions(body, option)]
    assert not missing, f"the `rulecore {name}` section of docs/cli.md does not mention {missing}"


def test_the_cli_reference_mentions_the_global_options() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for option in ("--version", "--help", "-h"):
        assert option in text


def test_every_public_name_is_in_the_api_or_plugin_reference() -> None:
    documented = "\n".join(
        code_text((DOCS / page).read_text(encoding="utf-8")) for page in ("api.md", "plugins.md")
    )
    missing = [
        name
        for name in rulecore.__all__
        if not re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", documented)
        and f"rulecore.{name}" not in documented
    ]
    assert not missing, f"docs/api.md or docs/plugins.md should name, in code: {missing}"


def _schema_keys(schema: dict[str, Any], *where: str) -> set[str]:
    """The property names at ``where`` in ``schema`` (a path of ``$defs`` names)."""
    node = schema
    for name in where:
        node = schema["$defs"][name]
    return set(node.get("properties", {}))


@pytest.mark.parametrize(
    ("page", "schema", "where"),
    [
        ("standards.md", "standard", ()),
        ("standards.md", "standard", ("rule",)),
        ("standards.md", "standard", ("zone",)),
        ("standards.md", "standard", ("matrix",)),
        ("standards.md", "standard", ("service_level",)),
        ("records.md", "record", ()),
        ("records.md", "record", ("event",)),
        ("report.md", "report", ()),
        ("report.md", "report", ("summary",)),
        ("report.md", "report", ("finding",)),
        ("report.md", "report", ("evidence",)),
        ("report.md", "report", ("rejection",)),
    ],
    ids=lambda value: "/".join(value) if isinstance(value, tuple) else str(value),
)
def test_every_key_of_a_published_schema_is_documented(
    page: str, schema: str, where: tuple[str, ...]
) -> None:
    documented = code_text((DOCS / page).read_text(encoding="utf-8"))
    keys = _schema_keys(load_schema(schema), *where)
    assert keys, f"no properties at {where} in {schema}.schema.json"
    missing = sorted(
        key for key in keys if not re.search(rf"(?<!\w){re.escape(key)}(?!\w)", documented)
    )
    assert not missing, f"docs/{page} does not name these keys of {schema}.schema.json: {missing}"


# ---------------------------------------------------------------------------------------------
# the JSON report matches its published schema
# ---------------------------------------------------------------------------------------------


def report_validator(definition: str | None = None) -> jsonschema.Draft202012Validator:
    schema = load_schema("report")
    if definition is not None:
        schema = {**schema, "$ref": f"#/$defs/{definition}"}
        for key in ("type", "required", "properties", "additionalProperties"):
            schema.pop(key, None)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def schema_errors(validator: jsonschema.Draft202012Validator, data: Any) -> list[str]:
    return [
        f"at {'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(data)
    ][:10]


def run_audit(*options: str) -> str:
    """The report ``rulecore audit examples/records --standards standards`` writes to stdout
    with ``options``, run from the repository's root as the README runs it."""
    previous = Path.cwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(
            main,
            [
                "audit",
                "examples/records",
                "--standards",
                "standards",
                "--fail-on",
                "never",
                *options,
            ],
            catch_exceptions=False,
        )
    finally:
        os.chdir(previous)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_report_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = load_schema("report")
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == schema["properties"]["$schema"]["const"]


@pytest.mark.parametrize("options", [(), ("--all-outcomes",)], ids=["default", "all-outcomes"])
def test_the_json_report_of_an_audit_matches_the_schema(options: tuple[str, ...]) -> None:
    report = json.loads(run_audit("--format", "json", *options))
    assert report["findings"], "the audit of examples/records should report findings"
    assert report["rejected"], "examples/records holds input that must be rejected"
    outcomes = {finding["outcome"] for finding in report["findings"]}
    assert ("pass" in outcomes) == bool(options)
    assert schema_errors(report_validator(), report) == []


def test_every_optional_part_of_the_report_matches_the_schema(tmp_path: Path) -> None:
    baseline = tmp_path / "previous.json"
    baseline.write_text(run_audit("--format", "json"), encoding="utf-8")
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        textwrap.dedent(
            """\
            waivers:
              - rule: flow-handoffs/team-handoffs
                records: "*"
                reason: Cases migrated from the old desk were handed off by the migration
                by: Service quality team
                expires: 2099-12-31
              - rule: adaptability-requests/no-bare-no
                records: [T-000011]
                reason: Lapsed on purpose, to be listed as expired
                by: Service quality team
                expires: 2000-01-01
            """
        ),
        encoding="utf-8",
    )
    report = json.loads(
        run_audit(
            "--format",
            "json",
            "--as-of",
            "2026-04-02T00:00:00Z",
            "--by",
            "channel",
            "--waivers",
            str(waivers),
            "--baseline",
            str(baseline),
        )
    )
    summary = report["summary"]
    for key in ("as_of", "service_levels", "breakdowns", "waivers", "baseline"):
        assert key in summary, f"the audit should have produced summary.{key}"
    assert any("waiver" in finding for finding in report["findings"])
    assert any("baseline" in finding for finding in report["findings"])
    assert schema_errors(report_validator(), report) == []


def test_every_json_lines_record_matches_its_definition_in_the_schema() -> None:
    lines = [json.loads(line) for line in run_audit("--format", "jsonl").splitlines()]
    assert [line["type"] for line in lines].count("summary") == 1
    assert lines[-1]["type"] == "summary"
    for line in lines:
        data = {key: value for key, value in line.items() if key != "type"}
        assert schema_errors(report_validator(line["type"]), data) == [], line


def test_the_report_schema_is_strict(tmp_path: Path) -> None:
    report = json.loads(run_audit("--format", "json"))
    validator = report_validator()
    finding_with_extra_key = {**report["findings"][0], "colour": "red"}
    assert schema_errors(validator, {**report, "findings": [finding_with_extra_key]})
    summary_without_records = {k: v for k, v in report["summary"].items() if k != "records"}
    assert schema_errors(validator, {**report, "summary": summary_without_records})
    assert schema_errors(validator, {**report, "summary": {**report["summary"], "extra": []}})


def test_the_csv_columns_and_rows_are_the_documented_ones() -> None:
    rows = run_audit("--format", "csv").splitlines()
    body = section((DOCS / "report.md").read_text(encoding="utf-8"), "CSV (--format csv)") or ""
    documented = [block.splitlines() for block in re.findall(r"```text\n(.*?)```", body, re.S)]
    assert documented, "the CSV section should show the header and a row"
    for lines in documented:
        assert lines[0] == rows[0], "the CSV header is not the documented one"
        assert set(lines[1:]) <= set(rows[1:]), "a documented CSV row is not in the report"


# ---------------------------------------------------------------------------------------------
# the README's commands, links and indexes
# ---------------------------------------------------------------------------------------------


def test_the_readme_gives_the_two_commands_exactly() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert MAIN_JOB_COMMAND in lines
    assert TEST_COMMAND in lines


def test_ci_runs_the_readmes_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in script.splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert commands[-1] == TEST_COMMAND, "the last thing .ci/run does is the README's command"


def _anchors(path: Path) -> set[str]:
    return {slug(title) for _level, title in headings(path.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("page", markdown_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_leads_somewhere(page: Path) -> None:
    broken = []
    for target in _LINK.findall(_without_code(page.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z]+:", target):
            continue
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page.relative_to(ROOT)} links to nothing: {broken}"


def test_the_docs_index_links_every_page() -> None:
    index = DOCS / "index.md"
    linked = {
        (DOCS / target.partition("#")[0]).resolve()
        for target in _LINK.findall(index.read_text(encoding="utf-8"))
        if not re.match(r"^[a-z]+:", target)
    }
    pages = {page.resolve() for page in DOCS.rglob("*.md")} - {index.resolve()}
    unlinked = sorted(str(page.relative_to(DOCS)) for page in pages - linked)
    assert not unlinked, f"docs/index.md does not link to {unlinked}"


# ---------------------------------------------------------------------------------------------
# verified examples
# ---------------------------------------------------------------------------------------------

_MARKER = re.compile(r"<!--\s*(file|verified|sample)\s*(?::\s*(.*?))?\s*-->[ \t]*\n")


class Step(NamedTuple):
    """One command of a verified session and what it must print."""

    command: str
    expected: str


class Session(NamedTuple):
    """A verified block: commands run one after another in one scratch folder."""

    page: Path
    line: int
    steps: tuple[Step, ...]
    exit_code: int  #: of the last command; the ones before it must succeed


def _blocks_after_markers(text: str) -> Iterator[tuple[str, str, int, str]]:
    """``(kind, argument, line, block body)`` for each marker followed by a fenced block."""
    for marker in _MARKER.finditer(text):
        fence = _FENCE.match(text, marker.end())
        if fence is None:
            line = text.count("\n", 0, marker.start()) + 1
            raise AssertionError(f"line {line}: a {marker.group(1)} marker needs a fenced block")
        line = text.count("\n", 0, fence.start()) + 1
        yield marker.group(1), (marker.group(2) or "").strip(), line, fence.group(3)


def page_files(page: Path) -> dict[str, str]:
    text = page.read_text(encoding="utf-8")
    return {arg: body for kind, arg, _, body in _blocks_after_markers(text) if kind == "file"}


def _steps(body: str, where: str) -> tuple[Step, ...]:
    steps: list[Step] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            assert line.startswith(PROGRAMS), f"{where}: commands start with one of {PROGRAMS}"
            steps.append(Step(line[2:], ""))
        else:
            assert steps, f"{where}: a verified block starts with a '$ ' command"
            steps[-1] = steps[-1]._replace(expected=steps[-1].expected + line + "\n")
    assert steps, f"{where}: a verified block needs a '$ ' command"
    return tuple(steps)


PROGRAMS = ("$ rulecore ", "$ python ", "$ cat ")


def verified_sessions() -> list[Session]:
    sessions = []
    for page in markdown_files():
        for kind, argument, line, body in _blocks_after_markers(page.read_text(encoding="utf-8")):
            if kind != "verified":
                continue
            exit_code = re.fullmatch(r"(?:exit\s+(\d+))?", argument)
            assert exit_code is not None, f"{page}:{line}: write <!-- verified: exit N -->"
            steps = _steps(body, f"{page}:{line}")
            sessions.append(Session(page, line, steps, int(exit_code.group(1) or 0)))
    return sessions


def _matches(expected: str, actual: str) -> bool:
    """``expected`` (where a line ``...`` stands for any lines) matches ``actual``."""
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if line == "..." else re.escape(line) + r"\n"
        for line in expected.splitlines()
    )
    return re.fullmatch(pattern, actual) is not None


def _plain(text: str) -> str:
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


def run_step(command: str, folder: Path) -> tuple[str, int]:
    """Run one documented command in ``folder`` (the current directory): what it printed, and
    its exit status."""
    program, *arguments = shlex.split(command)
    if program == "cat":
        return "".join((folder / name).read_text(encoding="utf-8") for name in arguments), 0
    if program == "python":
        process = subprocess.run(
            [sys.executable, *arguments], cwd=folder, capture_output=True, text=True, check=False
        )
        return process.stdout + process.stderr, process.returncode
    result = CliRunner().invoke(main, arguments, catch_exceptions=False)
    return result.output, result.exit_code


def prepare_folder(page: Path, folder: Path) -> None:
    """The scratch folder a page's examples run in: its files, and the repository's data."""
    for name in ("examples", "standards"):
        (folder / name).symlink_to(ROOT / name, target_is_directory=True)
    for relative, body in page_files(page).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")


def test_there_are_verified_examples() -> None:
    pages = {session.page.name for session in verified_sessions()}
    assert {"README.md", "cli.md", "standards.md", "plugins.md", "api.md"} <= pages


@pytest.mark.parametrize(
    "session",
    verified_sessions(),
    ids=lambda session: f"{session.page.relative_to(ROOT)}:{session.line}",
)
def test_a_verified_example_prints_what_the_docs_show(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare_folder(session.page, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(BLOCK_ENV, raising=False)
    where = f"{session.page.relative_to(ROOT)}:{session.line}"
    for number, step in enumerate(session.steps, 1):
        output, exit_code = run_step(step.command, tmp_path)
        actual = _plain(output)
        assert _matches(_plain(step.expected), actual), (
            f"{where}: `{step.command}` now prints:\n{actual}\n"
            "(after a deliberate change, `python tests/test_docs.py` rewrites the examples "
            "that no longer match)"
        )
        expected_exit = session.exit_code if number == len(session.steps) else 0
        assert exit_code == expected_exit, f"{where}: `{step.command}` exited {exit_code}"


# ---------------------------------------------------------------------------------------------
# samples of the report in the docs
# ---------------------------------------------------------------------------------------------


@cache
def full_report() -> dict[str, Any]:
    """The JSON report, passes included, of the audit the docs take their samples from."""
    report: dict[str, Any] = json.loads(run_audit("--format", "json", "--all-outcomes"))
    return report


def _mismatches(sample: Any, actual: Any, where: str = "") -> list[str]:
    """Where ``sample`` differs from ``actual``: a mapping may leave keys out, a list may stop
    early, and anything else must be equal."""
    if isinstance(sample, dict) and isinstance(actual, dict):
        return [
            problem
            for key, value in sample.items()
            for problem in (
                _mismatches(value, actual[key], f"{where}.{key}")
                if key in actual
                else [f"{where}.{key}: not in the report"]
            )
        ]
    if isinstance(sample, list) and isinstance(actual, list) and len(sample) <= len(actual):
        return [
            problem
            for index, value in enumerate(sample)
            for problem in _mismatches(value, actual[index], f"{where}[{index}]")
        ]
    return [] if sample == actual else [f"{where}: the docs say {sample!r}, the report {actual!r}"]


def documented_samples() -> list[tuple[str, str, Any]]:
    """``(where, kind, data)`` of every ``<!-- sample: KIND -->`` block in the docs."""
    return [
        (f"{page.relative_to(ROOT)}:{line}", kind, json.loads(body))
        for page in markdown_files()
        for marker, kind, line, body in _blocks_after_markers(page.read_text(encoding="utf-8"))
        if marker == "sample"
    ]


@pytest.mark.parametrize(
    ("where", "kind", "sample"), documented_samples(), ids=[s[0] for s in documented_samples()]
)
def test_a_documented_sample_is_what_the_report_holds(where: str, kind: str, sample: Any) -> None:
    report = full_report()
    if kind == "finding":
        matching = [
            finding
            for finding in report["findings"]
            if finding["record"] == sample["record"] and finding["rule"] == sample["rule"]
        ]
        assert len(matching) == 1, f"{where}: no finding of {sample['rule']} on {sample['record']}"
        actual: Any = matching[0]
    else:
        assert kind in ("summary", "rejected"), f"{where}: unknown sample kind {kind!r}"
        actual = report[kind]
    assert _mismatches(sample, actual) == [], where


# ---------------------------------------------------------------------------------------------
# rewriting examples after a deliberate change
# ---------------------------------------------------------------------------------------------


def _actual_body(session: Session) -> str | None:
    """The session's block as rulecore prints it now; ``None`` when the block still matches."""
    previous = Path.cwd()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        prepare_folder(session.page, folder)
        os.chdir(folder)
        try:
            outputs = [_plain(run_step(step.command, folder)[0]) for step in session.steps]
        finally:
            os.chdir(previous)
    if all(
        _matches(_plain(s.expected), out) for s, out in zip(session.steps, outputs, strict=True)
    ):
        return None
    return "".join(f"$ {s.command}\n{out}" for s, out in zip(session.steps, outputs, strict=True))


def rewrite_examples() -> list[str]:
    """Rewrite every verified block that no longer matches with what rulecore prints now.

    Blocks that still match, including those with ``...`` lines, are left as written.  Read the
    diff before committing it: this blesses whatever rulecore prints.
    """
    rewritten = []
    for page in markdown_files():
        text = page.read_text(encoding="utf-8")
        sessions = {s.line: s for s in verified_sessions() if s.page == page}
        pieces, last = [], 0
        for kind, _argument, line, _body in _blocks_after_markers(text):
            if kind != "verified" or line not in sessions:
                continue
            body = _actual_body(sessions[line])
            if body is None:
                continue
            fence = _FENCE.match(text, _line_start(text, line))
            assert fence is not None
            pieces += [text[last : fence.start(3)], body]
            last = fence.end(3)
            rewritten.append(f"{page.relative_to(ROOT)}:{line}")
        if pieces:
            page.write_text("".join([*pieces, text[last:]]), encoding="utf-8")
    return rewritten


def _line_start(text: str, line: int) -> int:
    """The offset at which 1-based ``line`` of ``text`` starts."""
    offset = 0
    for _ in range(line - 1):
        offset = text.index("\n", offset) + 1
    return offset


if __name__ == "__main__":
    os.environ.pop(BLOCK_ENV, None)
    for where in rewrite_examples():
        print(f"rewrote the example at {where}")
