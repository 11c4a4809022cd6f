"""What speaking Chinese costs an audit: ``rulecore --lang zh`` against ``--lang en``.

    .venv/bin/python bench/i18n.py --count 20000 --repeat 3
    .venv/bin/python bench/i18n.py --reference /tmp/rulecore-before   # a checkout to compare

Seeded records from ``bench/generate.py`` are written to a temporary JSON lines file (not
timed).  Each run is ``rulecore audit FILE -s standards --all-outcomes --format jsonl`` end to
end, in a fresh process, with every finding's message rendered and written to the null device,
so that every translated message is paid for.  The runs are interleaved (en, zh, reference, en,
zh, ...) so that a noisy machine slows all of them alike; each figure is the median of
``--repeat`` runs, and the ratios are taken within this one run.  Beside the wall time, the
child's CPU time (user + system) is reported: on a machine shared with other work it moves far
less than the wall time does.  ``--reference`` names another
rulecore tree (such as a checkout from before the catalogs), audited in English through
``PYTHONPATH`` with this interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from generate import generate  # noqa: E402


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(arguments: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """The wall time and the CPU time of one audit, in a fresh process."""
    cpu = _cpu_of_children()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rulecore", *arguments],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - started, _cpu_of_children() - cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference", type=Path, help="another rulecore tree, audited in English")
    options = parser.parse_args(argv)
    env = {key: value for key, value in os.environ.items() if key != "RULECORE_LANG"}
    with tempfile.TemporaryDirectory() as folder:
        records = Path(folder) / "records.jsonl"
        with records.open("w", encoding="utf-8") as stream:
            for record in generate(options.count, 7):
                stream.write(json.dumps(record) + "\n")
        audit = ["audit", str(records), "-s", "standards", "--all-outcomes", "--format", "jsonl"]
        audit += ["--fail-on", "never"]
        runs: dict[str, tuple[list[str], dict[str, str], Path]] = {
            "en": (["--lang", "en", *audit], env, ROOT),
            "zh": (["--lang", "zh", *audit], env, ROOT),
        }
        if options.reference is not None:
            tree = options.reference.resolve()
            path = os.pathsep.join((str(tree), str(tree / "plugins")))
            runs["reference"] = (audit, {**env, "PYTHONPATH": path}, tree)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for _round in range(options.repeat):
            for name, (arguments, run_env, cwd) in runs.items():
                times[name].append(_run(arguments, run_env, cwd))
    wall = {name: statistics.median(t[0] for t in values) for name, values in times.items()}
    cpu = {name: statistics.median(t[1] for t in values) for name, values in times.items()}
    print(f"{options.count} records, median of {options.repeat} interleaved runs")
    print("| run | wall s | wall against en | CPU s | CPU against en |")
    print("|-----|--------|-----------------|-------|----------------|")
    for name in runs:
        print(
            f"| {name} | {wall[name]:.2f} | {wall[name] / wall['en']:.3f} "
            f"| {cpu[name]:.2f} | {cpu[name] / cpu['en']:.3f} |"
        )


if __name__ == "__main__":
    main()
