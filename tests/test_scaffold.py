"""``rulecore new plugin`` and ``rulecore new standard``: what they write works as written.

The end-to-end test installs a new plugin package into this environment (editable, no
network), runs its own tests, finds it in ``rulecore plugins``, and uninstalls it whatever
happens.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulecore import collect, get_plugin_manager
from rulecore._fixtures import run_fixture
from rulecore._scaffold import ScaffoldError, plugin_names, render_plugin
from rulecore.cli import main


def _run(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(arguments), catch_exceptions=False)
    return result.exit_code, result.output


# ---------------------------------------------------------------------------------------------
# new plugin
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "module"),
    [("acme-checks", "acme_checks"), ("Acme.Checks", "acme_checks"), ("acme__x-y", "acme_x_y")],
)
def test_the_module_name_is_derived_from_the_distribution_name(name: str, module: str) -> None:
    names = plugin_names(name)

    assert (names.distribution, names.module, names.entry_point) == (name, module, module)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("bad name", "is not a valid distribution name"),
        ("acme-", "is not a valid distribution name"),
        ("9-lives", "which Python cannot import"),
        ("json", "would hide Python's own module"),
        ("rulecore", "is taken by rulecore itself"),
    ],
)
def test_an_unusable_name_is_refused_in_one_line(name: str, why: str, tmp_path: Path) -> None:
    exit_code, output = _run("new", "plugin", name, "--dir", str(tmp_path / "new"))

    assert exit_code == 2
    assert why in output
    assert len(output.strip().splitlines()) == 1
    assert not (tmp_path / "new").exists()


def test_a_check_name_an_installed_plugin_has_is_refused(tmp_path: Path) -> None:
    exit_code, output = _run("new", "plugin", "acme", "--check", "handoffs", "--dir", str(tmp_path))

    assert exit_code == 2
    assert "already provided by the installed plugin 'flow'" in output
    assert not any(tmp_path.iterdir())


def test_a_folder_that_is_not_empty_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")

    exit_code, output = _run("new", "plugin", "acme-checks", "--dir", str(tmp_path))

    assert exit_code == 2
    assert f"Error: {tmp_path} already exists and is not empty; nothing was written" in output
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_new_plugin_writes_into_NAME_and_says_what_to_run_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    exit_code, output = _run("new", "plugin", "acme-checks")

    assert exit_code == 0, output
    assert output.splitlines()[1:] == [
        "next:",
        f"  pip install -e .{os.sep}acme-checks",
        f"  pytest .{os.sep}acme-checks",
        "  rulecore plugins",
    ]
    written = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*"))
    assert "acme-checks/src/acme_checks/unanswered_messages.py" in written
    assert "acme-checks/tests/fixtures/acme-checks-demo.test.yaml" in written


def test_the_package_registers_its_module_and_its_python_compiles() -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python 3.11 and later")
    files = render_plugin(plugin_names("acme-checks", "late_replies"))

    project = tomllib.loads(files["pyproject.toml"])
    assert project["project"]["entry-points"]["rulecore"] == {"acme_checks": "acme_checks"}
    assert project["tool"]["pytest"]["ini_options"]["addopts"] == "-p rulecore.pytest_plugin"
    for path, text in files.items():
        if path.endswith(".py"):
            compile(text, path, "exec")
    assert "late_replies" in files["src/acme_checks/late_replies.py"]
    assert "from .late_replies import LATE_REPLIES" in files["src/acme_checks/__init__.py"]


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Iterator[Path]:
    """A new plugin package, installed editable into this environment for one test."""
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling is not installed: `pip install -e '.[dev]'` brings it")
    project = tmp_path / "probe-checks"
    exit_code, output = _run(
        "new", "plugin", "scaffold-probe-checks", "--check", "probe_unanswered", "--dir",
        str(project),
    )  # fmt: skip
    assert exit_code == 0, output
    uninstall = [sys.executable, "-m", "pip", "uninstall", "-q", "-y", "scaffold-probe-checks"]
    subprocess.run(uninstall, capture_output=True, check=False)  # what a killed run left
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
             "-e", str(project)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        yield project
    finally:
        subprocess.run(uninstall, capture_output=True, check=False)


def _environment() -> dict[str, str]:
    blocked = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "RULECORE_BLOCK_PLUGINS")
    return {key: value for key, value in os.environ.items() if key not in blocked}


@pytest.mark.slow
def test_a_new_plugin_installs_passes_its_own_tests_and_is_listed(installed_plugin: Path) -> None:
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(installed_plugin)],
        capture_output=True, text=True, check=False, env=_environment(),
        cwd=installed_plugin.parent,
    )  # fmt: skip
    listed = subprocess.run(
        [sys.executable, "-m", "rulecore", "plugins", "--format", "json"],
        capture_output=True, text=True, check=False, env=_environment(),
    )  # fmt: skip

    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "8 passed" in tests.stdout
    data = json.loads(listed.stdout)
    [plugin] = [entry for entry in data["plugins"] if entry["name"] == "scaffold_probe_checks"]
    assert plugin["distribution"] == "scaffold-probe-checks"
    [check] = [entry for entry in data["checks"] if entry["name"] == "probe_unanswered"]
    assert (check["plugin"], check["dimension"]) == ("scaffold_probe_checks", "anticipation")
    assert data["problems"] == []


# ---------------------------------------------------------------------------------------------
# new standard
# ---------------------------------------------------------------------------------------------


def _checks_with_examples() -> list[str]:
    registry = collect(get_plugin_manager())
    return [name for name, (_plugin, check) in registry.checks.items() if check.example.strip()]


@pytest.mark.parametrize("check", _checks_with_examples())
def test_a_new_standard_from_any_checks_example_validates_and_its_fixture_passes(
    check: str, tmp_path: Path
) -> None:
    exit_code, output = _run(
        "new", "standard", "my-standard", "--check", check, "--dir", str(tmp_path)
    )
    assert exit_code == 0, output

    validated = _run("validate", str(tmp_path))
    results = run_fixture(tmp_path / "my-standard.test.yaml", collect(get_plugin_manager()))

    assert validated == (0, "ok: 1 standard with 1 rule in 1 file\n")
    assert [result.record for result in results] == ["plain-case", "only-opened"]
    assert all(result.passed for result in results)
    assert all(result.expected == result.actual or not result.actual for result in results)


def test_a_standard_naming_a_schedule_comes_with_one(tmp_path: Path) -> None:
    exit_code, output = _run(
        "new", "standard", "resolution", "--check", "elapsed", "--dir", str(tmp_path)
    )

    assert exit_code == 0, output
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "resolution.test.yaml",
        "resolution.yaml",
        "support-hours.yaml",
    ]
    assert "kind: schedule\nname: support-hours\n" in (tmp_path / "support-hours.yaml").read_text(
        encoding="utf-8"
    )


def test_an_existing_standard_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("id: mine\n", encoding="utf-8")

    exit_code, output = _run(
        "new", "standard", "mine", "--check", "handoffs", "--dir", str(tmp_path)
    )

    assert exit_code == 2
    assert output == f"Error: {tmp_path / 'mine.yaml'} already exists; nothing was written\n"
    assert (tmp_path / "mine.yaml").read_text(encoding="utf-8") == "id: mine\n"
    assert not (tmp_path / "mine.test.yaml").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("My Standard", "--check", "handoffs"), "is not a standard id"),
        (("mine", "--check", "handofs"), "unknown check 'handofs'; did you mean 'handoffs'?"),
    ],
)
def test_a_bad_name_or_check_is_refused(
    arguments: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    exit_code, output = _run("new", "standard", *arguments, "--dir", str(tmp_path))

    assert exit_code == 2
    assert message in output
    assert not any(tmp_path.iterdir())


def test_a_scaffold_error_is_one_line() -> None:
    with pytest.raises(ScaffoldError) as raised:
        plugin_names("acme", "Bad-Check")

    assert "is not a check name" in str(raised.value)
    assert "\n" not in str(raised.value)
