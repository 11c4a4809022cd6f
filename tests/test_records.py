"""Records: the fast decoder agrees with the published schema, and bad input is set aside.

The published JSON Schema (``rulecore/schemas/record.schema.json``) is the record format's
contract; :func:`rulecore.decode_record` (msgspec) is what actually reads records.  Both are
run on one table of records and must agree: a record is accepted by one iff by the other.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest

import rulecore._readers
from rulecore import (
    Item,
    Record,
    Rejection,
    collect,
    decode_record,
    get_plugin_manager,
    load_schema,
    record_from_mapping,
    record_to_builtins,
)
from rulecore._readers import iter_lines

AT = "2026-04-01T09:00:00+02:00"


def event(**fields: Any) -> dict[str, Any]:
    return {"at": AT, "type": "opened", **fields}


def at(stamp: str) -> dict[str, Any]:
    return {"id": "r", "events": [{"at": stamp, "type": "opened"}]}


VALID: list[tuple[str, Any]] = [
    ("only an id", {"id": "r"}),
    ("id of 512 characters", {"id": "é" * 512}),
    ("empty attributes and events", {"id": "r", "attributes": {}, "events": []}),
    (
        "every scalar attribute",
        {"id": "r", "attributes": {"s": "x", "i": 3, "f": 1.5, "b": True, "n": None}},
    ),
    ("event without actor or fields", {"id": "r", "events": [event()]}),
    (
        "event with nested fields",
        {"id": "r", "events": [event(actor="agent", fields={"a": [1, {"b": None}], "c": "d"})]},
    ),
    ("UTC as Z", at("2026-04-01T07:00:00Z")),
    ("lower-case t and z", at("2026-04-01t07:00:00z")),
    ("space between date and time", at("2026-04-01 07:00:00+00:00")),
    ("fractional seconds", at("2026-04-01T07:00:00.123456+00:00")),
    ("offset without a colon", at("2026-04-01T09:00:00+0200")),
    ("negative offset", at("2026-04-01T02:00:00-05:00")),
]

INVALID: list[tuple[str, Any]] = [
    ("missing id", {"attributes": {}}),
    ("empty id", {"id": ""}),
    ("id of 513 characters", {"id": "x" * 513}),
    ("numeric id", {"id": 7}),
    ("not an object", ["r"]),
    ("naive timestamp", at("2026-04-01T09:00:00")),
    ("date only", at("2026-04-01")),
    ("timestamp as a number", {"id": "r", "events": [{"at": 1775026800, "type": "opened"}]}),
    ("offset without minutes", at("2026-04-01T09:00:00+02")),
    ("unknown top-level key", {"id": "r", "customer": "c1"}),
    ("unknown event key", {"id": "r", "events": [event(who="agent")]}),
    ("list attribute", {"id": "r", "attributes": {"tags": ["a"]}}),
    ("mapping attribute", {"id": "r", "attributes": {"who": {"name": "x"}}}),
    ("attributes as a list", {"id": "r", "attributes": []}),
    ("events as a mapping", {"id": "r", "events": {"0": event()}}),
    ("events as text", {"id": "r", "events": "opened"}),
    ("events null", {"id": "r", "events": None}),
    ("event without at", {"id": "r", "events": [{"type": "opened"}]}),
    ("event without type", {"id": "r", "events": [{"at": AT}]}),
    ("empty event type", {"id": "r", "events": [event(type="")]}),
    ("empty actor", {"id": "r", "events": [event(actor="")]}),
    ("null actor", {"id": "r", "events": [event(actor=None)]}),
    ("fields as a list", {"id": "r", "events": [event(fields=[1])]}),
    ("reordered given as true", {"id": "r", "reordered": True}),
]


#: Invalid records the two still disagree on, each with the reason (a known bug).
# Cases where the schema and the decoder once disagreed, kept so they cannot drift apart again.
ONCE_DISAGREED: list[tuple[str, Any]] = [
    ("reordered given as false", {"id": "r", "reordered": False}),
    *(
        (name, at(stamp))
        for name, stamp in [
            ("time without seconds", "2026-04-01T09:00+02:00"),
            ("hour 24", "2026-04-01T24:00:00Z"),
            ("second 60", "2026-04-01T23:59:60Z"),
            ("offset of 24 hours", "2026-04-01T09:00:00+24:00"),
        ]
    ),
]


def _schema_accepts(data: Any) -> bool:
    # ``format`` is left as an annotation (the JSON Schema default) so that the answer does
    # not depend on which optional format checkers happen to be installed.
    return jsonschema.Draft202012Validator(load_schema("record")).is_valid(data)


def _decoder_accepts(line: str) -> bool:
    try:
        decode_record(line)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False
    return True


@pytest.mark.parametrize(("name", "data"), VALID)
def test_schema_and_decoder_both_accept(name: str, data: Any) -> None:
    line = json.dumps(data)
    assert (_schema_accepts(data), _decoder_accepts(line)) == (True, True)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        *INVALID,
        *(pytest.param(name, data) for name, data in ONCE_DISAGREED),
    ],
)
def test_schema_and_decoder_both_refuse(name: str, data: Any) -> None:
    line = json.dumps(data)
    assert (_schema_accepts(data), _decoder_accepts(line)) == (False, False)


def _mapping_accepts(data: Any) -> bool:
    try:
        record_from_mapping(data)
    except msgspec.ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    ("name", "data"),
    [
        pytest.param(
            name,
            data,
            marks=[],
        )
        for name, data in [*VALID, *INVALID]
    ],
)
def test_record_from_mapping_agrees_with_the_decoder(name: str, data: Any) -> None:
    """Fixtures build records from YAML through ``record_from_mapping``: same rules apply."""
    assert _mapping_accepts(data) == _decoder_accepts(json.dumps(data))


# ---------------------------------------------------------------------------------------------
# time order
# ---------------------------------------------------------------------------------------------


def test_out_of_order_events_are_sorted_and_marked() -> None:
    line = json.dumps(
        {
            "id": "r",
            "events": [
                {"at": "2026-04-01T09:05:00+02:00", "type": "message", "actor": "agent"},
                {"at": "2026-04-01T07:00:00Z", "type": "opened"},
                {"at": "2026-04-01T09:05:00+02:00", "type": "note"},
                {"at": "2026-04-01T06:59:00Z", "type": "created"},
            ],
        }
    )
    record = decode_record(line)
    assert record.reordered
    # 07:00Z and 09:00+02:00 are the same instant; equal times keep their input order.
    assert [e.type for e in record.events] == ["created", "opened", "message", "note"]
    assert "reordered" not in record_to_builtins(record)


def test_events_in_order_are_left_alone() -> None:
    line = json.dumps({"id": "r", "events": [event(), event(at="2026-04-01T09:00:00+02:00")]})
    record = decode_record(line)
    assert not record.reordered
    assert [e.type for e in record.events] == ["opened", "opened"]


def test_record_from_mapping_sorts_too() -> None:
    record = record_from_mapping(
        {"id": "r", "events": [event(at="2026-04-01T10:00:00Z"), event(type="created")]}
    )
    assert record.reordered
    assert [e.type for e in record.events] == ["created", "opened"]


# ---------------------------------------------------------------------------------------------
# reading files
# ---------------------------------------------------------------------------------------------


def read(path: Path) -> list[Item]:
    reader = collect(get_plugin_manager(entrypoints=False)).readers["jsonl"][1]
    return list(reader.read(path, {}))


GOOD = [json.dumps({"id": f"r{n}", "events": [event()]}) for n in range(3)]


@pytest.mark.parametrize("name", ["records.jsonl.gz", "records.jsonl"])
def test_gzip_input_is_read_by_its_magic_bytes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join([*GOOD, "{broken"]) + "\n")
    items = read(path)
    assert [item.id for item in items if isinstance(item, Record)] == ["r0", "r1", "r2"]
    [rejection] = [item for item in items if isinstance(item, Rejection)]
    assert (rejection.source, rejection.line) == (str(path), 4)


def test_rejections_carry_source_line_and_worded_reason(tmp_path: Path) -> None:
    lines = [
        GOOD[0],
        '{"id": "r", "events": [',
        "",
        json.dumps(at("2026-04-01T09:00:00")),
        json.dumps({"attributes": {}}),
        json.dumps({"id": "r", "events": [event(who="x")]}),
        json.dumps({"id": "r", "attributes": {"tags": ["a"]}}),
        GOOD[1],
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    items = read(path)

    assert [item.id for item in items if isinstance(item, Record)] == ["r0", "r1"]
    rejections = [item for item in items if isinstance(item, Rejection)]
    assert [(r.source, r.line) for r in rejections] == [(str(path), n) for n in (2, 4, 5, 6, 7)]
    assert [r.raw for r in rejections] == [lines[n - 1] for n in (2, 4, 5, 6, 7)]
    reasons = [r.reason for r in rejections]
    assert reasons[0].startswith("not valid JSON: ")
    assert reasons[1].startswith("not a valid record: at $.events[0].at: ")
    assert reasons[2] == "not a valid record: at $: 'id' is a required property"
    assert reasons[3].startswith("not a valid record: at $.events[0]: ")
    assert "'who'" in reasons[3]
    assert reasons[4].startswith("not a valid record: at $.attributes.tags: ")


def test_a_line_nested_too_deeply_is_rejected_not_fatal(tmp_path: Path) -> None:
    deep = '{"id": "deep", "attributes": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join([deep, GOOD[0]]) + "\n", encoding="utf-8")

    items = read(path)

    assert [item.id for item in items if isinstance(item, Record)] == ["r0"]
    [rejection] = [item for item in items if isinstance(item, Rejection)]
    assert (rejection.line, rejection.reason) == (
        1,
        "not a valid record: its JSON is nested too deeply to read",
    )


def test_naive_timestamp_reason_is_in_plain_words(tmp_path: Path) -> None:
    path = tmp_path / "naive.jsonl"
    path.write_text(json.dumps(at("2026-04-01T09:00:00")) + "\n", encoding="utf-8")
    [rejection] = read(path)
    assert isinstance(rejection, Rejection)
    assert "offset" in rejection.reason
    assert "\\d" not in rejection.reason


class ReadSizes(io.BytesIO):
    """A stream that remembers the most bytes any one read asked for and returned."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.largest_request = 0
        self.largest_read = 0

    def readline(self, size: int | None = -1) -> bytes:
        assert size is not None
        assert size > 0, "an unbounded readline would hold a whole hostile line"
        self.largest_request = max(self.largest_request, size)
        line = super().readline(size)
        self.largest_read = max(self.largest_read, len(line))
        return line


def test_over_long_line_is_skipped_in_bounded_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rulecore._readers, "MAX_LINE_BYTES", 64)
    stream = ReadSizes(b'{"id": "a"}\n' + b"x" * 10_000 + b"\n" + b'{"id": "c"}\n' + b"y" * 65)
    lines = list(iter_lines(stream))
    assert lines == [(1, b'{"id": "a"}\n'), (2, None), (3, b'{"id": "c"}\n'), (4, None)]
    assert stream.largest_request <= 65
    assert stream.largest_read <= 65


def test_line_at_the_limit_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rulecore._readers, "MAX_LINE_BYTES", 16)
    exact = b"z" * 16
    lines = list(iter_lines(io.BytesIO(exact + b"\n" + exact)))
    assert lines == [(1, exact + b"\n"), (2, exact)]


def test_over_long_line_becomes_a_rejection_and_reading_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rulecore._readers, "MAX_LINE_BYTES", 256)
    huge = json.dumps({"id": "huge", "attributes": {"note": "n" * 5000}})
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join([GOOD[0], huge, GOOD[1]]) + "\n", encoding="utf-8")

    items = read(path)

    assert [type(item).__name__ for item in items] == ["Record", "Rejection", "Record"]
    rejection = items[1]
    assert isinstance(rejection, Rejection)
    assert rejection.line == 2
    assert "longer than" in rejection.reason
    assert len(rejection.raw) < len(huge)


def test_canonical_form_round_trips() -> None:
    original = {
        "id": "r",
        "attributes": {"channel": "chat", "n": 2},
        "events": [{"at": "2026-04-01T07:00:00Z", "type": "opened", "actor": "customer"}],
    }
    record = decode_record(json.dumps(original))
    canonical = record_to_builtins(record)
    assert canonical["events"][0]["fields"] == {}
    assert decode_record(json.dumps(canonical)) == record


def test_a_duplicate_record_id_is_rejected_with_the_first_kept(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from rulecore.cli import main

    line = json.dumps({"id": "T-1", "events": [{"at": "2026-01-01T09:00:00Z", "type": "opened"}]})
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(line + "\n" + line + "\n")
    second.write_text(line + "\n")
    rejects = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "audit",
            str(first),
            str(second),
            "-s",
            str(Path(__file__).resolve().parent.parent / "standards" / "flow-handoffs.yaml"),
            "--format",
            "json",
            "--rejects",
            str(rejects),
            "--fail-on",
            "never",
        ],
    )
    summary = json.loads(result.stdout)["summary"]["records"]
    assert summary == {"read": 3, "evaluated": 1, "rejected": 2}
    rejected = [json.loads(row) for row in rejects.read_text().splitlines()]
    assert "read earlier in this file" in rejected[0]["reason"]
    assert f"read in {first}" in rejected[1]["reason"]
    assert json.loads(rejected[1]["raw"])["id"] == "T-1"
