"""Measure how rulecore answers hostile and broken input: exit code, wall time, peak memory.

Each case of issue 11's table that concerns files (hostile YAML, undecodable CSV bytes, an empty
input, NaN in a record) is written to a temporary folder and run through the CLI in a fresh
process; its peak resident memory comes from that process's own rusage.  Prints a markdown table.

    .venv/bin/python bench/hostile.py
"""

from __future__ import annotations

import argparse
import gzip
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
    peak_mb: float
    said: str


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
print(process.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run_cli(args: list[str], timeout: float) -> Measured:
    """Run ``rulecore ARGS`` in a fresh process, through the launcher."""
    started = time.perf_counter()
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(timeout), sys.executable, "-m", "rulecore", *args],
        capture_output=True,
        cwd=ROOT,
        check=True,
    )
    seconds = time.perf_counter() - started
    exit_code, peak_kb = map(int, launched.stdout.split())
    said = launched.stderr.decode("utf-8", errors="replace").strip().splitlines()
    return Measured(exit_code, seconds, peak_kb / 1024, said[-1] if said else "")


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


Case = tuple[str, Callable[[Path], list[str]]]


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

    nan = b'{"id": "r1", "attributes": {"x": NaN}, "events": []}\n'
    return [
        ("standard 600 deep (validate)", validate("d600.yaml", "a: " + "[" * 600 + "]" * 600)),
        ("standard 10,000 deep (validate)", validate("d10k.yaml", "a: " + "[" * 10_000)),
        ("standard 10,000 deep (audit -s)", audit_deep),
        ("alias bomb 7 levels x 9", validate("bomb7.yaml", alias_bomb(7))),
        ("alias bomb 9 levels x 9", validate("bomb9.yaml", alias_bomb(9))),
        ("alias into itself", validate("cycle.yaml", "a: &a [*a]\n")),
        ("standard of 1,000 rules (accepted)", validate("r1000.yaml", standard_of(1000))),
        ("5 MB standard", validate("5mb.yaml", standard_of(12_500))),
        ("50 MB standard", validate("50mb.yaml", standard_of(125_000))),
        ("standard with a NUL", validate("nul.yaml", b"id: a\x00b\n")),
        ("standard with a control character", validate("bell.yaml", b"id: a\x07b\n")),
        (
            "mapping with a NUL",
            mapped("e.csv", b"SR Number,Created\n", MAPPING.encode().replace(b"SR", b"S\x00R")),
        ),
        (
            "2,000-row CSV, one Latin-1 byte",
            mapped("e.csv", csv_with_one_latin1_byte(2000), MAPPING.encode()),
        ),
        ("empty .jsonl", records("empty.jsonl", b"")),
        ("blank .jsonl.gz", records("blank.jsonl.gz", gzip.compress(b"\n\n"))),
        ("record line with NaN", records("nan.jsonl", nan)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds before a case is killed"
    )
    arguments = parser.parse_args()
    print("| input | exit | seconds | peak MB | last line on stderr |")
    print("|---|---|---|---|---|")
    for name, make in cases():
        with tempfile.TemporaryDirectory() as folder:
            args = make(Path(folder))
            measured = run_cli(args, arguments.timeout)
        said = measured.said.replace(folder, "…").replace("|", "\\|")[:110]
        print(
            f"| {name} | {measured.exit_code} | {measured.seconds:.2f} | "
            f"{measured.peak_mb:.0f} | {said} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
