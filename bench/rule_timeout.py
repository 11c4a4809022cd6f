"""What ``rulecore audit --rule-timeout`` costs: the budget on (the default) against off.

Writes ``--count`` records from ``generate.py`` to a temporary file, then runs, interleaved,
``--repeat`` times each, ``rulecore audit FILE -s standards --format jsonl -o OUT`` with
``--rule-timeout 5`` and with ``--rule-timeout 0``, each in a fresh process.  Prints the median
wall and processor times (user + system, from the process's own rusage: on a shared machine
the steadier of the two), their ratios, and checks that the reports are the same, byte for
byte.

    .venv/bin/python bench/rule_timeout.py --count 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"on (5 s)": "5", "off (0)": "0"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="records to audit")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated records")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each setting")
    parser.add_argument("--jobs", default="1", help="--jobs for every run")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        records = folder / "records.jsonl"
        with records.open("w") as out:
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "generate.py"),
                    "--count",
                    str(options.count),
                    "--seed",
                    str(options.seed),
                ],
                stdout=out,
                check=True,
            )
        times: dict[str, list[float]] = {name: [] for name in SETTINGS}
        cpu: dict[str, list[float]] = {name: [] for name in SETTINGS}
        for run in range(options.repeat):
            for name, value in SETTINGS.items():
                report = folder / f"{value}-{run}.jsonl"
                started = time.perf_counter()
                process = subprocess.Popen(
                    [
                        *(sys.executable, "-m", "rulecore", "audit", str(records)),
                        *("-s", str(ROOT / "standards"), "--format", "jsonl", "-o", str(report)),
                        *("--fail-on", "never", "--rule-timeout", value, "--jobs", options.jobs),
                    ],
                    cwd=ROOT,
                    stderr=subprocess.DEVNULL,
                )
                _pid, status, usage = os.wait4(process.pid, 0)
                process.returncode = os.waitstatus_to_exitcode(status)
                if process.returncode:
                    raise SystemExit(f"rulecore audit exited {process.returncode}")
                times[name].append(time.perf_counter() - started)
                cpu[name].append(usage.ru_utime + usage.ru_stime)
        reports = sorted(folder.glob("*-*.jsonl"))
        same = all(filecmp.cmp(reports[0], other, shallow=False) for other in reports[1:])
    wall = {name: statistics.median(values) for name, values in times.items()}
    processor = {name: statistics.median(values) for name, values in cpu.items()}
    print(
        f"{options.count} records, shipped standards, --jobs {options.jobs}, "
        f"median of {options.repeat}, interleaved"
    )
    print("| --rule-timeout | wall s (median) | CPU s (median) | wall runs | CPU runs |")
    print("|---|---:|---:|---|---|")
    for name in SETTINGS:
        walls = ", ".join(f"{value:.2f}" for value in times[name])
        cpus = ", ".join(f"{value:.2f}" for value in cpu[name])
        print(f"| {name} | {wall[name]:.2f} | {processor[name]:.2f} | {walls} | {cpus} |")
    on, off = "on (5 s)", "off (0)"
    print(
        f"on / off: wall {wall[on] / wall[off]:.3f}, CPU {processor[on] / processor[off]:.3f}; "
        f"reports the same byte for byte: {'yes' if same else 'NO'}"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
