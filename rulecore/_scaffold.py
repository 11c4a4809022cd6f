"""``rulecore new``: a plugin package, or a standard with its fixture, ready to run.

``new plugin`` renders the templates in ``_templates/plugin`` into a pip-installable package:
one check with its schema, doc and example, a standard that uses it, an annotated fixture, a
Python test, a docs page and a README.  ``new standard`` writes a standard from an installed
check's example rule, and a fixture whose expectations are what the check gives today, so both
start green and the author replaces the cases with ones that prove the standard.
"""

from __future__ import annotations

import keyword
import re
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from . import __version__
from ._fixtures import run_fixture
from ._i18n import _
from ._plugins import Registry
from ._standards import StandardsInvalid, load_documents, unknown_check
from ._yaml import SourceError

__all__ = [
    "PluginNames",
    "ScaffoldError",
    "new_standard",
    "plugin_names",
    "render_plugin",
    "write_plugin",
]

TEMPLATES = Path(__file__).parent / "_templates"

#: A distribution name as the packaging specifications allow it (PEP 508).
_DISTRIBUTION = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_CHECK = re.compile(r"^[a-z][a-z0-9_]*$")
_STANDARD_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
DEFAULT_CHECK = "unanswered_messages"


class ScaffoldError(Exception):
    """What ``rulecore new`` refuses to do, in one line for people (exit 2)."""


# ---------------------------------------------------------------------------------------------
# new plugin
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PluginNames:
    """Every name a new plugin package uses, derived from its distribution name."""

    distribution: str  #: acme-checks
    module: str  #: acme_checks
    entry_point: str  #: acme_checks: the plugin's name in reports
    check: str  #: unanswered_messages
    standard_id: str  #: acme-checks-demo

    @property
    def constant(self) -> str:
        return self.check.upper()

    def as_context(self) -> dict[str, str]:
        return {
            "distribution": self.distribution,
            "module": self.module,
            "entry_point": self.entry_point,
            "check": self.check,
            "constant": self.constant,
            "standard_id": self.standard_id,
            "rulecore_version": __version__,
            "python_floor": "3.10",
        }


def plugin_names(name: str, check: str = DEFAULT_CHECK) -> PluginNames:
    """The names of a new plugin called ``name``; :class:`ScaffoldError` when one is unusable."""
    if not _DISTRIBUTION.match(name):
        raise ScaffoldError(
            _(
                "{name!r} is not a valid distribution name: use letters, digits, '-', '_' "
                "and '.', starting and ending with a letter or digit (for example acme-checks)"
            ).format(name=name)
        )
    module = re.sub(r"[-_.]+", "_", name).lower()
    if not module.isidentifier() or keyword.iskeyword(module):
        raise ScaffoldError(
            _(
                "{name!r} gives the module name {module!r}, which Python cannot import; "
                "start the name with a letter (for example acme-checks)"
            ).format(name=name, module=module)
        )
    if module == "rulecore" or (module.startswith("rulecore_") and module[9:] in _FIRST_PARTY):
        raise ScaffoldError(
            _("{name!r} is taken by rulecore itself; choose another name").format(name=name)
        )
    if module in sys.stdlib_module_names:
        raise ScaffoldError(
            _(
                "{name!r} gives the module name {module!r}, which would hide Python's own "
                "module of that name; choose another name"
            ).format(name=name, module=module)
        )
    if not _CHECK.match(check):
        raise ScaffoldError(
            _(
                "{check!r} is not a check name: use lower-case letters, digits and '_', "
                "starting with a letter (for example unanswered_messages)"
            ).format(check=check)
        )
    return PluginNames(
        distribution=name,
        module=module,
        entry_point=module,
        check=check,
        standard_id=re.sub(r"[_.]+", "-", name.lower()) + "-demo",
    )


_FIRST_PARTY = {"timeliness", "flow", "adaptability", "anticipation", "mapping", "reports"}

#: Where each template goes in the new package.
_PLUGIN_FILES = {
    "pyproject.toml": "pyproject.toml.j2",
    "README.md": "README.md.j2",
    ".gitignore": "gitignore.j2",
    "src/{module}/__init__.py": "__init__.py.j2",
    "src/{module}/{check}.py": "check.py.j2",
    "src/{module}/py.typed": None,
    "docs/{check}.md": "check.md.j2",
    "tests/fixtures/{standard_id}.yaml": "standard.yaml.j2",
    "tests/fixtures/{standard_id}.test.yaml": "fixture.test.yaml.j2",
    "tests/test_{check}.py": "test_check.py.j2",
}


def render_plugin(names: PluginNames) -> dict[str, str]:
    """Every file of the new package: its path inside the package folder, and its text."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "plugin"),
        autoescape=jinja2.select_autoescape(enabled_extensions=(), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    context = names.as_context()
    return {
        path.format(**context): (
            environment.get_template(template).render(context) if template else ""
        )
        for path, template in _PLUGIN_FILES.items()
    }


def write_plugin(names: PluginNames, folder: Path, registry: Registry | None = None) -> list[Path]:
    """Write the package into ``folder`` (created; it must not hold anything yet).

    :param registry: the installed plugins; when given, a check name one of them already
        provides is refused, since two plugins cannot register one name.
    :returns: the files written, in order.
    """
    if registry is not None and names.check in registry.checks:
        plugin = registry.checks[names.check][0]
        raise ScaffoldError(
            _(
                "the check {check!r} is already provided by the installed plugin {plugin!r}; "
                "choose another name with --check"
            ).format(check=names.check, plugin=plugin)
        )
    _refuse_a_folder_in_use(folder)
    files = render_plugin(names)
    written = []
    for relative, text in files.items():
        path = folder / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            raise ScaffoldError(
                _("cannot create {folder}: {why}").format(folder=path, why=error.strerror)
            ) from None
        written.append(path)
    return written


def _refuse_a_folder_in_use(folder: Path) -> None:
    try:
        folder.stat()
    except FileNotFoundError:
        pass
    except OSError as error:  # a name too long for the file system, a folder not searchable
        raise ScaffoldError(
            _("cannot create {folder}: {why}").format(folder=folder, why=error.strerror)
        ) from None
    if folder.exists() and not folder.is_dir():
        raise ScaffoldError(
            _("{folder} is a file; choose a new folder with --dir").format(folder=folder)
        )
    if folder.is_dir() and any(folder.iterdir()):
        raise ScaffoldError(
            _(
                "{folder} already exists and is not empty; nothing was written. Choose a new "
                "folder with --dir"
            ).format(folder=folder)
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ScaffoldError(
            _("cannot create {folder}: {why}").format(folder=folder, why=error.strerror)
        ) from None


# ---------------------------------------------------------------------------------------------
# new standard
# ---------------------------------------------------------------------------------------------

#: What the sample records are made of: a plain case's life, on the channels and attributes
#: the shipped examples use, so that most checks' example rules find something to measure.
_SAMPLE_ATTRIBUTES: dict[str, Any] = {
    "channel": "chat",
    "priority": "normal",
    "team": "billing",
    "customer": "C-1",
}
_SAMPLE_EVENTS: list[dict[str, Any]] = [
    {"at": "2026-03-02T09:00:00Z", "type": "opened", "actor": "customer",
     "fields": {"status": "New", "state": "New"}},
    {"at": "2026-03-02T09:02:00Z", "type": "assigned", "actor": "system",
     "fields": {"team": "billing", "tier": 1, "level": "L1"}},
    {"at": "2026-03-02T09:05:00Z", "type": "message", "actor": "agent",
     "fields": {"text": "Hello, I am looking into it."}},
    {"at": "2026-03-02T11:00:00Z", "type": "resolved", "actor": "agent",
     "fields": {"status": "Resolved", "state": "Resolved"}},
    {"at": "2026-03-02T11:30:00Z", "type": "closed", "actor": "system",
     "fields": {"status": "Closed", "state": "Closed"}},
]  # fmt: skip

_SAMPLE_SCHEDULE = """\
# A business schedule the rule names; replace the hours with your service's own.
kind: schedule
name: {name}
timezone: UTC
hours:
  mon-fri: "09:00-17:00"
"""


@dataclass(frozen=True)
class NewStandard:
    """What ``new standard`` wrote, and what the fixture's cases gave."""

    files: tuple[Path, ...]
    outcomes: Mapping[str, Mapping[str, str]]  #: by case record id, each rule's outcome


def new_standard(name: str, check: str, folder: Path, registry: Registry) -> NewStandard:
    """Write ``NAME.yaml`` (a standard from ``check``'s example) and ``NAME.test.yaml``.

    The fixture holds two records, a plain case and an empty one, expecting what the check
    gives for them today; the standard is compiled and the fixture run before anything is
    written, so both are valid and green.
    """
    if not _STANDARD_ID.match(name):
        raise ScaffoldError(
            _(
                "{name!r} is not a standard id: use lower-case letters, digits, '.', '_' and "
                "'-', starting with a letter or digit (for example chat-first-reply)"
            ).format(name=name)
        )
    entry = registry.checks.get(check)
    if entry is None:
        raise ScaffoldError(unknown_check(check, registry))
    plugin, found = entry
    rules = _example_rules(check, found.example)
    standard_path, fixture_path = folder / f"{name}.yaml", folder / f"{name}.test.yaml"
    for path in (standard_path, fixture_path):
        if path.exists():
            raise ScaffoldError(_("{path} already exists; nothing was written").format(path=path))
    files = {
        standard_path: _standard_text(name, check, plugin, found.dimension, found.example),
        fixture_path: "",
    }
    files.update(_missing_schedules(rules, folder))
    outcomes = _try_out(files, fixture_path, rules, registry, folder)
    files[fixture_path] = _fixture_text(name, check, rules, outcomes)
    folder.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return NewStandard(tuple(files), outcomes)


def _example_rules(check: str, example: str) -> list[dict[str, Any]]:
    rules = yaml.safe_load(example) if example.strip() else None
    if not isinstance(rules, list) or not rules:
        raise ScaffoldError(
            _(
                "the check {check!r} carries no example rule to start from; write the standard "
                "by hand (rulecore explain {check} lists its parameters)"
            ).format(check=check)
        )
    return [rule for rule in rules if isinstance(rule, dict)]


def _standard_text(name: str, check: str, plugin: str, dimension: str, example: str) -> str:
    title = name.replace("-", " ").replace("_", " ").capitalize()
    rules = "\n".join("  " + line if line.strip() else "" for line in example.rstrip().splitlines())
    return (
        f"# A standard written by `rulecore new standard` from the example rule of the check\n"
        f"# {check!r} (plugin {plugin!r}). Set the parameters and thresholds your service\n"
        f"# promises; `rulecore explain {check}` lists them.\n"
        f"id: {name}\n"
        f"version: 1\n"
        f"title: {title}\n"
        f"dimension: {dimension}\n"
        f"rules:\n{rules}\n"
    )


def _missing_schedules(rules: list[dict[str, Any]], folder: Path) -> dict[Path, str]:
    named = sorted(
        {
            str(rule["params"]["schedule"])
            for rule in rules
            if isinstance(rule.get("params"), dict) and rule["params"].get("schedule")
        }
    )
    if not named:
        return {}
    documents, _errors = load_documents([folder]) if folder.is_dir() else ([], [])
    defined = {
        document.data.get("name")
        for document in documents
        if isinstance(document.data, dict) and document.data.get("kind") == "schedule"
    }
    files: dict[Path, str] = {}
    for schedule in named:
        if schedule in defined:
            continue
        path = folder / f"{schedule}.yaml"
        if path.exists():
            raise ScaffoldError(
                _(
                    "the example rule names the schedule {name!r}, and {path} exists without "
                    "defining it; nothing was written"
                ).format(name=schedule, path=path)
            )
        files[path] = _SAMPLE_SCHEDULE.format(name=schedule)
    return files


def _sample_cases(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rule_ids = [str(rule.get("id")) for rule in rules]
    placeholder = dict.fromkeys(rule_ids, "pass")
    return [
        {
            "name": "a plain case, opened, answered and resolved the same morning",
            "record": {"id": "plain-case", "attributes": _SAMPLE_ATTRIBUTES,
                       "events": _SAMPLE_EVENTS},
            "expect": placeholder,
        },
        {
            "name": "a case that was only opened",
            "record": {"id": "only-opened", "attributes": _SAMPLE_ATTRIBUTES,
                       "events": _SAMPLE_EVENTS[:1]},
            "expect": placeholder,
        },
    ]  # fmt: skip


def _try_out(
    files: Mapping[Path, str],
    fixture_path: Path,
    rules: list[dict[str, Any]],
    registry: Registry,
    folder: Path,
) -> dict[str, dict[str, str]]:
    """Compile the standard and run the sample cases in a scratch copy of ``folder``."""
    cases = _sample_cases(rules)
    with tempfile.TemporaryDirectory(prefix="rulecore-new-") as scratch:
        root = Path(scratch)
        if folder.is_dir():
            for document in load_documents([folder])[0]:
                if isinstance(document.data, dict) and document.data.get("kind") == "schedule":
                    copy = root / f"existing-{len(list(root.iterdir()))}.yaml"
                    copy.write_text(Path(document.path).read_text(encoding="utf-8"), "utf-8")
        for path, text in files.items():
            (root / path.name).write_text(text, encoding="utf-8")
        trial = root / fixture_path.name
        trial.write_text(yaml.safe_dump({"cases": cases}, sort_keys=False), encoding="utf-8")
        try:
            results = run_fixture(trial, registry)
        except StandardsInvalid as invalid:
            raise ScaffoldError(
                _(
                    "the example rule of the check does not compile on its own; nothing was "
                    "written: {problems}"
                ).format(problems="; ".join(_outside(str(e), root) for e in invalid.errors))
            ) from None
        except SourceError as error:
            raise ScaffoldError(_outside(str(error), root)) from None
    return {result.record: _every_rule(result.actual, rules) for result in results}


def _flow(value: Any) -> str:
    """``value`` as YAML on one line, the way the shipped fixtures write events."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1 << 16)
    return str(text).strip().removesuffix("\n...")


def _outside(text: str, scratch: Path) -> str:
    return text.replace(str(scratch) + "/", "")


def _every_rule(actual: Mapping[str, str], rules: list[dict[str, Any]]) -> dict[str, str]:
    return {str(rule.get("id")): actual.get(str(rule.get("id")), "out_of_scope") for rule in rules}


def _fixture_text(
    name: str,
    check: str,
    rules: list[dict[str, Any]],
    outcomes: Mapping[str, Mapping[str, str]],
) -> str:
    lines = ["cases:"]
    for case in _sample_cases(rules):
        record = case["record"]
        expect = dict(outcomes[record["id"]])
        lines += [
            f"  - name: {_flow(case['name'])}",
            "    record:",
            f"      id: {_flow(record['id'])}",
            f"      attributes: {_flow(record['attributes'])}",
            "      events:",
            *(f"        - {_flow(event)}" for event in record["events"]),
            f"    expect: {_flow(expect)}",
            "",
        ]
    body = "\n".join(lines)
    return (
        f"# Proof for {name}.yaml, written by `rulecore new standard`.\n"
        f"#\n"
        f"# Each case is a record and the outcome every rule must give for it.  These two cases\n"
        f"# expect what {check!r} gives them today, so the fixture starts green: replace them\n"
        f"# with cases that prove the standard (one at each threshold and one just past it,\n"
        f"# one not applicable, one out of scope) and run `rulecore test {name}.test.yaml`.\n"
        + body
    )
