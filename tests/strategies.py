"""Hypothesis strategies for what users hand rulecore, and the properties it must keep.

Shared by ``tests/test_fuzz.py`` (a few hundred examples, fixed seed, in CI) and
``bench/fuzz.py`` (as many as there is time for).  Every input is built from what rulecore
ships, so that most examples get past validation and reach the checks: records use the event
types, actors and fields of ``examples/records``; standards reuse and bend the rules of
``standards/``, ``docs/checks/`` and each check's ``rulecore explain`` example; mappings bend
the shipped ones and come with a CSV or JSON lines export.  Then a part of everything is made
hostile: wrong types, odd timestamps, unicode, huge numbers, deep nesting, duplicates.

The properties, checked by :func:`audit_holds` and its siblings: only exit 0, 1 or 2 and no
traceback; exit 2 comes with an error line; no check raises on a record (an ``error`` outcome
that quotes an exception); counts reconcile (read = evaluated + rejected); and the same input
gives the same bytes.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result
from hypothesis import strategies as st

import rulecore
from rulecore.cli import main

ROOT = Path(__file__).resolve().parent.parent

EVENT_TYPES = (
    "opened",
    "assigned",
    "message",
    "request",
    "request_granted",
    "request_declined",
    "status",
    "escalated",
    "escalation_offered",
    "promise",
    "callback",
    "chase",
    "reopened",
    "provided_info",
    "preference_changed",
    "satisfaction_checked",
    "farewell",
    "resolved",
    "closed",
)
ACTORS = ("agent", "customer", "system")
FIELDS = ("agent", "team", "status", "tier", "channel", "due", "within", "to", "kind", "key")
ATTRIBUTES = ("channel", "priority", "customer", "team", "agent", "preferred_channel")
STATUSES = ("open", "awaiting_customer", "resolved", "closed", "Wait", "pending")


def once_in(draw: st.DrawFn, times: int) -> bool:
    """True about once in ``times`` draws.  Hypothesis favours the smallest value of a range,
    so the rare case is one from the middle, and shrinking leads away from it."""
    return draw(st.integers(1, times)) == times // 2 + 1


# ---------------------------------------------------------------------------------------------
# hostile scalars
# ---------------------------------------------------------------------------------------------

odd_text = st.one_of(
    st.sampled_from(["", " ", "\x00", "\ufeff", "é", "名前", "🙂", "\u202e", "a" * 600, "*", "~"]),
    st.text(max_size=12),
)
huge_numbers = st.sampled_from(
    [0, -1, 10**19, -(10**30), 2**63, 1e308, -1e308, 1.5, 10**400, 1e-320]
)
json_scalars = st.one_of(
    st.none(), st.booleans(), huge_numbers, st.integers(), st.floats(allow_nan=False), odd_text
)


def nested(depth: int) -> st.SearchStrategy[Any]:
    """A value nested ``depth`` levels deep in lists and objects."""
    inner: Any = 0
    return st.just(inner) if depth == 0 else st.builds(_wrap, nested(depth - 1), st.booleans())


def _wrap(value: Any, as_list: bool) -> Any:
    return [value] if as_list else {"k": value}


hostile_values = st.one_of(
    json_scalars,
    st.lists(json_scalars, max_size=3),
    st.dictionaries(odd_text, json_scalars, max_size=3),
    st.integers(1, 60).flatmap(nested),
)

# ---------------------------------------------------------------------------------------------
# timestamps
# ---------------------------------------------------------------------------------------------

good_instants = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2098, 12, 31))
offsets = st.sampled_from(["Z", "+00:00", "+01:00", "-05:00", "+14:00", "-12:00", "+05:45"])


@st.composite
def timestamps(draw: st.DrawFn) -> Any:
    """Mostly valid RFC 3339, sometimes odd: no offset, out of range, malformed, not a text."""
    if not once_in(draw, 41):
        moment = draw(good_instants).replace(microsecond=draw(st.sampled_from([0, 0, 1, 999999])))
        sep = draw(st.sampled_from(["T", " "]))
        return moment.isoformat(sep=sep) + draw(offsets)
    return draw(
        st.one_of(
            st.sampled_from(
                [
                    "0001-01-01T00:00:00+14:00",
                    "9999-12-31T23:59:59-12:00",
                    "1970-01-01T00:30:00+01:00",
                    "2099-12-31T23:59:59Z",
                    "2100-01-01T00:00:00Z",
                    "2026-02-30T10:00:00Z",
                    "2026-04-01 10:00:00",
                    "2026-04-01T10:00Z",
                    "2026-04-01T24:00:00Z",
                    "2026-04-01T10:00:00+25:00",
                    "T",
                    "now",
                    "2026-04-01T10:00:00.1234567890Z",
                    "２０２６-04-01T10:00:00Z",
                ]
            ),
            json_scalars,
        )
    )


# ---------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------


@st.composite
def events(draw: st.DrawFn) -> Any:
    if once_in(draw, 101):
        return draw(hostile_values)
    event: dict[str, Any] = {"at": draw(timestamps()), "type": draw(st.sampled_from(EVENT_TYPES))}
    if draw(st.booleans()):
        event["actor"] = draw(st.sampled_from(ACTORS))
    if draw(st.booleans()):
        keys = st.sampled_from(FIELDS)
        values = st.one_of(st.sampled_from((*STATUSES, "billing", "L2", 1, 2, "2")), timestamps())
        if once_in(draw, 6):
            values = hostile_values
        event["fields"] = draw(st.dictionaries(keys, values, max_size=4))
    if once_in(draw, 101):
        del event[draw(st.sampled_from(sorted(event)))]
    if once_in(draw, 101):
        event[draw(st.sampled_from(["type", "actor", "fields", "extra"]))] = draw(hostile_values)
    return event


@st.composite
def records(draw: st.DrawFn, ids: st.SearchStrategy[Any]) -> Any:
    """A record (a JSON value): usually well formed, sometimes bent or plain hostile."""
    if once_in(draw, 51):
        return draw(hostile_values)
    record: dict[str, Any] = {"id": draw(ids)}
    if not once_in(draw, 6):
        attribute = st.one_of(
            st.sampled_from(["chat", "email", "high", "C-1", "billing"]), odd_text
        )
        if once_in(draw, 21):
            attribute = hostile_values
        record["attributes"] = draw(
            st.dictionaries(st.sampled_from(ATTRIBUTES), attribute, max_size=5)
        )
    record["events"] = draw(st.lists(events(), max_size=12))
    if once_in(draw, 51):
        record[draw(st.sampled_from(["id", "events", "attributes", "atributes"]))] = draw(
            hostile_values
        )
    return record


@st.composite
def record_ids(draw: st.DrawFn) -> Any:
    """Usually one of a few ids, so that cases repeat; once in a while an odd one."""
    if once_in(draw, 12):
        return draw(st.sampled_from(["", "x" * 513, "\x00"]) | odd_text | hostile_values)
    return draw(st.sampled_from(["T-1", "T-2", "T-3", "T-4", "T-5", "T-6", "é", "T 7"]))


@st.composite
def records_text(draw: st.DrawFn) -> str:
    """JSON lines text: records (ids often repeat), and now and then a line that is not JSON."""
    lines = []
    for record in draw(st.lists(records(record_ids()), min_size=1, max_size=8)):
        if once_in(draw, 40):
            lines.append(draw(st.sampled_from(["{", "NaN", "[1, Infinity]", "", "  ", "\x00"])))
        else:
            lines.append(json.dumps(record, ensure_ascii=draw(st.booleans())))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))


# ---------------------------------------------------------------------------------------------
# standards
# ---------------------------------------------------------------------------------------------


@cache
def registry() -> rulecore.Registry:
    return rulecore.collect(rulecore.get_plugin_manager())


@cache
def shipped_rules() -> tuple[str, ...]:
    """Every rule rulecore ships or documents, as JSON text (so each draw gets a fresh copy)."""
    found: list[Any] = []
    for path in sorted((ROOT / "standards").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("rules"), list):
            found += data["rules"]
    for name in sorted(registry().checks):
        check = registry().check(name)
        assert check is not None
        example = yaml.safe_load(check.example) if check.example else None
        found += example if isinstance(example, list) else [example]
    return tuple(json.dumps(rule, default=str) for rule in found if isinstance(rule, dict))


@cache
def schedules() -> tuple[str, ...]:
    return tuple(
        path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "standards").rglob("*.yaml"))
        if "kind: schedule" in path.read_text(encoding="utf-8")
    )


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path to every value inside ``value``."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], tuple(rest), new)
    return copy


@st.composite
def bent(draw: st.DrawFn, value: Any, budget: int = 3) -> Any:
    """``value`` with up to ``budget`` of its parts replaced, dropped, or swapped for another."""
    for _ in range(draw(st.integers(0, budget))):
        paths = _paths(value)
        path = draw(st.sampled_from(paths))
        choice = draw(st.integers(0, 3))
        if choice == 0 and path:
            container = _lookup(value, path[:-1])
            container = dict(container) if isinstance(container, dict) else list(container)
            del container[path[-1]]
            value = _replace(value, path[:-1], container)
        elif choice == 1:
            other = draw(st.sampled_from(paths))
            value = _replace(value, path, _lookup(value, other))
        else:
            value = _replace(value, path, draw(hostile_values))
    return value


def _lookup(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


thresholds = st.one_of(
    st.sampled_from(
        [
            {"desired": "1m", "adequate": "3m"},
            {"target": "1d", "warn_at": "80%"},
            {"target": 2},
            {"max": 0},
            {"target": "0s"},
            {"desired": "3m", "adequate": "1m"},
            {"target": "99999999d"},
            {"target": "1.5h"},
            {"target": "-1h"},
        ]
    ),
    st.sampled_from([None, [], "1h", True, {"by": "priority"}, {"target": "1e400d"}]),
)


@st.composite
def rules(draw: st.DrawFn) -> Any:
    rule = json.loads(draw(st.sampled_from(shipped_rules())))
    if once_in(draw, 10):
        rule["thresholds"] = draw(thresholds)
    return draw(bent(rule, budget=2)) if once_in(draw, 13) else rule


DIMENSIONS = ("timeliness", "flow", "adaptability", "anticipation", "courtesy")


@st.composite
def standards(draw: st.DrawFn) -> str:
    """The YAML text of a standard: shipped rules, often bent; now and then not YAML at all."""
    standard: dict[str, Any] = {
        "id": "fuzz" if not once_in(draw, 30) else draw(st.sampled_from(["Fuzz", "", "é"])),
        "version": draw(st.sampled_from([1, "1.0", 2])),
        "title": "Fuzzed",
        "dimension": draw(st.sampled_from(DIMENSIONS)),
        "rules": draw(st.lists(rules(), min_size=1, max_size=4)),
    }
    for number, rule in enumerate(standard["rules"]):
        if not isinstance(rule, dict):
            continue
        if not once_in(draw, 16):
            rule["id"] = f"r{number}"
        else:
            rule["id"] = draw(st.sampled_from(["r0", "é", "a b", ""]))
    if once_in(draw, 13):
        standard = draw(bent(standard, budget=2))
    text = yaml.safe_dump(standard, sort_keys=False, allow_unicode=draw(st.booleans()))
    if once_in(draw, 41):
        text = draw(st.sampled_from(["", "- a\n", "a: [\n", "a: &x [*x]\n", "\t:\n", "\x00"]))
    return text


# ---------------------------------------------------------------------------------------------
# waivers
# ---------------------------------------------------------------------------------------------


@st.composite
def waivers(draw: st.DrawFn) -> str:
    entry = st.fixed_dictionaries(
        {
            "reason": st.sampled_from(["Vendor outage", ""]),
            "by": st.sampled_from(["Ops", "名前"]),
            "expires": st.sampled_from(["2099-12-31", "2020-01-01", "not a date", "2026-02-30"]),
        },
        optional={
            "rule": st.sampled_from(["fuzz/r1", "timeliness-first-reply/resolution-time", "x"]),
            "records": st.one_of(st.just("*"), st.lists(record_ids(), max_size=3)),
            "fingerprint": st.sampled_from(["d79367ac5e46e5430f02", "zz", ""]),
        },
    )
    data: Any = {"waivers": draw(st.lists(entry, max_size=4))}
    if once_in(draw, 4):
        data = draw(bent(data, budget=2))
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


# ---------------------------------------------------------------------------------------------
# baselines
# ---------------------------------------------------------------------------------------------


@st.composite
def baselines(draw: st.DrawFn) -> str:
    """A previous JSON report, as ``--baseline`` reads it: its findings, often bent."""
    finding = st.fixed_dictionaries(
        {
            "fingerprint": st.sampled_from(["d79367ac5e46e5430f02", "0" * 20, ""]),
            "record": record_ids(),
            "rule": st.sampled_from(["timeliness-first-reply/resolution-time", "a/b", ""]),
            "outcome": st.sampled_from(["fail", "warn", "error", "pass", "waived"]),
        }
    )
    data: Any = {"findings": draw(st.lists(finding, max_size=4))}
    if once_in(draw, 3):
        data = draw(bent(data, budget=2))
    text = json.dumps(data)
    if once_in(draw, 20):
        text = draw(st.sampled_from(["", "{", "NaN", "\x00", "[]"]))
    return text


# ---------------------------------------------------------------------------------------------
# mappings and their exports
# ---------------------------------------------------------------------------------------------


@cache
def shipped_exports() -> tuple[tuple[str, list[str], tuple[tuple[str, ...], ...]], ...]:
    """``(mapping as JSON, header, first rows)`` of each example with a mapping and an export."""
    found = []
    for mapping_path in sorted((ROOT / "examples").glob("*/*.mapping.yaml")):
        export = sorted(mapping_path.parent.glob("*.csv")) + sorted(
            mapping_path.parent.glob("*.csv.gz")
        )
        opener = gzip.open if export[0].suffix == ".gz" else open
        with opener(export[0], "rt", encoding="utf-8", newline="") as stream:
            header, *rows = itertools.islice(csv.reader(stream), 40)
        mapping = json.dumps(yaml.safe_load(mapping_path.read_text(encoding="utf-8")))
        found.append((mapping, header, tuple(tuple(row) for row in rows)))
    return tuple(found)


cells = st.one_of(
    st.sampled_from(
        [
            "",
            "Case 1",
            "Value 1",
            "2012/10/09 14:50:17.000",
            "03/01/2011 02:27:57 PM",
            "29/2/2016 01:16",
            "2026-03-18T23:25:00+01:00",
            "01/01/1900 12:00:00 AM",
            "Closed",
            "Wait",
            "?",
            "1e400",
            "NaN",
            "é",
            "a,b",
            'say "hi"',
            "\n",
            "31/12/9999 23:59",
            "12/31/9999 11:59:59 PM",
            "0001/01/01 00:00:00.000",
            "\ufeff",
        ]
    ),
    odd_text,
)


source_options = st.sampled_from(["encoding", "delimiter", "quotechar"])
source_values = st.sampled_from(
    ["utf-8", "latin-1", "cp1252", "utf-16", "rot13", "base64", "nope", ";", "\t", '"', "\n", ""]
)


@st.composite
def mapping_cases(draw: st.DrawFn) -> tuple[str, str, str]:
    """``(mapping YAML, export text, export suffix)``: a shipped mapping, now and then bent,
    with rows of its own export, some cells, columns or rows made hostile."""
    mapping_json, header, real_rows = draw(st.sampled_from(shipped_exports()))
    mapping = json.loads(mapping_json)
    suffix = ".csv" if not once_in(draw, 3) else ".jsonl"
    mapping.setdefault("source", {})["format"] = "csv" if suffix == ".csv" else "jsonl"
    if once_in(draw, 4):
        mapping["source"][draw(source_options)] = draw(source_values)
    if once_in(draw, 6):
        mapping = draw(bent(mapping, budget=2))
    header = list(header)
    rows = [list(row) for row in draw(st.lists(st.sampled_from(real_rows), max_size=8))]
    for row in rows:
        for _ in range(draw(st.integers(0, 2))):
            row[draw(st.integers(0, len(row) - 1))] = draw(cells)
    if once_in(draw, 10):
        dropped = draw(st.integers(0, len(header) - 1))
        header = header[:dropped] + header[dropped + 1 :]
    if suffix == ".csv":
        export = _csv([header, *rows])
        if once_in(draw, 10):
            export += draw(st.sampled_from(["\xff\xfe", "a,b,c,d\n", '"unclosed\n', "\x00\n"]))
    else:
        lines = [json.dumps(dict(zip(header, row))) for row in rows]  # noqa: B905
        export = "\n".join(lines) + "\n"
    return yaml.safe_dump(mapping, sort_keys=False), export, suffix


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# the properties
# ---------------------------------------------------------------------------------------------

#: An ``error`` outcome that is a check's own exception: an input it did not expect.  Such an
#: outcome keeps the audit going, but it is still a bug in the check.
CRASHED = re.compile(r"^check '[^']*' from plugin '[^']*' raised ")
LOCATED = re.compile(r"^(error|Error): ", re.MULTILINE)


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(main, args)


def assert_clean(result: Result, what: str) -> None:
    """rulecore answered: exit 0, 1 or 2, no Python exception, and exit 2 says why."""
    exception = result.exception
    if exception is not None and not isinstance(exception, SystemExit):
        raise AssertionError(f"{what}: an exception escaped: {exception!r}") from exception
    assert result.exit_code in (0, 1, 2), f"{what}: exit {result.exit_code}\n{result.output}"
    assert "Traceback" not in result.output, f"{what}: a traceback\n{result.output}"
    if result.exit_code == 2:
        assert LOCATED.search(result.output), (
            f"{what}: exit 2 without an error line\n{result.output}"
        )


def assert_same(first: Result, second: Result, what: str) -> None:
    """The second run of the same command answered as the first, byte for byte."""
    assert (second.exit_code, second.output) == (first.exit_code, first.output), (
        f"{what} answered differently the second time: exit {first.exit_code}, then "
        f"{second.exit_code} ({second.exception!r})\n{first.output}\n---\n{second.output}"
    )


def audit_holds(folder: Path, extra: list[str]) -> None:
    """``rulecore audit`` on ``folder``'s records: clean, reconciled, and deterministic."""
    args = [
        "audit",
        str(folder / "records.jsonl"),
        "-s",
        str(folder / "standards"),
        "-f",
        "json",
        "--fail-on",
        "never",
        "--all-outcomes",
        *extra,
    ]
    first = invoke(args)
    assert_clean(first, "audit")
    if first.exit_code == 2:
        return
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    counts = report["summary"]["records"]
    assert counts["read"] == counts["evaluated"] + counts["rejected"], counts
    crashed = [f["message"] for f in report["findings"] if CRASHED.search(f.get("message", ""))]
    assert not crashed, f"a check crashed on a record it was given: {crashed[0]}"
    second = invoke(args)
    assert_same(first, second, "audit")


def write_case(folder: Path, records: str, standard: str, with_schedule: bool) -> None:
    (folder / "standards").mkdir(exist_ok=True)
    (folder / "records.jsonl").write_text(records, encoding="utf-8", errors="surrogatepass")
    (folder / "standards" / "fuzz.yaml").write_text(standard, encoding="utf-8", errors="replace")
    if with_schedule:
        for number, text in enumerate(schedules()):
            (folder / "standards" / f"schedule-{number}.yaml").write_text(text, encoding="utf-8")


def map_holds(folder: Path, mapping: str, export: str, suffix: str) -> None:
    """``rulecore map`` and ``validate`` on a mapping and its export: clean and deterministic."""
    mapping_path = folder / "export.mapping.yaml"
    export_path = folder / f"export{suffix}"
    mapping_path.write_text(mapping, encoding="utf-8", errors="replace")
    export_path.write_text(export, encoding="utf-8", errors="surrogateescape")
    args = ["map", str(export_path), "-m", str(mapping_path)]
    first = invoke(args)
    assert_clean(first, "map")
    second = invoke(args)
    assert_same(first, second, "map")
    assert_clean(invoke(["validate", str(mapping_path)]), "validate")
