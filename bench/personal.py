"""Time the personal-side checks on transcripts, against a timeliness rule on the same chats.

    .venv/bin/python bench/personal.py --copies 200 --repeat 3

The chats of ``examples/transcripts/chats.jsonl`` (Chinese and English, some in traditional
characters and full-width forms) are copied ``--copies`` times with fresh ids and parsed once.
Two engines then evaluate every record, interleaved, ``--repeat`` times after one untimed
warm-up:

``reference`` ``standards/timeliness-first-reply.yaml``: three elapsed rules, the cheapest
              useful per-record work there is
``personal``  ``standards/personal-transcripts.yaml``: five rules over the message text

The median microseconds per record are printed for each, and the ratio personal/reference.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from rulecore import Engine, Record, record_from_mapping

REPO = Path(__file__).resolve().parents[1]


def records(copies: int) -> list[Record]:
    lines = (REPO / "examples" / "transcripts" / "chats.jsonl").read_text("utf-8").splitlines()
    chats = [json.loads(line) for line in lines]
    return [
        record_from_mapping({**chat, "id": f"{chat['id']}-{copy}"})
        for copy in range(copies)
        for chat in chats
    ]


def time_engine(engine: Engine, batch: list[Record]) -> float:
    started = time.perf_counter()
    for record in batch:
        engine.evaluate(record)
    return (time.perf_counter() - started) / len(batch) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    batch = records(options.copies)
    engines = {
        "reference": Engine.from_paths([REPO / "standards" / "timeliness-first-reply.yaml"]),
        "personal": Engine.from_paths([REPO / "standards" / "personal-transcripts.yaml"]),
    }
    for engine in engines.values():
        time_engine(engine, batch[:200])
    runs: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(options.repeat):
        for name, engine in engines.items():
            runs[name].append(time_engine(engine, batch))
    medians = {name: statistics.median(times) for name, times in runs.items()}
    print(f"{len(batch)} records, median of {options.repeat}")
    for name, median in medians.items():
        print(f"  {name:<10} {median:8.1f} µs per record")
    print(f"  ratio personal/reference: {medians['personal'] / medians['reference']:.2f}")


if __name__ == "__main__":
    main()
