"""Ctrl-C and SIGTERM during an audit: exit 130 and 143, say how far it got, leave nothing.

Each test audits a generated input large enough to take seconds, in a subprocess, and sends
the signal once the report's temporary file exists and the audit has run a little.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="signals and /proc: Linux only")


@pytest.fixture(scope="module")
def big_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "records.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "generate.py"),
                "--count",
                "20000",
                "--seed",
                "3",
            ],
            stdout=stream,
            check=True,
        )
    return path


def wait_for(condition: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def workers_of(pid: int) -> list[int]:
    """The ``--jobs`` worker processes of ``pid`` (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children if _is_worker(int(child))]


def _is_worker(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"spawn_main" in command and b"resource_tracker" not in command


@pytest.mark.parametrize(
    ("which", "code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
    ids=["SIGINT", "SIGTERM"],
)
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_signal_stops_the_audit_cleanly(
    big_input: Path, tmp_path: Path, which: signal.Signals, code: int, jobs: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    command = [
        sys.executable,
        "-m",
        "rulecore",
        "audit",
        str(big_input),
        "-s",
        str(ROOT / "standards"),
        "-f",
        "json",
        "-o",
        str(out / "report.json"),
        "--report",
        f"csv:{out / 'report.csv'}",
        "--rejects",
        str(out / "rejects.jsonl"),
        "--history",
        str(out / "history.sqlite"),
        "--jobs",
        jobs,
    ]
    audit = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: any(path.name.startswith(".report.json.") for path in out.iterdir()))
        workers: list[int] = []
        if jobs == "2":
            wait_for(lambda: len(workers_of(audit.pid)) == 2)
            workers = workers_of(audit.pid)
        time.sleep(1.0)  # into the audit
        assert audit.poll() is None, "the audit ended before the signal: make the input larger"
        audit.send_signal(which)
        _, stderr = audit.communicate(timeout=60)
    finally:
        if audit.poll() is None:
            audit.kill()
            audit.wait()

    assert audit.returncode == code, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert re.fullmatch(
        rf"stopped by {which.name} after \d+ records? read; no file was written", lines[0]
    ), lines[0]
    # The history store is made before the audit (to be sure it can be written); no audit
    # is recorded in it, and nothing else is left: no report, no temporary file.
    assert sorted(path.name for path in out.iterdir()) == ["history.sqlite"]
    with sqlite3.connect(out / "history.sqlite") as connection:
        assert connection.execute("SELECT COUNT(*) FROM audits").fetchone() == (0,)
    wait_for(lambda: not any(_is_worker(pid) for pid in workers), seconds=10)
