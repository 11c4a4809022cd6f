"""The compiled reader of JSON-lines ticket exports gives what the general path gives.

Each test reads one export twice: through ``read_export`` (which takes the compiled reader
wherever it can) and through the general path alone, and holds every item (records and
rejections, compared by ``repr``, so that types, offsets and order count) and every count equal.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import random
import textwrap
from pathlib import Path
from typing import Any

import pytest
from rulecore_mapping import Mapping, ReadCounts, load_mapping, read_export
from rulecore_mapping._build import ticket_items
from rulecore_mapping._fast import compile_fast
from rulecore_mapping._sources import SourceTally, read_rows

from rulecore import Record

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

REFERENCE = """
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

MARKERS = REFERENCE.replace(
    "source: {format: jsonl}",
    'source: {format: jsonl, missing: ["", "n/a", note, "2026-03-02T09:15:00.5Z", "7"]}\n'
    '    timestamps: {timezone: Europe/Rome, earliest: "2026-03-02"}',
)

DEFAULTS = REFERENCE.replace(
    "priority: priority", "priority: {column: priority, required: true}"
).replace("actor: actor", "actor: {column: actor, default: robot}")
FIELD_DEFAULT = DEFAULTS.replace("queue: queue,", "queue: {column: queue, default: q0},")

EVERYTHING = """
    kind: mapping
    shape: ticket
    source: {format: jsonl, missing: ["", "n/a"]}
    timestamps: {timezone: Europe/Rome, latest: "2030-01-01"}
    case: {id: interaction_id}
    attributes:
      priority: {column: priority, map: {P1: urgent}, default: normal}
      tags: tags
      score: {column: score, type: number}
      vip: {column: vip, type: boolean}
    events:
      - {type: opened, at: opened_at}
    timeline:
      from: events
      at: ts
      type: {column: type, map: {reply: agent_response}}
      actor: {column: actor, default: system}
      fields:
        agent_id: agent_id
        queue: {column: queue, missing: ["-"]}
        body_len: {column: body_len, type: integer}
        due: {column: due, type: timestamp}
      on_event_error: {on_event_error}
    not_before: {resolved: created}
"""

OTHER_FORMATS = """
    kind: mapping
    shape: ticket
    source: {format: jsonl}
    timestamps: {formats: ["%d/%m/%Y %H:%M", iso8601], timezone: America/New_York}
    case: {id: interaction_id}
    timeline: {from: events, at: ts, type: type, actor: {value: robot}, fields: {q: queue}}
"""

NO_TIMELINE = """
    kind: mapping
    shape: ticket
    source: {format: jsonl}
    case: {id: interaction_id}
    attributes: {priority: priority, events: events}
    events:
      - {type: opened, at: opened_at, required: true}
      - {type: closed, at: closed_at, actor: {column: actor}}
"""

TIMESTAMPS = [
    "2026-03-02T09:15:00Z",
    "2026-03-02T09:15:00+01:00",
    "2026-03-02T09:15:00-05:30",
    "2026-03-02T09:15:00+00:00",
    "2026-03-02T09:15:00.5Z",
    "2026-03-02T09:15:00.123456Z",
    "2026-03-02T09:15:00.1234567Z",
    "2026-03-02T09:15:00",
    "2026-03-29T02:30:00",
    "2026-10-25T02:30:00",
    "2026-03-02 09:15",
    "2026-03-02",
    " 2026-03-02T09:15:00Z ",
    "2026-03-02t09:15:00z",
    "2026-03-02T09:15:00\u00a0",
    "2024-02-30T09:15:00Z",
    "2026-03-02T24:00:00Z",
    "1900-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2031-01-01T00:00:00Z",
    "1970-12-31T23:30:00Z",
    "1971-01-01T00:30:00+01:00",
    "02/03/2026 09:15",
    "yesterday",
    "",
    "n/a",
    "   ",
]
TEXTS = [
    "note",
    "  note ",
    "",
    "n/a",
    "-",
    "reply",
    "caf\u00e9",
    "\u00a0a7\u00a0",
    "x" * 129,
    "x" * 128,
]
ODD = [None, 7, 7.5, 12.0, True, False, [], ["a"], {"a": 1}, -1, 10**30]
TYPES = ["created", "assigned", "agent_response", "note", "transfer", "resolved", "reply"]


def _value(rng: random.Random, usual: Any, hostile: list[Any]) -> Any:
    return usual if rng.random() < 0.85 else rng.choice(hostile)


def _element(rng: random.Random, at: str) -> Any:
    if rng.random() < 0.03:
        return rng.choice(["created", 3, None, [], ["ts"]])
    element: dict[str, Any] = {
        "seq": rng.randrange(30),
        "type": _value(rng, rng.choice(TYPES), TEXTS + ODD),
        "ts": _value(rng, at, TIMESTAMPS + ODD),
        "actor": _value(rng, rng.choice(["agent", "customer", "system"]), TEXTS + ODD),
        "agent_id": _value(rng, f"a{rng.randrange(40)}", TEXTS + ODD),
        "queue": _value(rng, f"q{rng.randrange(8)}", TEXTS + ODD),
        "body_len": _value(rng, rng.randrange(2000), [*ODD, "12", " 12 ", "long", ""]),
        "due": _value(rng, at, [None, None, *TIMESTAMPS]),
    }
    for key in list(element):
        if rng.random() < 0.04:
            del element[key]
    return element


def _interaction(rng: random.Random, number: int) -> dict[str, Any]:
    minute = rng.randrange(50)
    events = [
        _element(rng, f"2026-03-02T{rng.choice([9, 10, 11]):02d}:{minute + step:02d}:00Z")
        for step in range(rng.choice([0, 1, 5, 12]))
    ]
    line: dict[str, Any] = {
        "interaction_id": _value(rng, f"I-{number % 700}", [None, 5, "", "n/a", "x" * 600, []]),
        "priority": _value(rng, rng.choice(["low", "high", "P1"]), TEXTS + ODD),
        "channel": "email",
        "tags": rng.choice([["vip"], [], None, "vip"]),
        "score": _value(rng, 1.5, ["2", "x", None, True]),
        "vip": _value(rng, "yes", ["no", "maybe", None, 1]),
        "opened_at": _value(rng, "2026-03-02T08:00:00Z", TIMESTAMPS),
        "closed_at": _value(rng, None, TIMESTAMPS),
        "actor": _value(rng, "agent", TEXTS + ODD),
        "extra": rng.choice(["value", 3, None, {"nested": [1, 2]}]),
        "events": _value(rng, events, [None, "created", {"ts": "x"}, 3, []]),
    }
    for key in list(line):
        if rng.random() < 0.03:
            del line[key]
    return line


def _line(rng: random.Random, number: int) -> bytes:
    text = json.dumps(_interaction(rng, number), ensure_ascii=rng.random() < 0.5).encode()
    damage = rng.random()
    if damage < 0.02:
        return text[: rng.randrange(len(text))]
    if damage < 0.03:
        return text[:-1] + b', "extra": "\xff\xfe"}'
    if damage < 0.04:
        return text[:-1] + rng.choice([b', "x": 1e400}', b', "x": 1E+0400}', b', "x": 1e-400}'])
    if damage < 0.045:
        return text[:-1] + b', "x": ' + b"9" * rng.choice([250, 400, 5000]) + b"}"
    if damage < 0.05:
        return text[:-1] + b', "events": []}'
    if damage < 0.055:
        return text[:-1] + b', "interaction_id": "again"}'
    if damage < 0.058:
        return text[:-1] + b', "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    if damage < 0.06:
        return rng.choice([b"[1, 2]", b'"text"', b"3", b"null", b"  ", b"{}", b"\xef\xbb\xbf{}"])
    return text


def _export(folder: Path, seed: int, count: int) -> Path:
    rng = random.Random(seed)
    path = folder / "export.jsonl"
    lines = [_line(rng, number) for number in range(count)]
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n\n")
    return path


def _mapping(folder: Path, text: str, on_event_error: str = "reject_record") -> Mapping:
    path = folder / "export.mapping.yaml"
    path.write_text(
        textwrap.dedent(text).replace("{on_event_error}", on_event_error), encoding="utf-8"
    )
    return load_mapping(path)


def _both_paths(export: Path, mapping: Mapping) -> tuple[list[str], list[str], int]:
    fast = read_export(export, mapping)
    fast_items = [repr(item) for item in fast]
    counts, tally = ReadCounts(), SourceTally()
    general = [
        repr(item)
        for item in ticket_items(read_rows(export, mapping, tally), mapping, str(export), counts)
    ]
    counts.blank_lines = tally.blank_lines
    assert fast.counts.as_dict() == counts.as_dict()
    assert counts.reconciles
    return fast_items, general, sum(item.startswith("Record(") for item in general)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("text", "on_event_error"),
    [
        (REFERENCE, "reject_record"),
        (MARKERS, "drop_event"),
        (DEFAULTS, "reject_record"),
        (FIELD_DEFAULT, "drop_event"),
        (EVERYTHING, "reject_record"),
        (EVERYTHING, "drop_event"),
        (OTHER_FORMATS, "reject_record"),
        (NO_TIMELINE, "reject_record"),
    ],
)
def test_hostile_lines_read_alike_on_both_paths(
    tmp_path: Path, seed: int, text: str, on_event_error: str
) -> None:
    mapping = _mapping(tmp_path, text, on_event_error)
    assert compile_fast(mapping) is not None
    fast, general, records = _both_paths(_export(tmp_path, seed, 600), mapping)
    assert fast == general
    assert records > 0


def test_the_reference_workload_takes_the_fast_path(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, REFERENCE)
    read_line = compile_fast(mapping)
    assert read_line is not None
    line = {
        "interaction_id": "I-1",
        "priority": "high",
        "events": [
            {"seq": 2, "type": "note", "ts": "2026-03-02T10:00:00+01:00", "actor": "agent"},
            {"seq": 1, "type": "created", "ts": "2026-03-02T08:00:00Z", "body_len": 5},
        ],
    }
    record = read_line(json.dumps(line).encode())
    assert isinstance(record, Record)
    assert [event.type for event in record.events] == ["created", "note"]
    assert record.reordered
    assert (
        read_line(b'{"interaction_id": "I-1", "events": [{"ts": "1900-01-01", "type": "x"}]}')
        is None
    )


def test_a_line_nested_too_deeply_is_rejected_not_a_crash(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, REFERENCE)
    export = tmp_path / "export.jsonl"
    export.write_bytes(b'{"interaction_id": "I-1", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}\n")
    (rejection,) = read_export(export, mapping)
    assert rejection.reason.startswith("not valid JSON: maximum recursion depth exceeded")


def test_a_timeline_key_read_as_a_value_too_takes_the_general_path(tmp_path: Path) -> None:
    text = REFERENCE.replace("channel: channel", "channel: events")
    assert compile_fast(_mapping(tmp_path, text)) is None


def _as_jsonl(csv_path: Path, folder: Path) -> Path:
    with csv_path.open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    path = folder / (csv_path.stem + ".jsonl")
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "export", sorted(EXAMPLES.glob("nyc-311/*.csv")), ids=lambda path: path.name
)
def test_the_shipped_ticket_mapping_reads_alike_from_json_lines(
    tmp_path: Path, export: Path
) -> None:
    mapping = dataclasses.replace(
        load_mapping(EXAMPLES / "nyc-311" / "nyc-311.mapping.yaml"), format="jsonl"
    )
    fast, general, records = _both_paths(_as_jsonl(export, tmp_path), mapping)
    assert fast == general
    assert records > 100
