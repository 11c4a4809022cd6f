"""Careless or hostile input to the newer commands: one ``Error:`` line and exit 2, never a
traceback or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rulecore.cli import main


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(arg) for arg in args])


def _one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: "), result.output
    return lines[0]


def test_new_plugin_with_a_name_too_long_for_the_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    line = _one_error_line(run("new", "plugin", "a" * 300))
    assert "cannot create" in line


def test_new_plugin_with_a_dir_too_long_for_the_file_system(tmp_path: Path) -> None:
    line = _one_error_line(run("new", "plugin", "acme-checks", "--dir", tmp_path / ("b" * 300)))
    assert "cannot create" in line


def test_new_plugin_whose_module_folder_is_too_long(tmp_path: Path) -> None:
    line = _one_error_line(run("new", "plugin", "a" * 250, "--dir", tmp_path / "long"))
    assert "cannot create" in line


def test_dask_address_nobody_listens_on_fails_at_once() -> None:
    pytest.importorskip("distributed")
    import socket
    import time

    with socket.socket() as probe:  # a port just freed: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    examples = Path(__file__).resolve().parent.parent / "examples"
    started = time.monotonic()
    result = run(
        "audit",
        examples / "records",
        "-s",
        examples.parent / "standards",
        "--dask",
        f"tcp://127.0.0.1:{port}",
    )
    assert time.monotonic() - started < 10
    line = _one_error_line(result)
    assert "cannot reach the Dask scheduler" in line
