"""What the Excel workbook costs next to the JSON report, on generated records.

For each size, the same records are audited with ``--format json`` and with ``--format xlsx``,
interleaved, each in a fresh process, ``--repeat`` times; the median wall time and the peak
memory (max RSS of the child) of each are printed as a markdown table, with their ratios.

    .venv/bin/python bench/xlsx.py --sizes 10000 50000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _generate(count: int, folder: Path) -> Path:
    path = folder / f"records-{count}.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "generate.py"),
                "--count",
                str(count),
                "--seed",
                "7",
            ],
            stdout=stream,
            check=True,
        )
    return path


_MEASURED = """
import resource, sys
from rulecore.cli import main
try:
    main(sys.argv[2:], prog_name="rulecore")
except SystemExit:
    pass
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def _run(records: Path, fmt: str, out: Path) -> tuple[float, float]:
    """Wall seconds and peak memory (max RSS, MiB) of one audit, in a fresh process."""
    peak_file = out.with_suffix(".rss")
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            _MEASURED,
            str(peak_file),
            "audit",
            str(records),
            "-s",
            str(ROOT / "standards"),
            "--format",
            fmt,
            "-o",
            str(out),
            "--fail-on",
            "never",
        ],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    return elapsed, int(peak_file.read_text()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    print("| records | json s | xlsx s | xlsx / json | json MiB | xlsx MiB | json MB | xlsx MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for size in options.sizes:
            records = _generate(size, folder)
            times: dict[str, list[float]] = {"json": [], "xlsx": []}
            peaks: dict[str, list[float]] = {"json": [], "xlsx": []}
            for _round in range(options.repeat):
                for fmt in ("json", "xlsx"):
                    elapsed, peak = _run(records, fmt, folder / f"out.{fmt}")
                    times[fmt].append(elapsed)
                    peaks[fmt].append(peak)
                    print(f"  {size} {fmt} {elapsed:.2f}s {peak:.0f} MiB", file=sys.stderr)
            json_s, xlsx_s = (statistics.median(times[f]) for f in ("json", "xlsx"))
            json_m, xlsx_m = (statistics.median(peaks[f]) for f in ("json", "xlsx"))
            json_b, xlsx_b = (os.path.getsize(folder / f"out.{f}") / 1e6 for f in ("json", "xlsx"))
            print(
                f"| {size} | {json_s:.2f} | {xlsx_s:.2f} | {xlsx_s / json_s:.2f} | "
                f"{json_m:.0f} | {xlsx_m:.0f} | {json_b:.1f} | {xlsx_b:.1f} |"
            )


if __name__ == "__main__":
    main()
