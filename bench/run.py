"""Benchmark rulecore's full audit against the cost of merely parsing the same records.

    .venv/bin/python bench/run.py --sizes 10000 100000 --repeat 3

For each size, seeded records from ``bench/generate.py`` are written to a temporary JSON lines
file (not timed).  Every measurement then runs ``--repeat`` times, each time in a fresh
subprocess, so that its peak memory is its own (see :func:`peak_rss_kib`) and no cache survives
from one repeat to the next:

``lines``         read the file line by line, nothing else (context: the I/O floor)
``orjson``        the parse floor: ``orjson.loads`` on every line
``msgspec``       the other parse floor: untyped ``msgspec.json.decode`` on every line
``reader``        rulecore's jsonl reader alone: typed, validated :class:`rulecore.Record` objects
``audit``         the full audit of the standards through the Python API, findings discarded
``audit+jsonl``   the same, with findings written by the jsonl writer to the null device
``cli``           ``rulecore audit FILE -s STANDARDS --format jsonl`` end to end, wall time,
                  interpreter start-up and standards compilation included

In-process measurements time only the loop over the records; compiling the standards is
timed separately (``setup_s``).  The figures are the median of the repeats; peak memory is the
largest of them.  A markdown table goes to stdout and every figure to ``--output`` as JSON.
At the largest size each standard is also audited alone (``--no-breakdown`` skips it), and
at ``--profile-size`` (the largest size by default) the audit runs once under cProfile and
its top functions are listed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NamedTuple

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
KINDS = ("lines", "orjson", "msgspec", "reader", "audit", "audit+jsonl", "cli")
#: The measurements the goal is judged on, against the orjson parse floor.
AUDITS = ("audit", "audit+jsonl", "cli")
#: The product goal: a full audit in at most twice the time of the orjson parse floor.
GOAL_RATIO = 2.0
TOP_FUNCTIONS = 15


class Sample(NamedTuple):
    """One measurement run in one fresh subprocess."""

    seconds: float  # the timed loop (in-process kinds) or the whole process (cli)
    wall_seconds: float  # the child process from spawn to exit
    max_rss_kib: int  # the child's peak resident set size
    details: dict[str, Any]  # what the child reported: counts, setup time


# --- the child side: one measurement, in this process ---------------------------------------


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        yield from stream


def measure_lines(path: Path, standards: Sequence[Path]) -> dict[str, Any]:
    started = time.perf_counter()
    count = sum(1 for _ in _lines(path))
    return {"seconds": time.perf_counter() - started, "items": count}


def measure_orjson(path: Path, standards: Sequence[Path]) -> dict[str, Any]:
    import orjson

    loads = orjson.loads
    started = time.perf_counter()
    count = sum(1 for line in _lines(path) if loads(line) is not None)
    return {"seconds": time.perf_counter() - started, "items": count}


def measure_msgspec(path: Path, standards: Sequence[Path]) -> dict[str, Any]:
    import msgspec

    decode = msgspec.json.decode
    started = time.perf_counter()
    count = sum(1 for line in _lines(path) if decode(line) is not None)
    return {"seconds": time.perf_counter() - started, "items": count}


def _jsonl_items(engine: Any, path: Path) -> Iterator[Any]:
    """The records of ``path`` as the CLI reads them: the registered jsonl reader."""
    from rulecore import read_inputs

    reader = engine.registry.readers["jsonl"][1]
    return read_inputs([(path, reader)])


def _compiled_engine(standards: Sequence[Path], only: str | None = None) -> tuple[Any, float]:
    """The compiled standards, or only the one whose id is ``only``; and how long it took."""
    import rulecore

    started = time.perf_counter()
    engine = rulecore.Engine.from_paths(standards)
    if only is not None:
        chosen = tuple(standard for standard in engine.standards if standard.id == only)
        if not chosen:
            raise SystemExit(f"no standard {only!r} in {', '.join(map(str, standards))}")
        engine = rulecore.Engine(chosen, engine.registry)
    return engine, time.perf_counter() - started


def measure_reader(path: Path, standards: Sequence[Path]) -> dict[str, Any]:
    import rulecore

    engine, setup = _compiled_engine(standards)
    started = time.perf_counter()
    records = sum(1 for item in _jsonl_items(engine, path) if isinstance(item, rulecore.Record))
    return {"seconds": time.perf_counter() - started, "items": records, "setup_s": setup}


class _CountingSink:
    """A report sink that keeps nothing: it only counts what it is handed."""

    def __init__(self) -> None:
        self.findings = 0
        self.rejections = 0

    def finding(self, finding: Any) -> None:
        self.findings += 1

    def rejection(self, rejection: Any) -> None:
        self.rejections += 1

    def close(self, summary: Any) -> None:
        pass


def _audit_details(
    summary: Any, seconds: float, setup: float, findings: int | None = None
) -> dict[str, Any]:
    details = {"seconds": seconds, "items": summary.evaluated, "rejected": summary.rejected}
    if findings is not None:  # only a counting sink knows
        details["findings"] = findings
    return {**details, "setup_s": setup}


def measure_audit(path: Path, standards: Sequence[Path], only: str | None = None) -> dict[str, Any]:
    engine, setup = _compiled_engine(standards, only)
    sink = _CountingSink()
    started = time.perf_counter()
    summary = engine.audit(_jsonl_items(engine, path), sink)
    return _audit_details(summary, time.perf_counter() - started, setup, sink.findings)


def measure_audit_jsonl(path: Path, standards: Sequence[Path]) -> dict[str, Any]:
    engine, setup = _compiled_engine(standards)
    writer = engine.registry.writers["jsonl"][1]
    with open(os.devnull, "w", encoding="utf-8") as null:
        started = time.perf_counter()
        sink = writer.open(null, {})
        summary = engine.audit(_jsonl_items(engine, path), sink)
        seconds = time.perf_counter() - started
    return _audit_details(summary, seconds, setup)


def measure_profile(path: Path, standards: Sequence[Path]) -> dict[str, Any]:
    """The audit+jsonl measurement under cProfile, with its top functions and files."""
    import cProfile
    import pstats

    engine, setup = _compiled_engine(standards)
    writer = engine.registry.writers["jsonl"][1]
    profiler = cProfile.Profile()
    with open(os.devnull, "w", encoding="utf-8") as null:
        started = time.perf_counter()
        profiler.enable()
        summary = engine.audit(_jsonl_items(engine, path), writer.open(null, {}))
        profiler.disable()
        seconds = time.perf_counter() - started
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    details = _audit_details(summary, seconds, setup)
    details["by_own_time"] = _top_functions(stats, own=True)
    details["by_cumulative_time"] = _top_functions(stats, own=False)
    details["own_time_by_file"] = _own_time_by_file(stats)
    return details


def _top_functions(stats: dict[Any, Any], own: bool) -> list[dict[str, Any]]:
    rows = [
        {
            "function": _function_name(key),
            "calls": calls,
            "own_s": round(own_time, 3),
            "cumulative_s": round(cumulative, 3),
        }
        for key, (_primitive, calls, own_time, cumulative, _callers) in stats.items()
    ]
    rows.sort(key=lambda row: row["own_s" if own else "cumulative_s"], reverse=True)
    return rows[:TOP_FUNCTIONS]


def _own_time_by_file(stats: dict[Any, Any]) -> list[dict[str, Any]]:
    """Own time summed per source file: which module the time is spent in."""
    totals: dict[str, float] = {}
    for (filename, _line, _name), (_primitive, _calls, own_time, _cum, _callers) in stats.items():
        where = "(built-in functions)" if filename == "~" else _short_path(filename)
        totals[where] = totals.get(where, 0.0) + own_time
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    return [{"file": where, "own_s": round(own, 3)} for where, own in ranked[:TOP_FUNCTIONS]]


def _function_name(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":  # a built-in: pstats writes it as "{method 'x' of 'y' objects}"
        return name
    return f"{_short_path(filename)}:{line}({name})"


def _short_path(filename: str) -> str:
    here = Path(filename)
    if here.is_relative_to(ROOT):
        return str(here.relative_to(ROOT))
    return f"{here.parent.name}/{here.name}"


def describe_standards(path: Path, standards: Sequence[Path]) -> dict[str, Any]:
    """The ids of the standards and their rule count (run in a child, like the rest)."""
    engine, setup = _compiled_engine(standards)
    return {
        "seconds": setup,
        "ids": [standard.id for standard in engine.standards],
        "rules": sum(len(standard.rules) for standard in engine.standards),
    }


def peak_rss_kib() -> int | None:
    """This process's own peak resident set size since it started, from ``/proc`` (Linux).

    Not ``ru_maxrss``: Linux carries the launching process's peak across ``exec``, so a small
    child of a larger parent would report the parent's peak.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


MEASURES: dict[str, Callable[..., dict[str, Any]]] = {
    "lines": measure_lines,
    "orjson": measure_orjson,
    "msgspec": measure_msgspec,
    "reader": measure_reader,
    "audit": measure_audit,
    "audit+jsonl": measure_audit_jsonl,
    "profile": measure_profile,
    "standards": describe_standards,
}


def run_child(kind: str, path: Path, standards: Sequence[Path], only: str | None) -> None:
    """Run one in-process measurement and print its figures as one JSON line."""
    extra = {"only": only} if only is not None else {}
    details = MEASURES[kind](path, standards, **extra)
    print(json.dumps({**details, "peak_rss_kib": peak_rss_kib()}))


# --- the parent side: spawning, collecting, reporting ---------------------------------------


def cli_command(path: Path, standards: Sequence[Path]) -> list[str]:
    """The end-to-end audit command, report on stdout (which the caller sends to the null
    device).  Not ``-o /dev/null``: the CLI writes ``-o`` through a temporary file that it
    renames into place, which would replace the device with a regular file."""
    script = Path(sys.executable).with_name("rulecore")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "rulecore"]
    sources = [part for folder in standards for part in ("-s", str(folder))]
    return [*program, "audit", str(path), *sources, "--format", "jsonl", "--fail-on", "never"]


def child_command(
    kind: str, path: Path, standards: Sequence[Path], only: str | None = None
) -> list[str]:
    sources = [str(folder) for folder in standards]
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", kind, str(path)]
    return [*command, *sources, *(["--only", only] if only is not None else [])]


def spawn(command: list[str], reports: bool) -> Sample:
    """Run ``command`` to completion; return its timing, peak memory and JSON report.

    ``os.wait4`` gives this child's own resource usage, where ``RUSAGE_CHILDREN`` would give
    the largest of every child reaped so far.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out if reports else subprocess.DEVNULL,
            stderr=err,
            cwd=ROOT,
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            message = err.read().decode("utf-8", "replace")
            raise SystemExit(f"{' '.join(command)} exited {process.returncode}:\n{message}")
        out.seek(0)
        details = json.loads(out.read()) if reports else {}
    peak = details.get("peak_rss_kib") or usage.ru_maxrss
    return Sample(details.get("seconds", wall), wall, peak, details)


def measure(kind: str, path: Path, standards: Sequence[Path], only: str | None = None) -> Sample:
    if kind == "cli":
        return spawn(cli_command(path, standards), reports=False)
    return spawn(child_command(kind, path, standards, only), reports=True)


def generate_records(count: int, seed: int, folder: Path) -> Path:
    """Write ``count`` seeded records with bench/generate.py; return the file."""
    path = folder / f"records-{count}-{seed}.jsonl"
    command = [sys.executable, str(BENCH / "generate.py"), "--count", str(count)]
    with path.open("wb") as out:
        done = subprocess.run([*command, "--seed", str(seed)], stdout=out, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench/generate.py failed (exit {done.returncode}) for {count} records")
    return path


def summarise(kind: str, size: int, samples: Sequence[Sample]) -> dict[str, Any]:
    """Median time, throughput and peak memory of one measurement's repeats."""
    seconds = statistics.median(sample.seconds for sample in samples)
    first = samples[0].details
    items = first.get("items", size)
    if items != size:
        raise SystemExit(f"{kind} at {size}: handled {items} records, expected {size}")
    return {
        "kind": kind,
        "records": size,
        "median_s": round(seconds, 4),
        "runs_s": [round(sample.seconds, 4) for sample in samples],
        "records_per_s": round(size / seconds),
        "peak_rss_mib": round(max(sample.max_rss_kib for sample in samples) / 1024, 1),
        **{key: first[key] for key in ("findings", "rejected") if key in first},
        **(
            {"setup_s": round(statistics.median(s.details["setup_s"] for s in samples), 4)}
            if "setup_s" in first
            else {}
        ),
    }


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Set each row's time as a multiple of the orjson parse floor at the same size."""
    floors = {row["records"]: row["median_s"] for row in rows if row["kind"] == "orjson"}
    for row in rows:
        floor = floors.get(row["records"])
        if floor:
            row["x_orjson_floor"] = round(row["median_s"] / floor, 2)


def breakdown(
    path: Path, size: int, standards: Sequence[Path], repeat: int, rows: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each standard audited alone: its time less the reader's, and its share of the whole.

    Measured without a profiler, so the shares are not distorted by per-call overhead.
    """
    medians = {row["kind"]: row["median_s"] for row in rows if row["records"] == size}
    reading = medians.get("reader", 0.0)
    whole = medians.get("audit", 0.0) - reading
    parts = []
    for identifier in measure("standards", path, standards).details["ids"]:
        samples = [measure("audit", path, standards, identifier) for _ in range(repeat)]
        seconds = statistics.median(sample.seconds for sample in samples)
        net = max(seconds - reading, 0.0)
        parts.append(
            {
                "standard": identifier,
                "records": size,
                "median_s": round(seconds, 4),
                "net_of_reader_s": round(net, 4),
                "us_per_record": round(net / size * 1e6, 2),
                "share_of_audit": round(net / whole, 3) if whole > 0 else None,
                "findings": samples[0].details["findings"],
                "peak_rss_mib": round(max(s.max_rss_kib for s in samples) / 1024, 1),
            }
        )
        print(f"  {size:>9,} only {identifier:<28} {seconds:.3f} s", file=sys.stderr)
    parts.sort(key=lambda part: part["net_of_reader_s"], reverse=True)
    return parts


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| records | measurement | median s | records/s | × orjson floor | peak RSS MiB |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['records']:,} | {row['kind']} | {row['median_s']:.3f} "
            f"| {row['records_per_s']:,} | {row.get('x_orjson_floor', '')} "
            f"| {row['peak_rss_mib']} |"
        )
    return "\n".join(lines)


def breakdown_table(parts: Sequence[dict[str, Any]]) -> str:
    lines = [
        f"Each standard audited alone ({parts[0]['records']:,} records, reader time taken off):",
        "",
        "| standard | s | µs/record | share of audit | findings | peak RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for part in parts:
        share = "" if part["share_of_audit"] is None else f"{part['share_of_audit']:.0%}"
        lines.append(
            f"| {part['standard']} | {part['net_of_reader_s']:.3f} | {part['us_per_record']} "
            f"| {share} | {part['findings']:,} | {part['peak_rss_mib']} |"
        )
    return "\n".join(lines)


def goal_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    verdicts = []
    for row in rows:
        if row["kind"] in AUDITS and "x_orjson_floor" in row:
            met = "met" if row["x_orjson_floor"] <= GOAL_RATIO else "not met"
            verdicts.append(
                f"- {row['kind']} at {row['records']:,} records: {row['x_orjson_floor']}× the "
                f"orjson parse floor (goal ≤ {GOAL_RATIO}×): {met}"
            )
    return verdicts


def profile_text(profile: dict[str, Any]) -> str:
    parts = [
        f"cProfile of audit+jsonl at {profile['records']:,} records "
        f"({profile['seconds']} s under the profiler):",
        "",
    ]
    for key, title in (("by_own_time", "own time"), ("by_cumulative_time", "cumulative time")):
        parts.append(f"Top {TOP_FUNCTIONS} functions by {title}:\n")
        parts.append("| function | calls | own s | cumulative s |\n| --- | ---: | ---: | ---: |")
        parts.extend(
            f"| `{row['function']}` | {row['calls']:,} | {row['own_s']} | {row['cumulative_s']} |"
            for row in profile[key]
        )
        parts.append("")
    parts.append("Own time by file:\n\n| file | own s |\n| --- | ---: |")
    parts.extend(f"| `{row['file']}` | {row['own_s']} |" for row in profile["own_time_by_file"])
    return "\n".join(parts)


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def environment(standards: Sequence[Path]) -> dict[str, Any]:
    """What the figures depend on: interpreter, machine, code version and standards.

    The standards are compiled in a child: this process stays small, because its size would
    show in the peak memory of the CLI runs it launches (see :func:`peak_rss_kib`).
    """
    described = measure("standards", Path(os.devnull), standards).details
    commit = _git("rev-parse", "--short", "HEAD")
    changed = _git("status", "--porcelain", "--", "rulecore", "plugins", "standards")
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "git_commit": commit or None,
        "uncommitted_changes": len(changed.splitlines()) if commit else None,
        "standards": len(described["ids"]),
        "rules": described["rules"],
        "versions": {name: _version(name) for name in ("rulecore", "orjson", "msgspec")},
    }


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _code_version(env: dict[str, Any]) -> str:
    if env["git_commit"] is None:
        return "an unknown commit (no git checkout)"
    return (
        f"{env['git_commit']} ({env['uncommitted_changes']} uncommitted changes in rulecore/, "
        "plugins/, standards/)"
    )


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    env = environment(args.standards)
    rows: list[dict[str, Any]] = []
    profile: dict[str, Any] | None = None
    parts: list[dict[str, Any]] = []
    largest = max(args.sizes)
    profile_size = args.profile_size or largest
    with tempfile.TemporaryDirectory(prefix="rulecore-bench-") as folder:
        for size in args.sizes:
            path = generate_records(size, args.seed, Path(folder))
            for kind in args.kinds:
                samples = [measure(kind, path, args.standards) for _ in range(args.repeat)]
                rows.append(summarise(kind, size, samples))
                print(f"  {size:>9,} {kind:<12} {rows[-1]['median_s']:.3f} s", file=sys.stderr)
            if args.breakdown and size == largest:
                parts = breakdown(path, size, args.standards, args.repeat, rows)
            if not args.no_profile and size == profile_size:
                sample = measure("profile", path, args.standards)
                profile = {"records": size, "seconds": round(sample.seconds, 3)}
                keys = ("by_own_time", "by_cumulative_time", "own_time_by_file")
                profile |= {key: sample.details[key] for key in keys}
    add_ratios(rows)
    env["load_average_after"] = [round(load, 2) for load in os.getloadavg()]
    return {
        "environment": env,
        "seed": args.seed,
        "repeat": args.repeat,
        "standards_paths": [str(p) for p in args.standards],
        "goal": f"audit time ≤ {GOAL_RATIO}× the orjson parse floor",
        "results": rows,
        "per_standard": parts,
        "profile": profile,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000], help="record counts"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--seed", type=int, default=7, help="seed for bench/generate.py")
    parser.add_argument(
        "--standards",
        type=Path,
        nargs="+",
        default=[ROOT / "standards"],
        help="standard files or folders (default: the shipped standards/)",
    )
    parser.add_argument(
        "--kinds", nargs="+", choices=KINDS, default=list(KINDS), help="what to measure"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCH / "results" / "latest.json",
        help="where the JSON results go (default: bench/results/latest.json)",
    )
    parser.add_argument("--profile-size", type=int, help="profile at this size (default: largest)")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    parser.add_argument(
        "--breakdown",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="at the largest size, also audit each standard alone (default: on)",
    )
    parser.add_argument("--measure", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    parser.add_argument("--only", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure is not None:
        return args
    if args.repeat < 1 or any(size < 1 for size in args.sizes) or "orjson" not in args.kinds:
        parser.error("--repeat and --sizes must be positive, and --kinds must include orjson")
    if args.profile_size is not None and args.profile_size not in args.sizes:
        parser.error(f"--profile-size {args.profile_size} is not one of --sizes")
    if args.breakdown and not {"reader", "audit"} <= set(args.kinds):
        # The breakdown takes the reader's time off and compares with the whole audit.
        print("no per-standard breakdown: it needs the reader and audit kinds", file=sys.stderr)
        args.breakdown = False
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.measure is not None:  # a child: KIND FILE STANDARDS...
        kind, path, *standards = args.measure
        run_child(kind, Path(path), [Path(folder) for folder in standards], args.only)
        return
    results = run_benchmark(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    env = results["environment"]
    print(
        f"rulecore {env['versions']['rulecore']} at {_code_version(env)}, "
        f"{env['standards']} standards with {env['rules']} rules; Python {env['python']}, "
        f"{env['cpus']} CPUs, load average {env['load_average'][0]} before and "
        f"{env['load_average_after'][0]} after"
    )
    print()
    print(markdown_table(results["results"]))
    print()
    print("\n".join(goal_lines(results["results"])))
    if results["per_standard"]:
        print()
        print(breakdown_table(results["per_standard"]))
    if results["profile"]:
        print()
        print(profile_text(results["profile"]))
    print(f"written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
