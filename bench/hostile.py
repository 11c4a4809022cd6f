"""Measure how rulecore answers hostile and broken input, and hold each case to its bound.

Each row of the hostile-input table in ``docs/robustness.md`` (hostile YAML, undecodable CSV
bytes, an empty input, NaN in a record, a check that never ends...) is written to a temporary
folder and run through the CLI in a fresh process: its exit code, its processor time (user +
system, from its own rusage: on a shared machine far steadier than wall time, which is printed
too) and its peak resident memory.  Prints a markdown table, and exits 1 when a case gives
another exit code than the table's, or takes more processor time or memory than its bound.

    .venv/bin/python bench/hostile.py
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
STANDARD = ROOT / "tests" / "data" / "standards" / "cli-first-reply.yaml"

RULE = (
    "  - id: rule-{number}\n"
    "    description: Chat customers are answered while they are still at the keyboard.\n"
    "    check: elapsed\n"
    "    scope: {{field: channel, op: eq, value: chat}}\n"
    "    params:\n"
    "      from: {{type: opened}}\n"
    "      to: {{type: message, actor: agent}}\n"
    "    thresholds: {{desired: 1m, adequate: 3m}}\n"
    "    severity: major\n"
    '    message: "first agent reply after {{measured}}"\n'
)

MAPPING = """\
kind: mapping
shape: ticket
timestamps: {formats: ["%Y-%m-%d %H:%M"], timezone: UTC}
case: {id: SR Number}
events:
  - {type: opened, at: Created, required: true, actor: {value: customer}}
"""


class Measured(NamedTuple):
    exit_code: int
    seconds: float
    cpu_seconds: float
    peak_mb: float
    said: str


class Bound(NamedTuple):
    """What a case must give: its exit code, and at most this processor time and memory."""

    exit_code: int
    cpu_seconds: float = 1.0
    peak_mb: float = 100.0


#: The issue's bound for refusing a hostile file: 1 s and 100 MB.
REFUSED = Bound(2)


#: Runs the command and prints its exit code and peak memory.  A process started straight from
#: this one would inherit this one's memory high-water mark (Linux keeps it across exec, and
#: this process has just written a 50 MB file), so a small launcher starts it instead.
LAUNCHER = """
import resource, subprocess, sys
timeout, command = float(sys.argv[1]), sys.argv[2:]
process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
try:
    process.wait(timeout)
except subprocess.TimeoutExpired:
    process.kill()
    process.wait()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(process.returncode, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
"""


def run_cli(args: list[str], timeout: float, folder: Path) -> Measured:
    """Run ``rulecore ARGS`` in a fresh process, through the launcher; ``folder`` is put on
    the path, for a case's own plugin."""
    started = time.perf_counter()
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(timeout), sys.executable, "-m", "rulecore", *args],
        capture_output=True,
        cwd=ROOT,
        check=True,
        env={**os.environ, "PYTHONPATH": str(folder)},
    )
    seconds = time.perf_counter() - started
    code, peak_kb, cpu = launched.stdout.split()
    said = launched.stderr.decode("utf-8", errors="replace").strip().splitlines()
    return Measured(int(code), seconds, float(cpu), int(peak_kb) / 1024, said[-1] if said else "")


def standard_of(rules: int) -> str:
    head = STANDARD.read_text(encoding="utf-8").split("rules:\n")[0]
    return head + "rules:\n" + "".join(RULE.format(number=n) for n in range(rules))


def alias_bomb(levels: int, width: int = 9) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [
        f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]"
        for level in range(1, levels)
    ]
    return "\n".join(lines) + "\n"


def csv_with_one_latin1_byte(rows: int) -> bytes:
    body = [f"SR-{n},2026-04-01 09:00\n".encode() for n in range(rows)]
    body[rows * 3 // 4] = b"SR-caf\xe9,2026-04-01 09:00\n"
    return b"SR Number,Created\n" + b"".join(body)


#: A check that never ends on one record, and one that sleeps, as an outside plugin.
ENDLESS_PLUGIN = """
import time
from rulecore import Check, Measurement, hookimpl

def spins(params, context):
    def evaluate(record, ctx):
        while record.id == "r-500":
            pass
        return Measurement(0)
    return evaluate

def naps(params, context):
    def evaluate(record, ctx):
        if record.id == "r-700":
            time.sleep(3600)
        return Measurement(0)
    return evaluate

@hookimpl
def rulecore_register_checks(register):
    for name, compile in (("spins", spins), ("naps", naps)):
        register(Check(name=name, dimension="flow", doc=name, params_schema={"type": "object"},
                       compile=compile))
"""

ENDLESS_STANDARD = """\
id: endless
version: 1
title: Checks that never end
dimension: flow
rules:
  - {id: spinning, check: spins, thresholds: {max: 0}}
  - {id: napping, check: naps, thresholds: {max: 0}}
"""

Case = tuple[str, Bound, Callable[[Path], list[str]]]


def cases() -> list[Case]:
    def validate(name: str, text: str | bytes) -> Callable[[Path], list[str]]:
        def make(folder: Path) -> list[str]:
            path = folder / name
            if isinstance(text, str):
                path.write_text(text, encoding="utf-8")
            else:
                path.write_bytes(text)
            return ["validate", str(path)]

        return make

    def audit_deep(folder: Path) -> list[str]:
        standard = folder / "deep.yaml"
        standard.write_text("rules: " + "[" * 10_000 + "]" * 10_000 + "\n", encoding="utf-8")
        records = folder / "one.jsonl"
        records.write_text('{"id": "r1", "events": []}\n', encoding="utf-8")
        return ["audit", str(records), "-s", str(standard)]

    def mapped(name: str, export: bytes, mapping: bytes) -> Callable[[Path], list[str]]:
        def make(folder: Path) -> list[str]:
            (folder / name).write_bytes(export)
            (folder / "mapping.yaml").write_bytes(mapping)
            return [
                "audit",
                str(folder / name),
                "--mapping",
                str(folder / "mapping.yaml"),
                "-s",
                str(STANDARD),
            ]

        return make

    def records(name: str, content: bytes) -> Callable[[Path], list[str]]:
        def make(folder: Path) -> list[str]:
            (folder / name).write_bytes(content)
            return ["audit", str(folder / name), "-s", str(STANDARD)]

        return make

    def endless(timeout: str) -> Callable[[Path], list[str]]:
        def make(folder: Path) -> list[str]:
            (folder / "endless_plugin.py").write_text(ENDLESS_PLUGIN, encoding="utf-8")
            info = folder / "endless_plugin-1.0.dist-info"
            info.mkdir()
            (info / "METADATA").write_text("Metadata-Version: 2.1\nName: endless\nVersion: 1\n")
            (info / "entry_points.txt").write_text("[rulecore]\nendless = endless_plugin\n")
            (folder / "endless.yaml").write_text(ENDLESS_STANDARD, encoding="utf-8")
            lines = [f'{{"id": "r-{n}", "events": []}}\n' for n in range(1000)]
            (folder / "r.jsonl").write_text("".join(lines), encoding="utf-8")
            return [
                *("audit", str(folder / "r.jsonl"), "-s", str(folder / "endless.yaml")),
                *("--rule-timeout", timeout, "--fail-on", "never", "-f", "json"),
            ]

        return make

    nan = b'{"id": "r1", "attributes": {"x": NaN}, "events": []}\n'
    return [
        ("standard 600 deep (validate)", REFUSED, validate("d600.yaml", nested(600))),
        ("standard 10,000 deep (validate)", REFUSED, validate("d10k.yaml", "a: " + "[" * 10_000)),
        ("standard 10,000 deep (audit -s)", REFUSED, audit_deep),
        ("alias bomb 7 levels x 9", REFUSED, validate("bomb7.yaml", alias_bomb(7))),
        ("alias bomb 9 levels x 9", REFUSED, validate("bomb9.yaml", alias_bomb(9))),
        ("alias into itself", REFUSED, validate("cycle.yaml", "a: &a [*a]\n")),
        (
            "standard of 1,000 rules (accepted)",
            Bound(0, cpu_seconds=5.0, peak_mb=150.0),
            validate("r1000.yaml", standard_of(1000)),
        ),
        ("5 MB standard", REFUSED, validate("5mb.yaml", standard_of(12_500))),
        ("50 MB standard", REFUSED, validate("50mb.yaml", standard_of(125_000))),
        ("standard with a NUL", REFUSED, validate("nul.yaml", b"id: a\x00b\n")),
        ("standard with a control character", REFUSED, validate("bell.yaml", b"id: a\x07b\n")),
        (
            "mapping with a NUL",
            REFUSED,
            mapped("e.csv", b"SR Number,Created\n", MAPPING.encode().replace(b"SR", b"S\x00R")),
        ),
        (
            "2,000-row CSV, one Latin-1 byte",
            Bound(0, cpu_seconds=2.0),
            mapped("e.csv", csv_with_one_latin1_byte(2000), MAPPING.encode()),
        ),
        ("empty .jsonl", REFUSED, records("empty.jsonl", b"")),
        ("blank .jsonl.gz", REFUSED, records("blank.jsonl.gz", gzip.compress(b"\n\n"))),
        ("record line with NaN", Bound(0), records("nan.jsonl", nan)),
        (
            "1,000 records, a check that never ends on one and one that sleeps on another "
            "(--rule-timeout 0.5)",
            Bound(0, cpu_seconds=3.0),
            endless("0.5"),
        ),
    ]


def nested(depth: int) -> str:
    return "a: " + "[" * depth + "]" * depth


def within(measured: Measured, bound: Bound) -> bool:
    return (
        measured.exit_code == bound.exit_code
        and measured.cpu_seconds <= bound.cpu_seconds
        and measured.peak_mb <= bound.peak_mb
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds before a case is killed"
    )
    arguments = parser.parse_args()
    print(
        "| input | exit (bound) | CPU s (bound) | peak MB (bound) | wall s | within | "
        "last line on stderr |"
    )
    print("|---|---|---|---|---|---|---|")
    failed = 0
    for name, bound, make in cases():
        with tempfile.TemporaryDirectory() as folder:
            args = make(Path(folder))
            measured = run_cli(args, arguments.timeout, Path(folder))
        said = measured.said.replace(folder, "…").replace("|", "\\|")[:90]
        ok = within(measured, bound)
        failed += not ok
        print(
            f"| {name} | {measured.exit_code} ({bound.exit_code}) | "
            f"{measured.cpu_seconds:.2f} (≤ {bound.cpu_seconds:g}) | "
            f"{measured.peak_mb:.0f} (≤ {bound.peak_mb:g}) | {measured.seconds:.2f} | "
            f"{'yes' if ok else '**NO**'} | {said} |",
            flush=True,
        )
    print(f"{failed} of {len(cases())} cases outside their bounds")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
