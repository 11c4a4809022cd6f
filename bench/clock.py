"""Time one business-hours measurement with pauses: the clock before B(t), and after.

    .venv/bin/python bench/clock.py --count 100000 --repeat 3

Seeded random spans (minutes to a week long, some across New Year) over a 9-to-5 weekday
schedule in New York (summer time changes) with US public holidays, each with 0-3 pauses that
may overlap or reach outside the span.  Three paths count the same spans:

``before``  ``measure(...).seconds`` from the clock as it was at ``d0ad16d`` (read from git),
            which walked the span's local days and built its segments every time
``measure`` today's ``measure(...).seconds``: same datetimes in, segments left unbuilt
``seconds`` ``clock_for(schedule).seconds(start, end, pauses)`` on epoch seconds: two
            bisections and one more per pause end

Every path must give the very same seconds for every span; the script stops if one does not.
Each path runs ``--repeat`` times, interleaved, after one untimed warm-up run (which builds
the caches each path keeps); the median is printed in microseconds per measurement.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

from rulecore.clock import clock_for, measure, parse_schedule

REPO = Path(__file__).resolve().parents[1]
BEFORE = "d0ad16d"  #: the commit whose clock is the reference
SCHEDULE = {
    "timezone": "America/New_York",
    "hours": {"mon-fri": "09:00-17:00"},
    "holidays": {"country": "US", "years": [2025, 2026, 2027]},
}
FIRST_START = datetime(2025, 1, 1, tzinfo=timezone.utc)
STARTS_WITHIN = timedelta(days=3 * 365 - 10)

Span = tuple[datetime, datetime, list[tuple[datetime, datetime]]]


def clock_before() -> ModuleType:
    """``rulecore/clock.py`` as it was at :data:`BEFORE`, imported as a module of its own."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE}:rulecore/clock.py"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "clock_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("clock_before", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["clock_before"] = module
    spec.loader.exec_module(module)
    return module


def random_spans(count: int, seed: int) -> list[Span]:
    rng = random.Random(seed)
    spans = []
    for _ in range(count):
        start = FIRST_START + timedelta(seconds=rng.randrange(int(STARTS_WITHIN.total_seconds())))
        end = start + timedelta(seconds=rng.randrange(60, 7 * 86400))
        length = (end - start).total_seconds()
        pauses = []
        for _ in range(rng.randrange(4)):
            paused_from = start + timedelta(seconds=rng.uniform(-0.2, 1.0) * length // 1)
            paused_until = paused_from + timedelta(seconds=rng.randrange(0, int(length // 2) + 1))
            pauses.append((paused_from, paused_until))
        spans.append((start, end, pauses))
    return spans


def epoch_spans(spans: Sequence[Span]) -> list[tuple[float, float, list[tuple[float, float]]]]:
    return [
        (start.timestamp(), end.timestamp(), [(a.timestamp(), b.timestamp()) for a, b in pauses])
        for start, end, pauses in spans
    ]


def timed(run: Callable[[], list[float]]) -> tuple[float, list[float]]:
    began = time.perf_counter()
    counted = run()
    return time.perf_counter() - began, counted


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)

    before = clock_before()
    old_schedule = before.parse_schedule("office", SCHEDULE)
    schedule = parse_schedule("office", SCHEDULE)
    spans = random_spans(args.count, args.seed)
    epochs = epoch_spans(spans)
    clock = clock_for(schedule)
    old_measure: Callable[..., Any] = before.measure

    paths: dict[str, Callable[[], list[float]]] = {
        "before": lambda: [old_measure(s, e, old_schedule, p).seconds for s, e, p in spans],
        "measure": lambda: [measure(s, e, schedule, p).seconds for s, e, p in spans],
        "seconds": lambda: [clock.seconds(s, e, p) for s, e, p in epochs],
    }
    results = {name: run() for name, run in paths.items()}  # warm-up, and the answers
    for name, counted in results.items():
        mismatches = [
            i for i, (a, b) in enumerate(zip(results["before"], counted, strict=True)) if a != b
        ]
        if mismatches:
            first = mismatches[0]
            print(
                f"{name}: {len(mismatches)} spans differ, first {spans[first]}: "
                f"{results['before'][first]} != {counted[first]}"
            )
            return 1
    times: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(args.repeat):
        for name, run in paths.items():
            times[name].append(timed(run)[0])

    paused = sum(1 for _, _, pauses in spans if pauses)
    print(
        f"{args.count} spans ({paused} with pauses), New York 09:00-17:00 mon-fri, "
        f"US holidays; median of {args.repeat}; every span counted the same by all paths"
    )
    print("| path | µs per measurement | × before |")
    print("|---|---:|---:|")
    reference = statistics.median(times["before"])
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"| {name} | {median / args.count * 1e6:.2f} | {reference / median:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
