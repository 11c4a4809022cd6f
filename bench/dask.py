"""``rulecore audit --dask``: a local Dask cluster of 2 workers against ``--jobs 2`` and 1.

Writes ``--count`` interactions of the reference workload (``generate_anchor.py``, read
through ``bench/anchor/anchor.mapping.yaml`` against ``bench/anchor/anchor.yaml``) to a
temporary file, then runs, interleaved, ``--repeat`` times each, in fresh processes:

- ``rulecore audit FILE ... --jobs 1``
- ``rulecore audit FILE ... --jobs 2``
- ``rulecore audit FILE ... --dask local:2``: the command starts its own cluster of two
  worker processes, one thread each, and closes it at the end (start-up included)
- ``rulecore audit FILE ... --dask tcp://...``: the same on a cluster of two workers started
  once by this script (``dask scheduler`` and ``dask worker``), as on a real cluster

Every command writes every finding with its evidence (``--format jsonl``).  Prints the median
wall times, each path's speed against ``--jobs 2`` (the target: ``--dask local:2`` at least
0.8x), checks that every report is the same, byte for byte, and writes the figures to
``--output`` (``bench/results/dask.json``).

    .venv/bin/python bench/dask.py --count 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANCHOR = ROOT / "bench" / "anchor"
TARGET = 0.8


@contextmanager
def running_cluster(folder: Path, workers: int) -> Iterator[str]:
    """A scheduler and ``workers`` one-thread workers on 127.0.0.1, as separate processes."""
    bin_folder = Path(sys.executable).parent
    scheduler_file = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [
        subprocess.Popen(
            [
                *(str(bin_folder / "dask"), "scheduler", "--host", "127.0.0.1"),
                *("--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)),
            ],
            **quiet,
        )
    ]
    try:
        while not scheduler_file.exists():
            time.sleep(0.2)
        time.sleep(0.5)  # written, then filled
        address = json.loads(scheduler_file.read_text())["address"]
        processes += [
            subprocess.Popen(
                [
                    *(str(bin_folder / "dask"), "worker", address, "--nthreads", "1"),
                    *("--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"),
                ],
                **quiet,
            )
            for _ in range(workers)
        ]
        # This script's own folder comes first on the path, and its name is dask's.
        here = str(Path(__file__).resolve().parent)
        sys.path[:] = [entry for entry in sys.path if str(Path(entry).resolve()) != here]
        from distributed import Client

        with Client(address) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "dask.json")
    args = parser.parse_args()
    rulecore = Path(sys.executable).with_name("rulecore")
    with tempfile.TemporaryDirectory(prefix="rulecore-dask-") as scratch:
        folder = Path(scratch)
        records = folder / "anchor.jsonl"
        subprocess.run(
            [
                *(sys.executable, str(ROOT / "bench" / "generate_anchor.py")),
                *("--count", str(args.count), "--seed", str(args.seed), "-o", str(records)),
            ],
            check=True,
        )
        load_before = os.getloadavg()
        with running_cluster(folder, 2) as address:
            paths = {
                "--jobs 1": ["--jobs", "1"],
                "--jobs 2": ["--jobs", "2"],
                "--dask local:2": ["--dask", "local:2"],
                "--dask on a running cluster of 2": ["--dask", address],
            }
            times: dict[str, list[float]] = {name: [] for name in paths}
            for round_ in range(args.repeat):
                for number, (name, how) in enumerate(paths.items()):
                    report = folder / f"report-{number}.jsonl"
                    command = [str(rulecore), "audit", str(records)]
                    command += ["--mapping", str(ANCHOR / "anchor.mapping.yaml")]
                    command += ["-s", str(ANCHOR / "anchor.yaml"), "--format", "jsonl"]
                    command += ["-o", str(report), "--fail-on", "never", *how]
                    started = time.perf_counter()
                    subprocess.run(command, check=True)
                    times[name].append(time.perf_counter() - started)
                    print(f"round {round_ + 1}, {name}: {times[name][-1]:.1f} s", file=sys.stderr)
            same = all(
                filecmp.cmp(folder / "report-0.jsonl", folder / f"report-{n}.jsonl", shallow=False)
                for n in range(1, len(paths))
            )
        load_after = os.getloadavg()
    medians = {name: statistics.median(measured) for name, measured in times.items()}
    two = medians["--jobs 2"]
    print(f"{args.count} interactions of the reference workload, median of {args.repeat}")
    print("| path | median s | records/s | × --jobs 2 speed |")
    print("|---|---:|---:|---:|")
    for name, median in medians.items():
        speed = f"{args.count / median:,.0f} | {two / median:.2f}"
        print(f"| rulecore `{name}` | {median:.1f} | {speed} |")
    ratio = two / medians["--dask local:2"]
    print(f"--dask local:2 at {ratio:.2f}× the speed of --jobs 2 (target ≥ {TARGET}×)")
    print(f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"reports byte-identical: {'yes' if same else 'NO'}")
    args.output.write_text(
        json.dumps(
            {
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "commit": subprocess.run(
                    ["git", "rev-parse", "--short", "HEAD"],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout.strip(),
                "python": platform.python_version(),
                "count": args.count,
                "repeat": args.repeat,
                "load_average": {"before": load_before, "after": load_after},
                "runs_s": times,
                "median_s": medians,
                "dask_local_vs_jobs_2": ratio,
                "target": TARGET,
                "byte_identical": same,
            },
            indent=2,
        )
        + "\n"
    )
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
