"""Files that cannot be written are plain errors, found before the audit, with nothing left.

A path under a regular file (``file.txt/out.json``) cannot be written by anyone, root
included, so it stands in for a read-only folder; the read-only folder itself is tried too
when the tests do not run as root (who may write anywhere).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rulecore.cli import main

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "examples" / "records" / "service-desk.jsonl"
STANDARDS = ROOT / "standards"


def audit(*options: str | Path) -> Result:
    args = ["audit", str(RECORDS), "-s", str(STANDARDS), "-f", "json", "--fail-on", "never"]
    return CliRunner().invoke(main, [*args, *map(str, options)])


def one_line_error(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """A regular file, where a folder would have to be."""
    path = tmp_path / "file.txt"
    path.write_text("not a folder\n", encoding="utf-8")
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize(
    "option",
    ["--output", "--rejects", "--report", "--history"],
)
def test_an_output_under_a_file_is_one_line_and_exit_2(
    option: str, blocker: Path, tmp_path: Path
) -> None:
    target = blocker / "out.json"
    value = f"csv:{target}" if option == "--report" else str(target)
    result = audit(option, value)
    one_line_error(result, str(target), "folder you can write to")
    assert leftovers(tmp_path) == ["file.txt"]


def test_output_naming_a_folder_says_to_name_a_file(tmp_path: Path) -> None:
    result = audit("--output", tmp_path)
    one_line_error(result, str(tmp_path), "is a folder", "name a file inside it")
    assert leftovers(tmp_path) == []


def test_a_bad_output_is_found_before_the_audit_runs(blocker: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    result = audit("--output", good, "--report", f"csv:{blocker / 'x.csv'}")
    assert result.exit_code == 2
    assert not good.exists()  # not even the good report was written: nothing was audited
    assert "records rejected" not in result.stderr


def test_map_output_under_a_file(blocker: Path, tmp_path: Path) -> None:
    for option in ("-o", "--rejects"):
        target = blocker / "records.jsonl"
        result = CliRunner().invoke(main, ["map", str(RECORDS), option, str(target)])
        one_line_error(result, str(target))
    assert leftovers(tmp_path) == ["file.txt"]


def test_history_that_is_a_folder(tmp_path: Path) -> None:
    store = tmp_path / "history.sqlite"
    store.mkdir()
    result = audit("--history", store)
    assert result.exit_code == 2  # click's own usage error: a file was asked for
    assert "is a directory" in result.stderr
    assert "Traceback" not in result.output


read_only = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root may write a read-only folder; the under-a-file tests cover this path",
)


@read_only
@pytest.mark.parametrize("option", ["--output", "--rejects", "--report", "--history"])
def test_outputs_in_a_read_only_folder(option: str, tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        target = folder / "out.json"
        value = f"csv:{target}" if option == "--report" else str(target)
        one_line_error(audit(option, value), str(target))
        assert leftovers(folder) == []
    finally:
        folder.chmod(0o755)


@read_only
def test_a_read_only_history_file_is_refused_before_the_audit(tmp_path: Path) -> None:
    store = tmp_path / "history.sqlite"
    assert audit("--history", store).exit_code == 0
    store.chmod(0o444)
    result = audit("--history", store, "--output", tmp_path / "report.json")
    one_line_error(result, str(store), "cannot write this history")
    assert not (tmp_path / "report.json").exists()
    with sqlite3.connect(store) as connection:
        assert connection.execute("SELECT COUNT(*) FROM audits").fetchone() == (1,)
