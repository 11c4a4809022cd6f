"""The field-mapping reader: exports in, records out, nothing lost.

Each test writes a small export and mapping, reads them through ``rulecore_mapping`` and checks
the records, the rejections (with their lines and reasons) and the reconciliation counts.
"""

from __future__ import annotations

import gzip
import json
import random
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from rulecore_mapping import (
    REJECTED_EVENTS_ATTRIBUTE,
    REJECTED_ROWS_ATTRIBUTE,
    load_mapping,
    read_export,
)
from rulecore_mapping._timestamps import compile_formats

from rulecore import (
    Record,
    Rejection,
    StandardsInvalid,
    collect,
    get_plugin_manager,
)
from rulecore._inputs import plan_inputs, read_inputs
from rulecore.cli import main

UTC = timezone.utc


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def read_all(export: Path, mapping: Path) -> tuple[list[Record], list[Rejection], object]:
    read = read_export(export, mapping)
    items = list(read)
    records = [item for item in items if isinstance(item, Record)]
    rejections = [item for item in items if isinstance(item, Rejection)]
    return records, rejections, read.counts


TICKET_MAPPING = """
    kind: mapping
    shape: ticket
    timestamps:
      formats: ["%m/%d/%Y %I:%M:%S %p"]
      timezone: America/New_York
      earliest: "2000-01-01"
    case: {id: Key}
    attributes:
      agency: Agency
      channel: {column: Channel, map: {PHONE: phone, ONLINE: web}, default: unknown}
      votes: {column: Votes, type: integer}
    events:
      - {type: opened, at: Created, required: true, actor: {value: customer}}
      - {type: closed, at: Closed, actor: {column: Agency}}
    not_before: {closed: opened}
"""


# ---------------------------------------------------------------------------------------------
# timestamps
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        ("%d/%m/%Y %H:%M", "29/2/2016 01:16", datetime(2016, 2, 29, 1, 16, tzinfo=UTC)),
        ("%d/%m/%Y %H:%M", "5/3/2016 12:00", datetime(2016, 3, 5, 12, 0, tzinfo=UTC)),
        (
            "%m/%d/%Y %I:%M:%S %p",
            "03/01/2011 02:27:57 PM",
            datetime(2011, 3, 1, 14, 27, 57, tzinfo=UTC),
        ),
        ("%m/%d/%Y %I:%M:%S %p", "03/01/2011 12:05:00 AM", datetime(2011, 3, 1, 0, 5, tzinfo=UTC)),
        ("%m/%d/%Y %I:%M:%S %p", "03/01/2011 12:05:00 PM", datetime(2011, 3, 1, 12, 5, tzinfo=UTC)),
        (
            "%Y/%m/%d %H:%M:%S.%f",
            "2012/10/09 14:50:17.250",
            datetime(2012, 10, 9, 14, 50, 17, 250000, tzinfo=UTC),
        ),
        ("iso8601", "2016-02-29T01:16:00Z", datetime(2016, 2, 29, 1, 16, tzinfo=UTC)),
        (
            "iso8601",
            "2016-02-29T01:16:00+01:00",
            datetime(2016, 2, 29, 0, 16, tzinfo=UTC),
        ),
        ("epoch", "1456708560", datetime(2016, 2, 29, 1, 16, tzinfo=UTC)),
        ("epoch_ms", "1456708560000", datetime(2016, 2, 29, 1, 16, tzinfo=UTC)),
        ("%d %b %Y %H:%M %z", "29 Feb 2016 02:16 +0100", datetime(2016, 2, 29, 1, 16, tzinfo=UTC)),
    ],
)
def test_timestamp_formats_read_the_moment_written(fmt: str, text: str, expected: datetime) -> None:
    parse = compile_formats((fmt,), UTC)
    assert parse(text) == expected
    assert parse(text).utcoffset() is not None


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("%d/%m/%Y %H:%M", "30/2/2016 01:16"),  # no 30 February
        ("%d/%m/%Y %H:%M", "2016-02-29 01:16"),
        ("%m/%d/%Y %I:%M:%S %p", "03/01/2011 14:27:57 PM"),  # 14 on a 12-hour clock
        ("iso8601", "yesterday"),
    ],
)
def test_timestamps_that_are_not_real_are_refused(fmt: str, text: str) -> None:
    with pytest.raises(ValueError, match="not"):
        compile_formats((fmt,), UTC)(text)


def test_naive_timestamps_take_the_mapping_zone_across_daylight_saving() -> None:
    parse = compile_formats(("%m/%d/%Y %I:%M:%S %p",), ZoneInfo("America/New_York"))
    winter = parse("03/01/2011 02:27:57 PM")
    summer = parse("03/14/2011 03:59:20 PM")
    assert winter.utcoffset() == timedelta(hours=-5)
    assert summer.utcoffset() == timedelta(hours=-4)
    # 01:30 on the night clocks go back happens twice; the first (summer time) is taken.
    assert parse("11/06/2011 01:30:00 AM").utcoffset() == timedelta(hours=-4)


def test_several_formats_are_tried_in_order() -> None:
    parse = compile_formats(("%d/%m/%Y %H:%M", "iso8601"), UTC)
    assert parse("29/2/2016 01:16") == parse("2016-02-29T01:16:00Z")


# ---------------------------------------------------------------------------------------------
# mapping files: validation with locations
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "location", "words"),
    [
        (
            "kind: mapping\nshape: ticket\ncase: {id: Key}\nevents: [{type: opened, at: A}]\n"
            "atributes: {x: X}\n",
            ":5:1:",
            "did you mean 'attributes'",
        ),
        (
            "kind: mapping\nshape: tickets\ncase: {id: Key}\n",
            ":2:8:",
            "is not allowed here",
        ),
        (
            "kind: mapping\nshape: ticket\ncase: {id: Key}\nevents: [{type: opened, at: A}]\n"
            "timestamps: {timezone: Mars/Olympus}\n",
            ":5:24:",
            "not an IANA time zone",
        ),
        (
            "kind: mapping\nshape: ticket\ncase: {id: Key}\nevents: [{type: opened, at: A}]\n"
            "timestamps:\n  formats: ['%d/%m/%Y %Q']\n",
            ":6:13:",
            "%Q is not supported",
        ),
        (
            "kind: mapping\nshape: event_log\ncase: {id: Key}\n",
            ":2:8:",
            "needs 'activity'",
        ),
        (
            "kind: mapping\nshape: ticket\ncase: {id: Key}\n"
            "events: [{type: opened, at: A}]\nnot_before: {closed: opened}\n",
            ":5:14:",
            "no event of type 'closed' is mapped",
        ),
        (
            "kind: mapping\nshape: ticket\ncase: {id: Key}\nevents: [{type: opened, at: A}]\n"
            "attributes:\n  n: {column: N, type: integer, format: '%Y'}\n",
            ":6:",
            "'format' is for values of type timestamp",
        ),
        ("kind: mapping\nshape: ticket\ncase: {id: Key}\ncase: {id: Other}\n", ":4:1:", "twice"),
    ],
)
def test_a_bad_mapping_is_reported_at_file_line_column(
    tmp_path: Path, text: str, location: str, words: str
) -> None:
    path = tmp_path / "bad.mapping.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StandardsInvalid) as raised:
        load_mapping(path)
    message = str(raised.value)
    assert f"{path}{location}" in message
    assert words in message


def test_a_column_missing_from_the_export_is_reported_at_the_mapping_line(tmp_path: Path) -> None:
    mapping = write(tmp_path, "m.yaml", TICKET_MAPPING.replace("at: Closed,", "at: Closd,"))
    export = write(tmp_path, "e.csv", "Key,Agency,Channel,Votes,Created,Closed\n")
    with pytest.raises(StandardsInvalid) as raised:
        list(read_export(export, mapping))
    message = str(raised.value)
    assert f"{mapping}:14:" in message
    assert "column 'Closd' is not in the header" in message
    assert "did you mean 'Closed'?" in message


def test_a_column_named_twice_in_the_header_cannot_be_used(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "m.yaml",
        """
        kind: mapping
        shape: ticket
        case: {id: Key}
        attributes: {variant: Variant}
        events: [{type: opened, at: At}]
        """,
    )
    export = write(tmp_path, "e.csv", "Key,Variant,At,Variant\n1,a,2020-01-01T00:00:00Z,b\n")
    with pytest.raises(StandardsInvalid, match=r"appears more than once .* \(columns 2 and 4\)"):
        list(read_export(export, mapping))


def test_a_duplicated_header_name_the_mapping_does_not_use_is_harmless(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "m.yaml",
        """
        kind: mapping
        shape: ticket
        case: {id: Key}
        events: [{type: opened, at: At}]
        """,
    )
    export = write(tmp_path, "e.csv", "Key,Variant,At,Variant\n1,a,2020-01-01T00:00:00Z,b\n")
    records, rejections, _counts = read_all(export, mapping)
    assert [record.id for record in records] == ["1"]
    assert rejections == []


# ---------------------------------------------------------------------------------------------
# ticket exports
# ---------------------------------------------------------------------------------------------


def test_a_ticket_row_becomes_a_record_with_attributes_and_events(tmp_path: Path) -> None:
    mapping = write(tmp_path, "m.yaml", TICKET_MAPPING)
    export = write(
        tmp_path,
        "e.csv",
        """
        Key,Agency,Channel,Votes,Created,Closed
        101,DOT,PHONE,3,03/01/2011 10:41:13 AM,03/15/2011 04:14:19 PM
        102,DOF,FAX,,03/02/2011 09:00:00 AM,
        103,NYPD,,0,03/02/2011 11:00:00 PM,03/03/2011 01:00:00 AM
        """,
    )
    records, rejections, counts = read_all(export, mapping)
    assert rejections == []
    first, second, third = records
    assert first.id == "101"
    assert first.attributes == {"agency": "DOT", "channel": "phone", "votes": 3}
    assert [(event.type, event.actor) for event in first.events] == [
        ("opened", "customer"),
        ("closed", "DOT"),
    ]
    assert first.events[0].at == datetime(2011, 3, 1, 15, 41, 13, tzinfo=UTC)
    assert first.events[1].at.utcoffset() == timedelta(hours=-4)  # after the clocks went forward
    # A value the map does not list is kept; an empty closed date means no closed event.
    assert second.attributes == {"agency": "DOF", "channel": "FAX"}
    assert [event.type for event in second.events] == ["opened"]
    assert third.attributes["channel"] == "unknown"
    assert third.reordered is False
    assert counts.rows_read == 3
    assert counts.rows_used == 3
    assert counts.reconciles


def test_unreadable_ticket_rows_are_rejected_with_line_reason_and_raw_text(tmp_path: Path) -> None:
    mapping = write(tmp_path, "m.yaml", TICKET_MAPPING)
    export = write(
        tmp_path,
        "e.csv",
        """
        Key,Agency,Channel,Votes,Created,Closed
        201,DOT,PHONE,1,03/01/2011 10:41:13 AM,03/15/2011 04:14:19 PM
        202,"DOHMH
        (two lines)",PHONE,1,03/02/2011 10:40:12 AM,01/01/1900 12:00:00 AM
        203,DOT,PHONE,1,03/05/2011 10:00:00 AM,03/04/2011 10:00:00 AM
        ,DOT,PHONE,1,03/05/2011 10:00:00 AM,
        205,DOT,PHONE,many,31/12/2011 10:00:00 AM,
        206,DOT,PHONE
        201,DOT,PHONE,1,03/06/2011 10:00:00 AM,

        207,DOT,PHONE,1,,03/06/2011 10:00:00 AM
        """,
    )
    records, rejections, counts = read_all(export, mapping)
    assert [record.id for record in records] == ["201"]
    by_line = {rejection.line: rejection.reason for rejection in rejections}
    assert set(by_line) == {3, 5, 6, 7, 8, 9, 11}
    assert by_line[3].startswith("placeholder date: column 'Closed' has '01/01/1900 12:00:00 AM'")
    assert by_line[5].startswith("impossible order: closed (2011-03-04T10:00:00-05:00) is before")
    assert by_line[6].startswith("no case id: column 'Key' is empty")
    # Every problem of a row is named, not only the first.
    assert "not a whole number: column 'Votes' has 'many'" in by_line[7]
    assert "bad timestamp: column 'Created' has '31/12/2011 10:00:00 AM'" in by_line[7]
    assert by_line[8] == "wrong number of fields: the row has 3, the header 6"
    assert by_line[9] == "duplicate case id: '201' was already used on line 2"
    assert by_line[11] == "missing timestamp: column 'Created' is empty"
    multi_line = next(rejection for rejection in rejections if rejection.line == 3)
    assert "DOHMH\n(two lines)" in multi_line.raw
    assert counts.rows_read == 8
    assert counts.rows_used + counts.rows_rejected == counts.rows_read
    assert counts.blank_lines == 1
    assert counts.reconciles


def test_jsonl_exports_read_through_the_same_mapping(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "m.yaml",
        """
        kind: mapping
        shape: ticket
        source: {missing: ["", "n/a"]}
        case: {id: key}
        attributes:
          votes: votes
          vip: {column: vip, type: boolean}
          tags: tags
          team: team
        events: [{type: opened, at: created}]
        """,
    )
    lines = [
        {"key": 1, "votes": 3, "vip": "yes", "tags": ["a"], "team": "n/a", "created": "2020-01-01"},
        "not json",
        [1, 2],
        {"key": "2", "created": "2020-01-02T10:00:00+02:00"},
    ]
    export = tmp_path / "e.jsonl"
    export.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    records, rejections, counts = read_all(export, mapping)
    assert [record.id for record in records] == ["1", "2"]
    assert records[0].attributes == {"votes": 3, "vip": True, "tags": '["a"]'}
    assert records[0].events[0].at == datetime(2020, 1, 1, tzinfo=UTC)
    assert [(rejection.line, rejection.reason[:20]) for rejection in rejections] == [
        (2, "not valid JSON: JSON"),
        (3, "not a JSON object"),
    ]
    assert counts.reconciles


def test_gzip_is_recognised_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    mapping = write(tmp_path, "m.yaml", TICKET_MAPPING)
    export = tmp_path / "export.csv"
    export.write_bytes(
        gzip.compress(
            b"Key,Agency,Channel,Votes,Created,Closed\n301,DOT,PHONE,1,03/01/2011 10:41:13 AM,\n"
        )
    )
    records, rejections, _counts = read_all(export, mapping)
    assert [record.id for record in records] == ["301"]
    assert rejections == []


def test_a_promise_event_only_exists_when_its_due_date_does(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "m.yaml",
        """
        kind: mapping
        shape: ticket
        case: {id: Key}
        events:
          - {type: opened, at: Created}
          - type: promise
            at: Created
            when: Due
            fields: {due: {column: Due, type: timestamp}}
        """,
    )
    export = write(
        tmp_path,
        "e.csv",
        "Key,Created,Due\n1,2020-01-01T09:00:00Z,2020-01-02T09:00:00+01:00\n2,2020-01-01T09:00:00Z,\n",
    )
    records, _rejections, _counts = read_all(export, mapping)
    promise = records[0].events[1]
    assert (promise.type, promise.fields) == ("promise", {"due": "2020-01-02T09:00:00+01:00"})
    assert [event.type for event in records[1].events] == ["opened"]


# ---------------------------------------------------------------------------------------------
# event logs
# ---------------------------------------------------------------------------------------------

EVENT_LOG_MAPPING = """
    kind: mapping
    shape: event_log
    source: {missing: ["?", ""]}
    timestamps: {formats: ["%d/%m/%Y %H:%M"], timezone: UTC}
    case: {id: number, sorted: SORTED}
    attributes:
      reassignments: {column: reassignment_count, type: integer}
      caller: {column: caller, from: first}
    events:
      - {type: opened, at: opened_at}
    activity:
      at: updated_at
      type:
        column: state
        map: {New: new, Active: active, Resolved: resolved, Closed: closed}
        unmapped: reject
      actor: updated_by
      fields: {status: state}
    assignment:
      column: group
      field: team
      unassigned: "(no group)"
"""

EVENT_LOG = """
number,state,reassignment_count,caller,group,opened_at,updated_at,updated_by
INC1,New,0,Caller 1,?,29/2/2016 01:16,29/2/2016 01:23,u1
INC1,Active,1,Caller 1,Group 56,29/2/2016 01:16,29/2/2016 02:00,u2
INC1,Active,2,?,Group 70,29/2/2016 01:16,29/2/2016 03:00,u3
INC1,Resolved,2,Caller 9,Group 70,29/2/2016 01:16,29/2/2016 04:00,u3
INC2,New,0,Caller 2,Group 1,1/3/2016 08:00,1/3/2016 09:30,u1
INC2,Resolved,0,Caller 2,Group 1,1/3/2016 08:00,1/3/2016 09:10,u4
INC2,Closed,0,Caller 2,Group 1,1/3/2016 08:00,6/3/2016 09:10,u5
INC3,New,0,Caller 3,Group 2,2/3/2016 08:00,2/3/2016 08:05,u1
INC3,-100,0,Caller 3,Group 2,2/3/2016 08:00,2/3/2016 08:06,u1
INC3,Resolved,0,Caller 3,Group 2,2/3/2016 08:00,not a date,u1
INC3,Closed,0,Caller 3,Group 2,2/3/2016 08:00,7/3/2016 08:00,u1
"""


def event_log_mapping(folder: Path, sorted_input: bool, extra: str = "") -> Path:
    text = EVENT_LOG_MAPPING.replace("SORTED", "true" if sorted_input else "false")
    return write(folder, "m.yaml", text + textwrap.indent(textwrap.dedent(extra), "    "))


@pytest.mark.parametrize("sorted_input", [True, False])
def test_event_log_rows_become_one_record_per_case(tmp_path: Path, sorted_input: bool) -> None:
    mapping = event_log_mapping(tmp_path, sorted_input)
    export = write(tmp_path, "e.csv", EVENT_LOG)
    records, rejections, counts = read_all(export, mapping)
    inc1, inc2, inc3 = records
    assert [(event.type, event.fields) for event in inc1.events] == [
        ("opened", {}),
        ("new", {"status": "New"}),
        ("assigned", {"team": "(no group)"}),
        ("active", {"status": "Active"}),
        ("assigned", {"team": "Group 56"}),
        ("active", {"status": "Active"}),
        ("assigned", {"team": "Group 70"}),
        ("resolved", {"status": "Resolved"}),
    ]
    assert inc1.events[4].actor == "u2"  # the update that moved the case made the handoff
    # Attributes come from the last row that has a value, or the first with from: first.
    assert inc1.attributes == {"reassignments": 2, "caller": "Caller 1"}
    assert not inc1.reordered
    # INC2's rows are not in time order in the file: sorted, and flagged.
    assert inc2.reordered
    assert [event.at for event in inc2.events] == sorted(event.at for event in inc2.events)
    assert [event.type for event in inc2.events if event.type != "assigned"] == [
        "opened",
        "resolved",
        "new",
        "closed",
    ]
    # INC3 keeps its two good rows and says how many it lost.
    assert inc3.attributes[REJECTED_ROWS_ATTRIBUTE] == 2
    assert [(rejection.line, rejection.reason) for rejection in rejections] == [
        (10, "value not in the map: column 'state' has '-100'"),
        (
            11,
            "bad timestamp: column 'updated_at' has 'not a date', not in the format "
            "'%d/%m/%Y %H:%M'",
        ),
    ]
    assert rejections[0].raw.startswith("INC3,-100,0,Caller 3")
    assert counts.as_dict() == {
        "rows_read": 11,
        "rows_used": 9,
        "rows_rejected": 2,
        "rows_in_rejected_cases": 0,
        "cases_built": 3,
        "cases_rejected": 0,
        "cases_emptied": 0,
        "cases_reordered": 1,
        "blank_lines": 0,
        "events_dropped": 0,
        "rows_with_dropped_events": 0,
        "cases_seen": 3,
    }


def test_reject_case_sets_the_whole_case_aside_with_every_line(tmp_path: Path) -> None:
    mapping = event_log_mapping(tmp_path, True).read_text(encoding="utf-8")
    path = write(
        tmp_path,
        "m.yaml",
        mapping.replace("sorted: true}", "sorted: true, on_row_error: reject_case}"),
    )
    export = write(tmp_path, "e.csv", EVENT_LOG)
    records, rejections, counts = read_all(export, path)
    assert [record.id for record in records] == ["INC1", "INC2"]
    (rejection,) = rejections
    assert rejection.line == 9
    assert rejection.reason.startswith(
        "case rejected whole: 'INC3' (4 rows, lines 9-12): 2 of its rows cannot be read (line 10: "
    )
    assert len(rejection.raw.splitlines()) == 4
    assert counts.rows_in_rejected_cases == 4
    assert counts.cases_rejected == 1
    assert counts.reconciles
    assert counts.cases_seen == 3


def test_a_case_whose_rows_return_later_in_a_sorted_file_is_caught(tmp_path: Path) -> None:
    mapping = event_log_mapping(tmp_path, True)
    lines = EVENT_LOG.strip().splitlines()
    shuffled = [lines[0], *lines[1:3], *lines[5:8], *lines[3:5]]  # INC1, INC2, then INC1 again
    export = write(tmp_path, "e.csv", "\n".join(shuffled) + "\n")
    records, rejections, counts = read_all(export, mapping)
    assert [record.id for record in records] == ["INC1", "INC2"]
    (rejection,) = rejections
    assert rejection.reason.startswith(
        "case rejected whole: 'INC1' (2 rows, lines 7-8): not grouped by case: its earlier rows "
        "ended on line 3; set case.sorted: false"
    )
    assert counts.reconciles


def test_unsorted_input_is_grouped_like_sorted_input(tmp_path: Path) -> None:
    rng = random.Random(4)
    header, *rows = EVENT_LOG.strip().splitlines()
    sorted_export = write(tmp_path, "sorted.csv", EVENT_LOG)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    unsorted_export = write(tmp_path, "unsorted.csv", "\n".join([header, *shuffled]) + "\n")
    expected, expected_rejections, _counts = read_all(
        sorted_export, event_log_mapping(tmp_path, True)
    )
    found, found_rejections, counts = read_all(unsorted_export, event_log_mapping(tmp_path, False))
    # The same cases and events; within a case, rows at one moment may now come in another order.
    assert {record.id: sorted(map(repr, record.events)) for record in found} == {
        record.id: sorted(map(repr, record.events)) for record in expected
    }
    assert sorted(rejection.reason for rejection in found_rejections) == sorted(
        rejection.reason for rejection in expected_rejections
    )
    assert counts.reconciles


def test_rows_without_a_case_id_are_rejected_on_their_own(tmp_path: Path) -> None:
    mapping = event_log_mapping(tmp_path, False)
    export = write(
        tmp_path,
        "e.csv",
        EVENT_LOG + "?,New,0,Caller 4,Group 2,2/3/2016 08:00,2/3/2016 08:05,u1\n",
    )
    _records, rejections, counts = read_all(export, mapping)
    assert (rejections[0].line, rejections[0].reason) == (
        13,
        "no case id: column 'number' is empty",
    )
    assert counts.rows_read == 12
    assert counts.reconciles


def test_a_case_every_row_of_which_is_unreadable_is_counted_as_emptied(tmp_path: Path) -> None:
    mapping = event_log_mapping(tmp_path, True)
    export = write(
        tmp_path,
        "e.csv",
        EVENT_LOG + "INC9,Bogus,0,Caller 4,Group 2,2/3/2016 08:00,2/3/2016 08:05,u1\n",
    )
    records, rejections, counts = read_all(export, mapping)
    assert "INC9" not in {record.id for record in records}
    assert rejections[-1].line == 13
    assert counts.cases_emptied == 1
    assert counts.cases_seen == 4
    assert counts.reconciles


@pytest.mark.slow
def test_a_million_unsorted_rows_group_with_bounded_memory(tmp_path: Path) -> None:
    import resource

    rng = random.Random(11)
    cases, per_case = 200_000, 5
    rows = [
        f"C{case:07d},{('New', 'Active', 'Active', 'Resolved', 'Closed')[step]},0,c,"
        f"Group {rng.randint(1, 9)},1/1/2016 00:00,{case % 28 + 1}/{step + 1}/2016 10:00,u"
        for case in range(cases)
        for step in range(per_case)
    ]
    rng.shuffle(rows)
    export = tmp_path / "big.csv"
    with export.open("w", encoding="utf-8") as handle:
        handle.write(EVENT_LOG.strip().splitlines()[0] + "\n")
        handle.write("\n".join(rows) + "\n")
    del rows
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    read = read_export(export, event_log_mapping(tmp_path, False))
    built = 0
    for item in read:
        assert isinstance(item, Record)
        assert len([event for event in item.events if event.type != "assigned"]) == per_case + 1
        built += 1
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert built == cases
    assert read.counts.rows_read == cases * per_case
    assert read.counts.reconciles
    # Rows go to a temporary file, not memory: far less than the ~1 GiB they would take.
    assert grown_kib < 400 * 1024


# ---------------------------------------------------------------------------------------------
# as a reader, and through the command line
# ---------------------------------------------------------------------------------------------


def test_the_mapping_reader_is_registered_and_reads_through_rulecore_inputs(tmp_path: Path) -> None:
    registry = collect(get_plugin_manager())
    assert "mapping" in registry.readers
    mapping = write(tmp_path, "m.yaml", TICKET_MAPPING)
    export = write(
        tmp_path,
        "e.csv",
        "Key,Agency,Channel,Votes,Created,Closed\n401,DOT,PHONE,1,03/01/2011 10:41:13 AM,\n",
    )
    planned = plan_inputs([export], registry, "mapping")
    items = list(read_inputs(planned, {"mapping": mapping}))
    assert [item.id for item in items if isinstance(item, Record)] == ["401"]


def test_reading_an_export_without_a_mapping_says_what_is_missing(tmp_path: Path) -> None:
    registry = collect(get_plugin_manager())
    export = write(tmp_path, "e.csv", "Key\n1\n")
    planned = plan_inputs([export], registry, "mapping")
    with pytest.raises(Exception, match="needs a field mapping"):
        list(read_inputs(planned, {}))


def test_rulecore_map_writes_canonical_records_and_rejects(tmp_path: Path) -> None:
    mapping = write(tmp_path, "m.yaml", TICKET_MAPPING)
    export = write(
        tmp_path,
        "e.csv",
        """
        Key,Agency,Channel,Votes,Created,Closed
        501,DOT,PHONE,1,03/01/2011 10:41:13 AM,03/02/2011 10:41:13 AM
        502,DOT,PHONE,1,03/01/2011 10:41:13 AM,01/01/1900 12:00:00 AM
        """,
    )
    out, rejects = tmp_path / "records.jsonl", tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(
        main,
        ["map", str(export), "--mapping", str(mapping), "-o", str(out), "--rejects", str(rejects)],
    )
    assert result.exit_code == 0, result.output
    assert "2 read, 1 written, 1 rejected" in result.output
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["id"] == "501"
    assert record["events"][0] == {
        "at": "2011-03-01T10:41:13-05:00",
        "type": "opened",
        "actor": "customer",
        "fields": {},
    }
    (rejected,) = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert rejected["line"] == 3
    assert rejected["reason"].startswith("placeholder date")


def test_rulecore_audit_with_a_bad_mapping_exits_2_naming_the_place(tmp_path: Path) -> None:
    mapping = write(tmp_path, "m.yaml", TICKET_MAPPING.replace("America/New_York", "Nowhere/City"))
    export = write(tmp_path, "e.csv", "Key,Agency,Channel,Votes,Created,Closed\n")
    standard = Path(__file__).resolve().parent.parent / "examples/nyc-311/nyc-311-due-dates.yaml"
    result = CliRunner().invoke(
        main, ["audit", str(export), "--mapping", str(mapping), "-s", str(standard)]
    )
    assert result.exit_code == 2
    assert f"{mapping}:5:" in result.output
    assert "not an IANA time zone" in result.output


# ---------------------------------------------------------------------------------------------
# ticket: a timeline array inside each JSON line
# ---------------------------------------------------------------------------------------------

TIMELINE_MAPPING = """
    kind: mapping
    shape: ticket
    case: {id: interaction_id}
    attributes:
      priority: priority
      tags: tags
    timeline:
      from: events
      at: ts
      type: {column: type, map: {reply: agent_response}}
      actor: {column: actor, default: system}
      fields:
        agent: agent_id
        body_len: {column: body_len, type: integer}
      on_event_error: {on_event_error}
"""


def _timeline_export(folder: Path, lines: list[object], on_event_error: str) -> Path:
    mapping = write(folder, "m.yaml", TIMELINE_MAPPING.replace("{on_event_error}", on_event_error))
    export = folder / "e.jsonl"
    export.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    return mapping


def _event(ts: object, kind: object = "created", **more: object) -> dict[str, object]:
    return {"ts": ts, "type": kind, **more}


def test_a_nested_events_array_becomes_the_records_timeline(tmp_path: Path) -> None:
    line = {
        "interaction_id": "I-1",
        "priority": "high",
        "tags": ["vip", "billing"],
        "events": [
            _event("2026-03-02T09:15:00Z", actor="customer", seq=1),
            _event("2026-03-02T11:00:00+01:00", "reply", actor="agent", agent_id="a7", body_len=9),
            _event("2026-03-02T11:00:00Z", "note", agent_id=None),
        ],
    }
    mapping = _timeline_export(tmp_path, [line], "reject_record")
    records, rejections, counts = read_all(tmp_path / "e.jsonl", mapping)

    assert rejections == []
    (record,) = records
    assert record.attributes == {"priority": "high", "tags": '["vip", "billing"]'}
    assert [(event.type, event.actor, event.fields) for event in record.events] == [
        ("created", "customer", {}),
        ("agent_response", "agent", {"agent": "a7", "body_len": 9}),
        ("note", "system", {}),
    ]
    assert record.events[0].at == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert record.events[1].at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert not record.reordered
    assert counts.reconciles
    assert counts.cases_built == 1


def test_a_timeline_listed_out_of_time_order_is_sorted_and_marked(tmp_path: Path) -> None:
    line = {
        "interaction_id": "I-2",
        "events": [
            _event("2026-03-02T12:00:00Z", "resolved"),
            _event("2026-03-02T09:00:00Z", "created"),
            _event("2026-03-02T12:00:00Z", "note"),
        ],
    }
    mapping = _timeline_export(tmp_path, [line], "reject_record")
    (record,), _rejections, _counts = read_all(tmp_path / "e.jsonl", mapping)

    assert [event.type for event in record.events] == ["created", "resolved", "note"]
    assert record.reordered


def test_lines_without_a_timeline_array_are_rejected_with_the_reason(tmp_path: Path) -> None:
    lines: list[object] = [
        {"interaction_id": "no-key"},
        {"interaction_id": "text", "events": "created at 9"},
        {"interaction_id": "object", "events": {"ts": "2026-03-02T09:00:00Z"}},
        {"interaction_id": "empty", "events": []},
    ]
    mapping = _timeline_export(tmp_path, lines, "reject_record")
    records, rejections, counts = read_all(tmp_path / "e.jsonl", mapping)

    assert [(record.id, record.events) for record in records] == [("empty", ())]
    assert [(rejection.line, rejection.reason) for rejection in rejections] == [
        (1, "no timeline: key 'events' is missing, not an array of event objects"),
        (2, "no timeline: key 'events' is text, not an array of event objects"),
        (3, "no timeline: key 'events' is an object, not an array of event objects"),
    ]
    assert counts.reconciles
    assert (counts.rows_read, counts.rows_used, counts.rows_rejected) == (4, 1, 3)


BAD_ELEMENTS: list[object] = [
    _event("2026-03-02T09:00:00Z"),
    "created",
    _event("yesterday", "note"),
    _event(None, None),
    _event("2026-03-02T10:00:00Z", "reply", body_len="long"),
    _event("2026-03-02T11:00:00Z", "resolved"),
]


def test_a_bad_element_rejects_its_whole_line_by_default(tmp_path: Path) -> None:
    lines = [
        {"interaction_id": "bad", "events": BAD_ELEMENTS},
        {"interaction_id": "good", "events": [_event("2026-03-02T09:00:00Z")]},
    ]
    mapping = _timeline_export(tmp_path, lines, "reject_record")
    records, rejections, counts = read_all(tmp_path / "e.jsonl", mapping)

    assert [record.id for record in records] == ["good"]
    (rejection,) = rejections
    assert rejection.line == 1
    assert rejection.reason.split("; events[") == [
        "events[1]: not a JSON object",
        "2]: bad timestamp: column 'ts' has 'yesterday', not in the format 'iso8601'",
        "3]: missing timestamp: column 'ts' is empty; missing value: column 'type' is empty",
        "4]: not a whole number: column 'body_len' has 'long'",
    ]
    assert json.loads(rejection.raw)["interaction_id"] == "bad"
    assert counts.reconciles
    assert counts.events_dropped == 0


def test_drop_event_keeps_the_record_and_rejects_each_bad_element(tmp_path: Path) -> None:
    lines = [{"interaction_id": "bad", "events": BAD_ELEMENTS}]
    mapping = _timeline_export(tmp_path, lines, "drop_event")
    read = read_export(tmp_path / "e.jsonl", mapping)
    items = list(read)

    rejection, record = items
    assert isinstance(rejection, Rejection)
    assert isinstance(record, Record)
    assert rejection.reason.startswith(
        "events dropped: 4 of the 6 events of 'bad' cannot be read and were left out of its "
        "timeline (events[1]: not a JSON object; events[2]: bad timestamp"
    )
    assert [event.type for event in record.events] == ["created", "resolved"]
    assert record.attributes == {REJECTED_EVENTS_ATTRIBUTE: 4}
    assert REJECTED_EVENTS_ATTRIBUTE == "rejected_events"  # as docs/mapping.md names it
    counts = read.counts
    assert counts.reconciles
    assert (counts.rows_used, counts.rows_rejected) == (1, 0)
    assert (counts.events_dropped, counts.rows_with_dropped_events) == (4, 1)


@pytest.mark.parametrize(
    ("text", "place", "message"),
    [
        (
            "kind: mapping\nshape: ticket\ncase: {id: K}\ntimeline: {from: events, at: ts}\n",
            ":4:11:",
            "missing required key 'type' in timeline",
        ),
        (
            "kind: mapping\nshape: ticket\ncase: {id: K}\n"
            "timeline: {from: events, at: ts, type: type, on_event_error: skip}\n",
            ":4:62:",
            "'skip' is not allowed here; use one of 'reject_record', 'drop_event'",
        ),
        (
            "kind: mapping\nshape: event_log\ncase: {id: K}\nactivity: {at: A, type: T}\n"
            "timeline: {from: events, at: ts, type: type}\n",
            ":5:1:",
            "'timeline' is for ticket mappings",
        ),
        (
            "kind: mapping\nshape: ticket\nsource: {format: csv}\ncase: {id: K}\n"
            "timeline: {from: events, at: ts, type: type}\n",
            ":3:18:",
            "a CSV row has none",
        ),
        (
            "kind: mapping\nshape: ticket\ncase: {id: K}\n"
            "timeline: {from: events, at: ts, type: type, format: '%d/%m/%Q'}\n",
            ":4:",
            "%Q is not supported",
        ),
        (
            "kind: mapping\nshape: ticket\ncase: {id: K}\n",
            ":2:8:",
            "or a 'timeline'",
        ),
    ],
)
def test_a_bad_timeline_is_reported_at_file_line_column(
    tmp_path: Path, text: str, place: str, message: str
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StandardsInvalid) as caught:
        load_mapping(path)
    rendered = str(caught.value)
    assert place in rendered, rendered
    assert message in rendered, rendered


def test_a_timeline_mapping_refuses_an_export_read_as_csv(tmp_path: Path) -> None:
    mapping = _timeline_export(tmp_path, [], "reject_record")
    export = tmp_path / "e.csv"
    export.write_text("interaction_id,events\n1,[]\n", encoding="utf-8")
    with pytest.raises(StandardsInvalid, match=r"read as CSV: name it \.jsonl"):
        list(read_export(export, mapping))


def test_iso_timestamps_read_the_same_on_the_fast_and_the_slow_path() -> None:
    parse = compile_formats(["iso8601"], ZoneInfo("Europe/Rome"))
    assert parse("2026-03-02T09:15:00Z") == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert parse(" 2026-03-02T09:15:00z ") == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert parse("2026-03-02T10:15:00") == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert parse("2026-03-02T10:15:00").utcoffset() == timedelta(hours=1)


def test_the_timeline_example_in_the_docs_reads_as_documented(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "mapping.md").read_text("utf-8")
    section = text.split("## `timeline` (tickets in JSON lines)", 1)[1].split("\n## ", 1)[0]
    example = section.split("```json\n", 1)[1].split("```", 1)[0]
    mapping = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    export = tmp_path / "export.jsonl"
    export.write_text(json.dumps(json.loads(example)) + "\n", encoding="utf-8")
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")

    records, rejections, _counts = read_all(export, tmp_path / "m.yaml")

    assert rejections == []
    (record,) = records
    assert record.attributes == {"priority": "high", "channel": "email"}
    assert [(event.type, event.actor, event.fields) for event in record.events] == [
        ("created", "customer", {}),
        ("assigned", "system", {"queue": "billing"}),
        ("agent_response", "agent", {"agent_id": "a-17", "body_len": 412}),
    ]
