"""How fast a mapped JSON-lines export is read: the parse floor, the general path, the fast path.

    .venv/bin/python bench/read_mapped.py --count 50000
    .venv/bin/python bench/read_mapped.py --export FILE.jsonl --mapping FILE.mapping.yaml

The export is the reference workload of issue 8 (one interaction per line, about twenty
top-level keys, 5 to 20 events in an array), written by a seeded generator.  Each measurement
runs interleaved with the others, three times; the median is reported in microseconds of this
process's CPU time per record (so that other work on a shared machine counts less).  Both paths
must give the same items.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
from rulecore_mapping import ReadCounts, load_mapping, read_export
from rulecore_mapping._build import ticket_items
from rulecore_mapping._sources import SourceTally, read_rows

MAPPING = """\
kind: mapping
shape: ticket
source: {format: jsonl}
case: {id: interaction_id}
attributes:
  priority: priority
  channel: channel
timeline:
  from: events
  at: ts
  type: type
  actor: actor
  fields: {agent_id: agent_id, queue: queue, body_len: {column: body_len, type: integer}}
"""
TYPES = (
    "assigned", "agent_response", "customer_message", "note", "transfer", "status_change",
    "escalation", "resolved",
)  # fmt: skip
START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


def interactions(count: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for number in range(count):
        at = START + timedelta(minutes=rng.randrange(60 * 24 * 60))
        events = []
        for seq in range(1, rng.randint(5, 20) + 1):
            events.append(
                {
                    "seq": seq,
                    "type": "created" if seq == 1 else rng.choice(TYPES),
                    "ts": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "actor": rng.choice(("agent", "customer", "system")),
                    "agent_id": f"a{rng.randrange(1, 40)}",
                    "queue": f"q{rng.randrange(1, 8)}",
                    "body_len": rng.randrange(2000),
                }
            )
            at += timedelta(seconds=rng.randrange(30, 8 * 3600))
        line: dict[str, Any] = {
            "interaction_id": f"I-{number:07d}",
            "priority": rng.choice(("low", "normal", "high", "urgent")),
            "channel": rng.choice(("email", "chat", "phone", "web")),
            "queue": f"q{rng.randrange(1, 8)}",
            "tier": rng.choice(("gold", "silver", "bronze")),
            "tags": rng.sample(["vip", "billing", "refund", "outage", "login"], 2),
        }
        for extra in range(14):
            line[f"extra_{extra}"] = rng.choice((f"value-{rng.randrange(100)}", extra, True, None))
        line["events"] = events
        yield line


def orjson_floor(export: Path, _mapping: Path) -> int:
    with export.open("rb") as lines:
        return sum(1 for line in lines if orjson.loads(line))


def general_items(export: Path, mapping_path: Path) -> Iterator[Any]:
    mapping = load_mapping(mapping_path)
    rows = read_rows(export, mapping, SourceTally())
    return ticket_items(rows, mapping, str(export), ReadCounts())


def general_path(export: Path, mapping_path: Path) -> int:
    # Items stream through an audit, one at a time: kept in a list, they would time the
    # garbage collector walking them all instead.
    return sum(1 for _item in general_items(export, mapping_path))


def fast_path(export: Path, mapping_path: Path) -> int:
    return sum(1 for _item in read_export(export, mapping_path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--export", type=Path, help="read this export instead of generating one")
    parser.add_argument("--mapping", type=Path, help="with --export: its ticket mapping")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        export, mapping = Path(folder, "export.jsonl"), Path(folder, "export.mapping.yaml")
        if options.export is not None:
            export, mapping = options.export, options.mapping
            with export.open("rb") as lines:
                options.count = sum(1 for _line in lines)
        else:
            mapping.write_text(MAPPING, encoding="utf-8")
            with export.open("w", encoding="utf-8") as out:
                for line in interactions(options.count, options.seed):
                    out.write(json.dumps(line, separators=(",", ":")) + "\n")
        assert list(general_items(export, mapping)) == list(read_export(export, mapping))
        runs: dict[str, Callable[[Path, Path], object]] = {
            "orjson floor": orjson_floor,
            "general path": general_path,
            "fast path": fast_path,
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(options.repeat):
            for name, run in runs.items():
                started = time.process_time()
                run(export, mapping)
                times[name].append(time.process_time() - started)
    floor = statistics.median(times["orjson floor"])
    print(f"{options.count} records, median of {options.repeat}")
    print("| path | µs per record | × orjson floor |\n|---|---:|---:|")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"| {name} | {median / options.count * 1e6:.1f} | {median / floor:.2f} |")


if __name__ == "__main__":
    main()
