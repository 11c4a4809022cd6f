"""rulecore side by side with DuckDB on the reference workload.

    .venv/bin/python bench/run_anchor.py --count 200000 --repeat 3

Writes ``--count`` interactions from ``bench/generate_anchor.py`` to a temporary JSON lines
file (not timed), then runs each path ``--repeat`` times, interleaved (every path once, then
every path again), each run in a fresh process:

``orjson``          the parse floor: ``orjson.loads`` on every line
``duckdb``          DuckDB with one thread: SQL over ``read_json`` with ``UNNEST`` of the
                    events, fail counts of R1-R5 (:data:`SQL`)
``rulecore``        ``rulecore audit FILE --mapping bench/anchor/anchor.mapping.yaml
                    -s bench/anchor/anchor.yaml --format jsonl -o /dev/null --fail-on never``,
                    with ``--jobs 1`` and ``--jobs 2`` when the CLI has ``--jobs``

Every figure is the wall time of the whole process, from spawn to exit, so interpreter start,
imports and compiling the standards count, as they do for a user.  Then, untimed, rulecore
audits the file once more with ``--format json`` and its fail counts per rule are held to
DuckDB's: the script exits 1 when they differ.  A markdown table goes to stdout and every
figure to ``--output`` (default ``bench/results/anchor.json``).

This process imports neither rulecore, DuckDB nor orjson, and generates the records in a
child: Linux carries a parent's peak memory into the ``ru_maxrss`` of the children it
launches, so a small parent keeps the CLI's peak its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MAPPING = BENCH / "anchor" / "anchor.mapping.yaml"
STANDARD = BENCH / "anchor" / "anchor.yaml"
#: The rules of bench/anchor/anchor.yaml, in the order SQL returns their fail counts.
RULES = (
    "r1-first-response",
    "r2-resolution",
    "r3-urgent-assignment",
    "r4-transfers",
    "r5-largest-gap",
)

#: R1-R5 in SQL, with the rules' exact semantics: "over" a bound fails and exactly at it
#: passes; the 'to' event is the first (R1, R3) or last (R2) one at or after the creation;
#: R1 fails when there is no agent_response at all; R2 and R3 judge only records with the
#: event; R5 is the largest gap between consecutive events in time order.
SQL = """
WITH ev AS (
  SELECT interaction_id, priority, e.type AS type, epoch(e.ts) AS t
  FROM (
    SELECT interaction_id, priority, unnest(events) AS e
    FROM read_json(?, format = 'newline_delimited', columns = {
      'interaction_id': 'VARCHAR',
      'priority': 'VARCHAR',
      'events': 'STRUCT("type" VARCHAR, ts TIMESTAMPTZ)[]'
    })
  )
),
timed AS (
  SELECT interaction_id, priority, type, t,
    min(t) FILTER (WHERE type = 'created') OVER (PARTITION BY interaction_id) AS created,
    t - lag(t) OVER (PARTITION BY interaction_id ORDER BY t) AS gap
  FROM ev
),
per AS (
  SELECT interaction_id,
    any_value(priority) AS priority,
    any_value(created) AS created,
    min(t) FILTER (WHERE type = 'agent_response' AND t >= created) AS responded,
    max(t) FILTER (WHERE type = 'resolved' AND t >= created) AS resolved,
    min(t) FILTER (WHERE type = 'assigned' AND t >= created) AS assigned,
    count(*) FILTER (WHERE type = 'transfer') AS transfers,
    max(gap) AS largest_gap
  FROM timed
  GROUP BY interaction_id
)
SELECT
  count(*) AS records,
  count(*) FILTER (WHERE created IS NOT NULL
                   AND (responded IS NULL OR responded - created > 4 * 3600)),
  count(*) FILTER (WHERE resolved - created > 48 * 3600),
  count(*) FILTER (WHERE priority IN ('high', 'urgent') AND assigned - created > 30 * 60),
  count(*) FILTER (WHERE transfers > 2),
  count(*) FILTER (WHERE largest_gap > 24 * 3600)
FROM per
"""


# --- the child side: one measurement, in its own process ------------------------------------


def peak_rss_kib() -> int:
    """This process's own peak resident set size (``VmHWM``), 0 where ``/proc`` is absent."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def duckdb_fail_counts(path: Path) -> dict[str, int]:
    """R1-R5 fail counts by DuckDB with one thread, and the number of records."""
    import duckdb  # only the child that measures DuckDB needs it

    connection = duckdb.connect()
    connection.execute("SET threads = 1")
    row = connection.execute(SQL, [str(path)]).fetchone()
    assert row is not None
    records, *fails = row
    return {
        "records": int(records),
        **{rule: int(count) for rule, count in zip(RULES, fails, strict=True)},
    }


def run_child(kind: str, path: Path) -> None:
    """Run one measurement and print what it found as one JSON line."""
    started = time.perf_counter()
    if kind == "orjson":
        import orjson  # only this child needs it

        loads = orjson.loads
        with path.open("rb") as lines:
            found: dict[str, Any] = {"records": sum(1 for line in lines if loads(line))}
    else:
        found = duckdb_fail_counts(path)
    seconds = time.perf_counter() - started
    print(json.dumps({**found, "seconds": seconds, "peak_rss_kib": peak_rss_kib()}))


# --- the parent side ------------------------------------------------------------------------


class Sample(NamedTuple):
    seconds: float  #: wall time of the whole process
    peak_rss_kib: int
    details: dict[str, Any]


def rulecore_program() -> list[str]:
    script = Path(sys.executable).with_name("rulecore")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rulecore"]


def has_jobs_option() -> bool:
    """Whether this rulecore's ``audit`` takes ``--jobs`` (it is being built)."""
    shown = subprocess.run(
        [*rulecore_program(), "audit", "--help"], capture_output=True, text=True, check=True
    )
    return "--jobs" in shown.stdout


def audit_command(path: Path, jobs: int | None, report: str = "jsonl") -> list[str]:
    output = os.devnull if report == "jsonl" else report
    command = [*rulecore_program(), "audit", str(path), "--mapping", str(MAPPING)]
    command += ["-s", str(STANDARD), "--format", "jsonl" if report == "jsonl" else "json"]
    command += ["-o", output, "--fail-on", "never"]
    return command + (["--jobs", str(jobs)] if jobs is not None else [])


def spawn(command: list[str], reports: bool) -> Sample:
    """Run ``command`` to completion: its wall time, its own peak memory, what it printed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=ROOT
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            message = err.read().decode("utf-8", "replace")
            raise SystemExit(f"{' '.join(command)} failed:\n{message}")
        out.seek(0)
        details = json.loads(out.read()) if reports else {}
    _still_a_device()
    return Sample(wall, details.get("peak_rss_kib") or usage.ru_maxrss, details)


def _still_a_device() -> None:
    # The CLI writes -o /dev/null straight to the device; a regression that renamed a
    # temporary file over it would break the machine for everyone, so stop at once.
    if not stat.S_ISCHR(os.stat(os.devnull).st_mode):
        raise SystemExit(f"{os.devnull} is no longer a device: the audit replaced it")


def child_command(kind: str, path: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--measure", kind, str(path)]


class Path_(NamedTuple):
    name: str
    command: list[str]
    reports: bool


def paths_to_run(path: Path, jobs: bool) -> list[Path_]:
    runs = [
        Path_("orjson parse floor", child_command("orjson", path), True),
        Path_("DuckDB, 1 thread", child_command("duckdb", path), True),
    ]
    if jobs:
        runs += [
            Path_("rulecore --jobs 1", audit_command(path, 1), False),
            Path_("rulecore --jobs 2", audit_command(path, 2), False),
        ]
    else:
        runs.append(Path_("rulecore", audit_command(path, None), False))
    return runs


def rulecore_fail_counts(path: Path, jobs: bool, folder: Path) -> dict[str, int]:
    """R1-R5 fail counts from rulecore's JSON report (an untimed run)."""
    report = folder / "anchor-report.json"
    spawn(audit_command(path, 1 if jobs else None, str(report)), reports=False)
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    fails = {rule["rule"]: rule["counts"]["fail"] for rule in summary["rules"]}
    return {"records": summary["records"]["evaluated"], **{rule: fails[rule] for rule in RULES}}


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def environment(count: int, seed: int, jobs: bool, load_before: Sequence[float]) -> dict[str, Any]:
    commit = _git("rev-parse", "--short", "HEAD")
    changed = _git("status", "--porcelain", "--", "rulecore", "plugins", "bench")
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(load, 2) for load in load_before],
        "load_average_after": [round(load, 2) for load in os.getloadavg()],
        "git_commit": commit or None,
        "uncommitted_changes": len(changed.splitlines()) if commit else None,
        "records": count,
        "seed": seed,
        "jobs_option": jobs,
    }


def summarise(runs: Sequence[Path_], samples: dict[str, list[Sample]], count: int) -> list[Any]:
    medians = {name: statistics.median(s.seconds for s in samples[name]) for name in samples}
    duckdb_s, floor_s = medians["DuckDB, 1 thread"], medians["orjson parse floor"]
    return [
        {
            "path": run.name,
            "median_s": round(medians[run.name], 3),
            "runs_s": [round(sample.seconds, 3) for sample in samples[run.name]],
            "records_per_s": round(count / medians[run.name]),
            "x_duckdb_speed": round(duckdb_s / medians[run.name], 3),
            "x_orjson_floor": round(medians[run.name] / floor_s, 2),
            "peak_rss_mib": round(max(s.peak_rss_kib for s in samples[run.name]) / 1024, 1),
            "in_process_s": [
                round(s.details["seconds"], 3) for s in samples[run.name] if "seconds" in s.details
            ],
        }
        for run in runs
    ]


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| path | median s | records/s | × DuckDB 1-thread speed | × orjson floor | peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {row['path']} | {row['median_s']:.2f} | {row['records_per_s']:,} | "
        f"{row['x_duckdb_speed']:.2f} | {row['x_orjson_floor']:.1f} | "
        f"{row['peak_rss_mib']:.0f} MiB |"
        for row in rows
    ]
    return "\n".join(lines)


def run_benchmark(args: argparse.Namespace) -> int:
    load_before = os.getloadavg()
    jobs = has_jobs_option()
    if not jobs:
        print("rulecore audit has no --jobs option yet: rulecore runs once, without it", flush=True)
    with tempfile.TemporaryDirectory(prefix="rulecore-anchor-") as folder:
        path = Path(folder) / "anchor.jsonl"
        generator = [sys.executable, str(BENCH / "generate_anchor.py")]
        subprocess.run(
            [*generator, "--count", str(args.count), "--seed", str(args.seed), "-o", str(path)],
            check=True,
        )
        runs = paths_to_run(path, jobs)
        samples: dict[str, list[Sample]] = {run.name: [] for run in runs}
        for repeat in range(args.repeat):
            for run in runs:
                sample = spawn(run.command, run.reports)
                samples[run.name].append(sample)
                print(
                    f"  {repeat + 1}/{args.repeat} {run.name}: {sample.seconds:.2f} s",
                    file=sys.stderr,
                )
        duckdb_counts = samples["DuckDB, 1 thread"][0].details
        expected = {key: duckdb_counts[key] for key in ("records", *RULES)}
        found = rulecore_fail_counts(path, jobs, Path(folder))
    rows = summarise(runs, samples, args.count)
    agree = found == expected
    result = {
        "environment": environment(args.count, args.seed, jobs, load_before),
        "command": " ".join(["bench/run_anchor.py", *sys.argv[1:]]),
        "results": rows,
        "fail_counts": {"duckdb": expected, "rulecore": found, "agree": agree},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    env = result["environment"]
    print(
        f"\n{args.count:,} records, median of {args.repeat}, {env['date']}, "
        f"commit {env['git_commit']}, load average {env['load_average_before'][0]} before, "
        f"{env['load_average_after'][0]} after\n"
    )
    print(markdown_table(rows))
    print("\nfail counts per rule (DuckDB = rulecore):" if agree else "\nFAIL COUNTS DIFFER:")
    for key in ("records", *RULES):
        print(f"  {key}: DuckDB {expected[key]}, rulecore {found[key]}")
    return 0 if agree else 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200_000, help="records (default 200000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path (default 3)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--output", type=Path, default=BENCH / "results" / "anchor.json")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure:
        run_child(args.measure[0], Path(args.measure[1]))
        return 0
    return run_benchmark(args)


if __name__ == "__main__":
    sys.exit(main())
