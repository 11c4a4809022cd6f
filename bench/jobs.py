"""``rulecore audit --jobs``: wall time with 1 and with N processes, and the same report.

Writes ``--count`` records from ``generate.py`` to a temporary file, then runs, interleaved,
``--repeat`` times each, ``rulecore audit FILE -s standards --format jsonl -o OUT`` with
``--jobs 1`` and with each ``--jobs`` asked for, in fresh processes. Prints the median wall
times, the speed-up, and checks that every report is the same, byte for byte.

    .venv/bin/python bench/jobs.py --count 100000 --jobs 2 --repeat 3
"""

from __future__ import annotations

import argparse
import filecmp
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, nargs="+", default=[2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--standards", default=str(ROOT / "standards"))
    args = parser.parse_args()
    rulecore = Path(sys.executable).with_name("rulecore")
    with tempfile.TemporaryDirectory(prefix="rulecore-jobs-") as scratch:
        folder = Path(scratch)
        records = folder / "records.jsonl"
        with records.open("w") as out:
            subprocess.run(
                [
                    *(sys.executable, str(ROOT / "bench" / "generate.py")),
                    *("--count", str(args.count), "--seed", str(args.seed)),
                ],
                stdout=out,
                check=True,
            )
        times: dict[int, list[float]] = {jobs: [] for jobs in [1, *args.jobs]}
        for round_ in range(args.repeat):
            for jobs, measured in times.items():
                report = folder / f"report-{jobs}.jsonl"
                command = [str(rulecore), "audit", str(records), "-s", args.standards]
                command += ["--format", "jsonl", "-o", str(report), "--fail-on", "never"]
                started = time.perf_counter()
                subprocess.run([*command, "--jobs", str(jobs)], check=True)
                measured.append(time.perf_counter() - started)
                print(f"round {round_ + 1}, --jobs {jobs}: {measured[-1]:.1f} s", file=sys.stderr)
        same = all(
            filecmp.cmp(folder / "report-1.jsonl", folder / f"report-{jobs}.jsonl", shallow=False)
            for jobs in args.jobs
        )
    one = statistics.median(times[1])
    print(f"{args.count} records, median of {args.repeat}, interleaved")
    print("| --jobs | wall s | speed-up |")
    print("|---:|---:|---:|")
    for jobs, measured in times.items():
        median = statistics.median(measured)
        print(f"| {jobs} | {median:.1f} | {one / median:.2f}× |")
    print(f"reports byte-identical: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
