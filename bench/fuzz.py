"""Fuzz rulecore's edges for as long as there is time: many more examples than CI runs.

Runs the properties of ``tests/test_fuzz.py`` (audit of any records against any standard,
waivers, mappings with their exports) with the same strategies (``tests/strategies.py``), in
chunks, each chunk with its own seed (``--seed``, ``--seed + 1``, ...), printing progress and any
counterexample as it goes.  A failure does not stop the run: it is printed, shrunk, and the next
chunk starts.  At the end it prints the count, the seed and the date, for ``docs/robustness.md``.

    .venv/bin/python bench/fuzz.py --examples 100000 --seed 20261201
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from strategies import (  # noqa: E402
    audit_holds,
    baselines,
    map_holds,
    mapping_cases,
    records_text,
    standards,
    waivers,
    write_case,
)

FIRST_REPLY = (ROOT / "standards" / "timeliness-first-reply.yaml").read_text(encoding="utf-8")


def audit(records: str, standard: str, with_schedule: bool) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        write_case(Path(scratch), records, standard, with_schedule)
        audit_holds(Path(scratch), [])


def audit_with_waivers(records: str, waiver_text: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        write_case(folder, records, FIRST_REPLY, with_schedule=False)
        (folder / "waivers.yaml").write_text(waiver_text, encoding="utf-8")
        audit_holds(folder, ["--waivers", str(folder / "waivers.yaml")])


def audit_with_baseline(records: str, baseline: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        write_case(folder, records, FIRST_REPLY, with_schedule=False)
        (folder / "baseline.json").write_text(baseline, encoding="utf-8")
        audit_holds(folder, ["--baseline", str(folder / "baseline.json")])


def mapping(case: tuple[str, str, str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        map_holds(Path(scratch), *case)


PROPERTIES: dict[str, tuple[Callable[..., None], dict[str, st.SearchStrategy[object]]]] = {
    "audit": (
        audit,
        {"records": records_text(), "standard": standards(), "with_schedule": st.booleans()},
    ),
    "waivers": (audit_with_waivers, {"records": records_text(), "waiver_text": waivers()}),
    "mapping": (mapping, {"case": mapping_cases()}),
    "baseline": (audit_with_baseline, {"records": records_text(), "baseline": baselines()}),
}


CALLS = [0]


def counted(function: Callable[..., None]) -> Callable[..., None]:
    """``function``, counting its calls: the examples really run, shrinking included."""

    def run(**arguments: object) -> None:
        CALLS[0] += 1
        function(**arguments)

    return run


def run_chunk(name: str, examples: int, chunk_seed: int) -> str | None:
    """Run ``examples`` examples of one property; the failure, shrunk, or None."""
    function, strategies = PROPERTIES[name]
    function = counted(function)
    test = seed(chunk_seed)(
        settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(given(**strategies)(function))
    )
    try:
        test()
    except Exception:  # every failure is reported, and the run goes on
        return traceback.format_exc()
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000, help="examples in all")
    parser.add_argument("--chunk", type=int, default=500, help="examples per chunk")
    parser.add_argument("--seed", type=int, default=20261201, help="seed of the first chunk")
    parser.add_argument("--minutes", type=float, default=None, help="stop after this long")
    parser.add_argument("--only", choices=sorted(PROPERTIES), action="append")
    options = parser.parse_args()
    names = options.only or list(PROPERTIES)
    started = time.monotonic()
    done, failures, chunk = 0, 0, 0
    while done < options.examples:
        if options.minutes and time.monotonic() - started > options.minutes * 60:
            break
        name = names[chunk % len(names)]
        size = min(options.chunk, options.examples - done)
        failure = run_chunk(name, size, options.seed + chunk)
        done = CALLS[0]
        chunk += 1
        if failure:
            failures += 1
            print(f"FAILURE in {name}, seed {options.seed + chunk - 1}:\n{failure}", flush=True)
        minutes = (time.monotonic() - started) / 60
        print(f"{done} examples, {failures} failures, {minutes:.1f} min ({name})", flush=True)
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    print(
        f"done: {done} examples, seeds {options.seed}..{options.seed + chunk - 1}, {today}, "
        f"{failures} failing chunks"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
