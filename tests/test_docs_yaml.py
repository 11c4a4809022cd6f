"""Every YAML example in the docs and the README loads with the loader that would read it.

A block is recognised by its shape and handed to rulecore's own loader, from a file, exactly as a
user who pastes it would: a standard (``rules:``) or a schedule (``kind: schedule``) to the
standards loader, a mapping (``kind: mapping``) to the mapping loader, ``waivers:`` to the
waivers loader, and a fixture (``cases:``) to the fixture schema with each record to the record
model.  A list of rules is wrapped in a minimal standard; a block of rule parts (``scope:``,
``thresholds:``, ``service_level:``, or a selector such as ``to:``), where each top-level key
starts one alternative, is put into a minimal ``elapsed`` rule, one alternative at a time.  A
standard that names a schedule or ``extends`` a base gets the schedule and base the same page
defines, else the shipped ones.

Two comments, on the line before the block (or before its ``<!-- file: ... -->`` marker),
change what is checked:

- ``<!-- yaml: invalid -->``: the block shows a mistake, so its loader must *refuse* it;
- ``<!-- yaml: fragment -->``: the block is a piece that cannot stand alone; the prose around
  it must say what it belongs to.  Use it sparingly: most pieces can be wrapped.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jsonschema
import msgspec
import pytest
import yaml
from rulecore_mapping import load_mapping
from test_docs import _FENCE, ROOT, markdown_files, registry

from rulecore import Check, Registry, StandardsInvalid, load_schema, load_standards, load_waivers
from rulecore._model import record_from_mapping
from rulecore._yaml import load_yaml_file

#: Pages another change is rewriting; their blocks are skipped until it lands.
#: Pages whose examples are being rewritten, with the reason; their blocks are skipped.
IN_FLUX: dict[str, str] = {}

_DIRECTIVE = re.compile(r"<!--\s*yaml:\s*(invalid|fragment)\s*-->")
_COMMENT_LINE = re.compile(r"^\s*<!--.*-->\s*$")

RULE_PARTS = {"scope", "thresholds", "service_level", "severity", "message", "params"}
SELECTOR_PARTS = {"from", "to"}
SHIPPED_SCHEDULES = ROOT / "standards" / "schedules"


class Block(NamedTuple):
    page: Path
    line: int
    text: str
    directive: str  #: "", "invalid" or "fragment"

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _directive(text: str, fence_start: int) -> str:
    """The ``yaml:`` directive among the comment lines just above a fence, or ``""``."""
    lines = text[:fence_start].splitlines()
    while lines and _COMMENT_LINE.match(lines[-1]):
        found = _DIRECTIVE.search(lines.pop())
        if found:
            return found.group(1)
    return ""


def yaml_blocks() -> list[Block]:
    blocks = []
    for page in markdown_files():
        text = page.read_text(encoding="utf-8")
        for fence in _FENCE.finditer(text):
            if fence.group(2).strip() in ("yaml", "yml"):
                line = text.count("\n", 0, fence.start()) + 1
                blocks.append(Block(page, line, fence.group(3), _directive(text, fence.start())))
    return blocks


# ---------------------------------------------------------------------------------------------
# what a block is, and its loader
# ---------------------------------------------------------------------------------------------


def kind_of(data: Any) -> str:
    if isinstance(data, list):
        return "rules"
    if not isinstance(data, dict):
        return "unknown"
    if data.get("kind") in ("mapping", "schedule"):
        return str(data["kind"])
    for key, kind in (("rules", "standard"), ("waivers", "waivers"), ("cases", "fixture")):
        if key in data:
            return kind
    if set(data) <= RULE_PARTS | SELECTOR_PARTS:
        return "rule parts"
    return "unknown"


def page_documents(page: Path) -> list[Any]:
    """Every standard and schedule a page shows, parsed (those that parse)."""
    found = []
    for block in yaml_blocks():
        if block.page == page and block.directive == "":
            try:
                data = yaml.safe_load(block.text)
            except yaml.YAMLError:
                continue
            if kind_of(data) in ("standard", "schedule"):
                found.append(data)
    return found


def _support(data: dict[str, Any], page: Path, folder: Path) -> None:
    """Write beside a standard the schedules and bases it needs: the page's, else shipped."""
    text = yaml.safe_dump(data)
    on_page = page_documents(page)
    if "schedule" in text:
        schedules = [doc for doc in on_page if doc.get("kind") == "schedule"]
        if schedules:
            # the first of each name, as a user pasting the page's schedules would keep
            first_of_each = {str(doc.get("name")): doc for doc in reversed(schedules)}
            for number, schedule in enumerate(first_of_each.values()):
                _write(folder / f"schedule-{number}.yaml", schedule)
        else:
            for path in sorted(SHIPPED_SCHEDULES.glob("*.yaml")):
                (folder / path.name).write_text(path.read_text(encoding="utf-8"), "utf-8")
    base = data.get("extends")
    if base:
        bases = [doc for doc in on_page if doc.get("id") == base]
        for number, document in enumerate(bases):
            _write(folder / f"base-{number}.yaml", document)


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def page_checks(page: Path) -> Registry:
    """The registry, with a stand-in for each check the page's own plugin code registers
    (``name="..."`` in a Python block), so that a standard using it can be validated."""
    text = page.read_text(encoding="utf-8")
    python = "\n".join(m.group(3) for m in _FENCE.finditer(text) if m.group(2).strip() == "python")
    checks = dict(registry().checks)
    for name in re.findall(r"\bname=\"(\w+)\"", python):
        if name not in checks:
            stand_in = Check(
                name=name,
                dimension=_page_dimension(text),
                doc="A check a page of the docs writes.",
                params_schema={"type": "object"},
                compile=_never_called,
                default_thresholds={"desired": 0, "adequate": 1},
            )
            checks[name] = ("docs", stand_in)
    return dataclasses.replace(registry(), checks=checks)


def _page_dimension(text: str) -> str:
    found = re.search(r'dimension="(\w+)"', text)
    return found.group(1) if found else "timeliness"


def _never_called(params: Any, context: Any) -> Any:
    return lambda record, evaluation: None


def load_standard_text(block: Block, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "example.yaml").write_text(block.text, encoding="utf-8")
    data = yaml.safe_load(block.text)
    if isinstance(data, dict):
        _support(data, block.page, folder)
        if data.get("abstract"):
            # An abstract base is audited only through a variant: give it one.
            variant = {"id": "docs-variant", "version": 1, "extends": data.get("id")}
            _write(folder / "variant.yaml", variant)
    load_standards([folder], page_checks(block.page))


def load_schedule(block: Block, folder: Path) -> None:
    """A schedule, with a minimal standard whose rule counts in it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "schedule.yaml").write_text(block.text, encoding="utf-8")
    rule = {
        "id": "in-hours",
        "check": "elapsed",
        "params": {
            "from": {"type": "opened"},
            "to": {"type": "resolved"},
            "schedule": yaml.safe_load(block.text).get("name"),
        },
        "thresholds": {"target": "1d"},
    }
    standard = {"id": "docs-example", "version": 1, "title": "Uses the schedule"}
    _write(folder / "standard.yaml", {**standard, "dimension": "timeliness", "rules": [rule]})
    load_standards([folder], registry())


def load_wrapped_rules(rules: list[Any], block: Block, folder: Path) -> None:
    checks = [registry().check(rule.get("check", "")) for rule in rules if isinstance(rule, dict)]
    dimension = checks[0].dimension if checks and checks[0] else "timeliness"
    standard = {
        "id": "docs-example",
        "version": 1,
        "title": "An example from the docs",
        "dimension": dimension,
        "rules": rules,
    }
    _write(folder / "example.yaml", standard)
    _support(standard, block.page, folder)
    load_standards([folder], page_checks(block.page))


def alternatives(text: str) -> list[dict[str, Any]]:
    """A block of rule parts, split where a top-level key starts again (each is one choice)."""
    chunks: list[list[str]] = []
    for line in text.splitlines():
        starts = re.match(r"^[A-Za-z_]+:", line)
        if starts or not chunks:
            chunks.append([])
        chunks[-1].append(line)
    return [yaml.safe_load("\n".join(chunk)) for chunk in chunks if "".join(chunk).strip()]


def load_rule_parts(block: Block, folder: Path) -> None:
    for number, part in enumerate(alternatives(block.text)):
        rule: dict[str, Any] = {
            "id": "example",
            "check": "elapsed",
            "params": {"from": {"type": "opened"}, "to": {"type": "resolved"}},
            "thresholds": {"target": "1d"},
        }
        for key, value in part.items():
            if key in SELECTOR_PARTS:
                rule["params"][key] = value
            else:
                rule[key] = value
        load_wrapped_rules([rule], block, folder / str(number))


def load_fixture(path: Path) -> None:
    document = load_yaml_file(path)
    jsonschema.validate(document.data, load_schema("fixture"))
    for case in document.data["cases"]:
        record_from_mapping(case["record"])


def load_block(block: Block, folder: Path) -> None:
    """Load ``block`` with its loader; raise what that loader raises."""
    path = folder / "example.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(block.text, encoding="utf-8")
    data = yaml.safe_load(block.text)
    loaders: dict[str, Callable[[], object]] = {
        "mapping": lambda: load_mapping(path),
        "schedule": lambda: load_schedule(block, folder / "schedule"),
        "standard": lambda: load_standard_text(block, folder / "standard"),
        "waivers": lambda: load_waivers(path, datetime.date(2026, 1, 1)),
        "fixture": lambda: load_fixture(path),
        "rules": lambda: load_wrapped_rules(data, block, folder / "rules"),
        "rule parts": lambda: load_rule_parts(block, folder / "parts"),
    }
    kind = kind_of(data)
    assert kind in loaders, (
        f"{block.where}: not a standard, rule, schedule, mapping, waivers file or fixture; "
        "mark it <!-- yaml: fragment --> and say in the prose what it belongs to"
    )
    loaders[kind]()


REFUSALS = (StandardsInvalid, jsonschema.ValidationError, msgspec.ValidationError, yaml.YAMLError)


@pytest.mark.parametrize("block", yaml_blocks(), ids=lambda block: block.where)
def test_a_yaml_example_in_the_docs_loads(block: Block, tmp_path: Path) -> None:
    page = str(block.page.relative_to(ROOT))
    if page in IN_FLUX:
        pytest.skip(IN_FLUX[page])
    if block.directive == "fragment":
        return
    if block.directive == "invalid":
        with pytest.raises(REFUSALS):
            load_block(block, tmp_path)
        return
    try:
        load_block(block, tmp_path)
    except StandardsInvalid as invalid:
        pytest.fail(f"{block.where}: the example does not load:\n{invalid}")


def test_the_docs_have_yaml_examples_of_every_kind() -> None:
    kinds = {kind_of(yaml.safe_load(block.text)) for block in yaml_blocks()}
    assert kinds >= {"standard", "rules", "schedule", "mapping", "waivers", "fixture"}
