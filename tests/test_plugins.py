"""Plugins: discovery through entry points, blocking, and one plugin's fault staying its own.

Outside plugins are installed the way a third party's would be: a module on ``sys.path`` and a
distribution whose ``rulecore`` entry point names it.  Nothing is pip-installed:
``importlib.metadata.distributions`` is monkeypatched to add the test's distributions to the
real ones (as pluggy's own tests do), so the first-party plugins still load beside them.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pluggy
import pytest
from click.testing import CliRunner

from rulecore import (
    BLOCK_ENV,
    AnyCheck,
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Measurement,
    Record,
    Registry,
    collect,
    get_plugin_manager,
    hookimpl,
)
from rulecore._plugins import find_entry_points
from rulecore.cli import main

# An outside team's plugin: counts attachments, an indicator no first-party plugin measures.
ATTACHMENTS_PLUGIN = """
from rulecore import Check, Measurement, hookimpl


def compile_attachments(params, context):
    def attachments(record, eval_context):
        return Measurement(float(sum(1 for e in record.events if e.type == "attachment")))

    return attachments


@hookimpl
def rulecore_register_checks(register):
    register(
        Check(
            name="attachments",
            dimension="communication",
            doc="Number of attachments the customer had to send.",
            params_schema={"type": "object", "additionalProperties": False},
            compile=compile_attachments,
            default_thresholds={"desired": 0, "adequate": 1},
        )
    )
"""


def _plugin_registering(check_name: str) -> str:
    return ATTACHMENTS_PLUGIN.replace('name="attachments"', f"name={check_name!r}")


class Site:
    """A scratch install: plugin modules on ``sys.path``, their distributions in metadata.

    The distributions' ``.dist-info`` folders are kept off ``sys.path``, so only the patched
    ``importlib.metadata.distributions`` can reveal them.
    """

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.source = root / "src"
        self.metadata = root / "metadata"
        self.source.mkdir(parents=True)
        self.metadata.mkdir(parents=True)
        self.distributions: list[importlib.metadata.Distribution] = []
        self.modules: list[str] = []
        real_distributions = importlib.metadata.distributions

        def distributions(**kwargs: Any) -> list[importlib.metadata.Distribution]:
            return [*real_distributions(**kwargs), *self.distributions]

        monkeypatch.syspath_prepend(str(self.source))
        monkeypatch.setattr(importlib.metadata, "distributions", distributions)

    def install(
        self,
        distribution: str,
        entry_points: Mapping[str, str],
        modules: Mapping[str, str],
        version: str = "1.0",
    ) -> None:
        """Install ``modules`` (name to source) as ``distribution`` with these entry points."""
        for module, source in modules.items():
            (self.source / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            self.modules.append(module)
        importlib.invalidate_caches()
        info = self.metadata / f"{distribution}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
        )
        lines = ["[rulecore]", *(f"{name} = {value}" for name, value in entry_points.items())]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.distributions.append(importlib.metadata.PathDistribution(info))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.delenv(BLOCK_ENV, raising=False)
    scratch = Site(tmp_path / "site", monkeypatch)
    yield scratch
    for module in scratch.modules:
        sys.modules.pop(module, None)


def _problems_of(registry: Registry, *plugins: str) -> dict[str, str]:
    """The problems of these plugins only: other installed plugins may have their own."""
    return {p.plugin: p.message for p in registry.problems if p.plugin in plugins}


def _plugins_json(runner: CliRunner | None = None) -> dict[str, Any]:
    result = (runner or CliRunner()).invoke(main, ["plugins", "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# ---------------------------------------------------------------------------------------------
# an outside plugin, end to end
# ---------------------------------------------------------------------------------------------


def test_outside_plugin_is_discovered_listed_and_used_in_an_audit(
    site: Site, tmp_path: Path
) -> None:
    site.install(
        "rulecore-attachments",
        {"attachments": "rc_attachments"},
        {"rc_attachments": ATTACHMENTS_PLUGIN},
        version="2.3.1",
    )

    listed = _plugins_json()
    plugin = next(p for p in listed["plugins"] if p["name"] == "attachments")
    assert plugin == {
        "name": "attachments",
        "entry_point": "rc_attachments",
        "distribution": "rulecore-attachments",
        "version": "2.3.1",
        "blocked": False,
    }
    check = next(c for c in listed["checks"] if c["name"] == "attachments")
    assert (check["plugin"], check["dimension"]) == ("attachments", "communication")
    assert {"elapsed", "handoffs"} <= {c["name"] for c in listed["checks"]}, "first-party lost"
    assert [p for p in listed["problems"] if p["plugin"] == "attachments"] == []

    standards = tmp_path / "standards"
    standards.mkdir()
    (standards / "attachments.yaml").write_text(
        "id: few-attachments\nversion: 1\ntitle: Few attachments\ndimension: communication\n"
        "rules:\n  - id: attachments\n    check: attachments\n",
        encoding="utf-8",
    )
    events = [{"at": f"2026-01-01T10:0{n}:00Z", "type": "attachment"} for n in range(2)]
    records = tmp_path / "records.jsonl"
    records.write_text(
        json.dumps({"id": "none"}) + "\n" + json.dumps({"id": "two", "events": events}) + "\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main,
        ["audit", str(records), "-s", str(standards), "-f", "jsonl", "--all-outcomes"],
    )
    assert result.exit_code == 1, result.output  # the record with two attachments fails
    findings = [json.loads(line) for line in result.stdout.splitlines()][:-1]
    outcomes = {(f["record"], f["plugin"], f["check"]): f["outcome"] for f in findings}
    assert outcomes == {
        ("none", "attachments", "attachments"): "pass",
        ("two", "attachments", "attachments"): "fail",
    }


def test_blocked_plugin_is_listed_as_blocked_and_provides_nothing(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.install(
        "rulecore-attachments",
        {"attachments": "rc_attachments"},
        {"rc_attachments": ATTACHMENTS_PLUGIN},
    )
    monkeypatch.setenv(BLOCK_ENV, "attachments, flow")

    listed = _plugins_json()
    blocked = {p["name"]: p["blocked"] for p in listed["plugins"]}
    assert blocked["attachments"] is True
    assert blocked["flow"] is True
    assert blocked["timeliness"] is False
    names = {c["name"] for c in listed["checks"]}
    assert "attachments" not in names
    assert "handoffs" not in names
    assert "elapsed" in names
    assert "rc_attachments" not in sys.modules, "a blocked plugin must not even be imported"

    standard = tmp_path / "s.yaml"
    standard.write_text(
        "id: s\nversion: 1\ntitle: t\ndimension: flow\nrules:\n  - id: r\n    check: attachments\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["validate", str(standard)])
    assert result.exit_code == 2
    assert "unknown check 'attachments'" in result.stderr


def test_block_list_argument_blocks_a_default_plugin() -> None:
    manager = get_plugin_manager(entrypoints=False, blocked=frozenset({"rulecore.default_writers"}))
    registry = collect(manager)
    assert registry.writers == {}
    assert "jsonl" in registry.readers


# ---------------------------------------------------------------------------------------------
# loud typos, contained failures
# ---------------------------------------------------------------------------------------------


class MisspeltHook:
    @hookimpl
    def rulecore_register_check(self, register: Callable[[AnyCheck], None]) -> None:
        """Misspelt on purpose: the hook is ``rulecore_register_checks``."""


def test_misspelt_hook_fails_loudly_at_get_plugin_manager() -> None:
    with pytest.raises(
        pluggy.PluginValidationError, match="unknown hook 'rulecore_register_check'"
    ):
        get_plugin_manager(entrypoints=False, plugins=[MisspeltHook()])


def test_misspelt_hook_in_an_installed_plugin_names_the_module(site: Site) -> None:
    source = ATTACHMENTS_PLUGIN.replace(
        "def rulecore_register_checks", "def rulecore_register_check"
    )
    site.install("rulecore-typo", {"typo": "rc_typo"}, {"rc_typo": source})
    with pytest.raises(pluggy.PluginValidationError, match=r"rulecore_register_check'.*rc_typo"):
        get_plugin_manager()


def test_plugin_whose_import_raises_becomes_a_problem_and_others_load(site: Site) -> None:
    site.install(
        "rulecore-broken",
        {"broken": "rc_broken"},
        {"rc_broken": "raise ImportError('needs libmagic')\n"},
        version="0.3",
    )
    site.install(
        "rulecore-attachments",
        {"attachments": "rc_attachments"},
        {"rc_attachments": ATTACHMENTS_PLUGIN},
    )
    registry = collect(get_plugin_manager())

    problems = _problems_of(registry, "broken", "attachments")
    assert list(problems) == ["broken"]
    message = problems["broken"]
    assert "rc_broken" in message
    assert "rulecore-broken 0.3" in message
    assert "ImportError: needs libmagic" in message
    assert {"attachments", "elapsed", "handoffs", "follow_up"} <= set(registry.checks)


def test_plugin_whose_register_hook_raises_becomes_a_problem_and_others_load(site: Site) -> None:
    raising = """
        from rulecore import hookimpl

        @hookimpl
        def rulecore_register_checks(register):
            raise RuntimeError("config file missing")
    """
    site.install("rulecore-raises", {"raises": "rc_raises"}, {"rc_raises": raising})
    site.install(
        "rulecore-attachments",
        {"attachments": "rc_attachments"},
        {"rc_attachments": ATTACHMENTS_PLUGIN},
    )
    registry = collect(get_plugin_manager())

    problems = _problems_of(registry, "raises", "attachments")
    assert list(problems) == ["raises"]
    assert "RuntimeError: config file missing" in problems["raises"]
    assert "rulecore_register_checks" in problems["raises"]
    assert {"attachments", "elapsed"} <= set(registry.checks)

    listed = _plugins_json()
    shown = [p for p in listed["problems"] if p["plugin"] in ("raises", "attachments")]
    assert shown == [{"plugin": "raises", "message": problems["raises"]}]


def test_two_plugins_registering_one_check_name_is_a_problem_naming_both(site: Site) -> None:
    # Installed in reverse order: which one wins must not depend on discovery order.
    site.install("rulecore-beta", {"beta": "rc_beta"}, {"rc_beta": ATTACHMENTS_PLUGIN})
    site.install("rulecore-alpha", {"alpha": "rc_alpha"}, {"rc_alpha": ATTACHMENTS_PLUGIN})
    registry = collect(get_plugin_manager())

    clashes = [problem for problem in registry.problems if "attachments" in problem.message]
    assert len(clashes) == 1
    assert "'alpha'" in clashes[0].message
    assert "'beta'" in clashes[0].message
    assert registry.checks["attachments"][0] == "alpha"


def test_plugin_registering_something_that_is_not_a_check_is_a_problem() -> None:
    class RegistersText:
        @hookimpl
        def rulecore_register_checks(self, register: Callable[[Any], None]) -> None:
            register("elapsed")

    manager = get_plugin_manager(entrypoints=False)
    manager.register(RegistersText(), name="text")
    registry = collect(manager)
    assert [problem.plugin for problem in registry.problems] == ["text"]
    assert "not a Check or CrossRecordCheck" in registry.problems[0].message
    assert registry.checks == {}


def test_inline_plugin_class_registers_a_check_on_a_fresh_manager() -> None:
    def compile_always_one(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
        def always_one(record: Record, eval_context: EvaluationContext) -> Measurement:
            return Measurement(1.0)

        return always_one

    class Inline:
        @hookimpl
        def rulecore_register_checks(self, register: Callable[[AnyCheck], None]) -> None:
            register(Check("always_one", "flow", "Always one.", {}, compile_always_one))

    manager = get_plugin_manager(entrypoints=False)
    manager.register(Inline(), name="inline")
    registry = collect(manager)
    assert list(registry.checks) == ["always_one"]
    assert registry.checks["always_one"][0] == "inline"
    assert registry.problems == ()


# ---------------------------------------------------------------------------------------------
# deterministic discovery
# ---------------------------------------------------------------------------------------------


def test_discovery_is_sorted_whatever_order_distributions_come_in(site: Site) -> None:
    site.install("zz-dist", {"zulu": "rc_zulu"}, {"rc_zulu": _plugin_registering("zulu_check")})
    site.install("mm-dist", {"mike": "rc_mike"}, {"rc_mike": _plugin_registering("mike_check")})
    site.install("aa-dist", {"alfa": "rc_alfa"}, {"rc_alfa": _plugin_registering("alfa_check")})

    found = [plugin.name for plugin in find_entry_points()]
    assert found == sorted(found)
    assert {"alfa", "mike", "zulu"} <= set(found)

    manager = get_plugin_manager()
    assert [plugin.name for plugin in manager.found] == found
    registry = collect(manager)
    assert list(registry.checks) == sorted(registry.checks)

    listed = _plugins_json()
    assert [p["name"] for p in listed["plugins"]] == found
    assert [c["name"] for c in listed["checks"]] == sorted(c["name"] for c in listed["checks"])
