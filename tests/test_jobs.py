"""``--jobs``: the same report, byte for byte, from several processes as from one.

Shards are forced small (``RULECORE_SHARD_BYTES``) so that the shipped examples, a few hundred
records, are cut into many shards and every join between them is exercised.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulecore import Finding, Rejection, Summary, audit_files
from rulecore._parallel import SHARD_BYTES_ENV, ShardFailed, line_ranges, plan_shards
from rulecore._plugins import collect, get_plugin_manager
from rulecore._readers import LINE_RANGE_OPTION, LineRange
from rulecore.cli import main
from rulecore.default_readers import read_jsonl

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "examples" / "records"
STANDARDS = ROOT / "standards"
FORMATS = ("table", "json", "jsonl", "csv", "sarif", "junit", "html")


@pytest.fixture(autouse=True)
def small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHARD_BYTES_ENV, "8192")


def audit_outputs(
    folder: Path, jobs: str, *args: str, formats: tuple[str, ...] = FORMATS
) -> dict[str, bytes]:
    """Run ``rulecore audit ... --jobs JOBS`` writing every format; return each file's bytes."""
    folder.mkdir()
    first, *others = formats
    reports = [arg for name in others for arg in ("--report", f"{name}:{folder / name}")]
    result = CliRunner().invoke(
        main,
        [
            "audit",
            *args,
            "--format",
            first,
            "-o",
            str(folder / first),
            *reports,
            "--rejects",
            str(folder / "rejects"),
            "--fail-on",
            "never",
            "--jobs",
            jobs,
        ],
    )
    assert result.exit_code == 0, result.output
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def assert_same_reports(
    tmp_path: Path, *args: str, formats: tuple[str, ...] = FORMATS
) -> dict[str, bytes]:
    one = audit_outputs(tmp_path / "one", "1", *args, formats=formats)
    two = audit_outputs(tmp_path / "two", "2", *args, formats=formats)
    assert sorted(one) == sorted(two)
    for name in one:
        assert one[name] == two[name], f"the {name} report differs with --jobs 2"
    return one


def test_every_format_is_the_same_with_two_jobs(tmp_path: Path) -> None:
    reports = assert_same_reports(tmp_path, str(RECORDS), "-s", str(STANDARDS), "--by", "team")
    summary = json.loads(reports["json"])["summary"]
    assert summary["records"]["rejected"] == 3
    assert summary["service_levels"]
    assert any(rule["check"] == "repeat_contact" for rule in summary["rules"])
    assert json.loads(reports["json"])["summary"]["breakdowns"]


def test_waivers_baseline_as_of_and_all_outcomes_are_the_same(tmp_path: Path) -> None:
    previous = tmp_path / "previous.json"
    result = CliRunner().invoke(
        main, ["audit", str(RECORDS / "service-desk.jsonl"), "-s", str(STANDARDS), "-f", "json"]
    )
    data = json.loads(result.stdout)
    gone = {**data["findings"][0], "fingerprint": "f" * 20, "outcome": "fail"}
    data["findings"] = [*data["findings"][::2], gone]  # half persist, one is resolved
    previous.write_text(json.dumps(data))
    failing = [f for f in data["findings"] if f["outcome"] == "fail"]
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        f"  - fingerprint: {failing[0]['fingerprint']}\n"
        "    reason: Agreed\n    by: Dana\n    expires: 2027-12-31\n"
        "  - rule: anticipation-promises/no-repeat-within-a-week\n"
        "    records: '*'\n    reason: Known\n    by: Ops\n    expires: 2027-12-31\n"
        "  - rule: flow-handoffs/team-handoffs\n"
        "    records: [T-000001, T-999999]\n    reason: Migrated\n    by: Ops\n"
        "    expires: 2027-12-31\n"
    )
    reports = assert_same_reports(
        tmp_path,
        str(RECORDS),
        "-s",
        str(STANDARDS),
        "--waivers",
        str(waivers),
        "--baseline",
        str(previous),
        "--as-of",
        "2026-06-01T00:00:00Z",
        "--all-outcomes",
        "--by",
        "@week",
        formats=("json", "jsonl", "sarif"),
    )
    summary = json.loads(reports["json"])["summary"]
    assert summary["waivers"]["used"] >= 2
    assert summary["baseline"]["persisting"]
    assert summary["baseline"]["resolved"]


def test_rejected_lines_keep_their_numbers_across_shards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SHARD_BYTES_ENV, "300")  # a shard or two per line
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    lines = (RECORDS / "service-desk.jsonl").read_text().splitlines()[:12]
    lines[3] = "{not json"
    lines[7] = ""
    lines[9] = '{"id": "X-1", "events": [{"at": "yesterday", "type": "opened"}]}'
    (inputs / "mixed.jsonl").write_text("\n".join([*lines, *lines[:2]]) + "\n")  # 2 repeated ids
    (inputs / "with-errors.jsonl").write_bytes(
        (RECORDS / "imported-with-errors.jsonl").read_bytes()
    )
    reports = assert_same_reports(tmp_path, str(inputs), "-s", str(STANDARDS), formats=("json",))
    rejected = [json.loads(line) for line in reports["rejects"].splitlines()]
    assert [(Path(r["source"]).name, r["line"]) for r in rejected if r["line"]] == [
        ("mixed.jsonl", 4),
        ("mixed.jsonl", 10),
        ("with-errors.jsonl", 2),
        ("with-errors.jsonl", 3),
        ("with-errors.jsonl", 4),
    ]
    assert sum("duplicate record id" in r["reason"] for r in rejected) == 2


def test_gzip_and_plain_inputs_are_the_same(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    data = (RECORDS / "service-desk.jsonl").read_bytes()
    (inputs / "a.jsonl.gz").write_bytes(gzip.compress(data))
    (inputs / "b.jsonl").write_bytes((RECORDS / "promises-and-channels.jsonl").read_bytes())
    assert_same_reports(tmp_path, str(inputs), "-s", str(STANDARDS), formats=("json", "csv"))


def test_mapped_exports_are_the_same(tmp_path: Path) -> None:
    """A JSON-lines ticket export is cut into line ranges; CSV and event logs go whole."""
    nyc = ROOT / "examples" / "nyc-311"
    with (nyc / "311-2011-slice.csv").open(newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    export = tmp_path / "311.jsonl"
    rows[5]["Created Date"] = "not a date"
    export.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    mapping = tmp_path / "nyc-311.jsonl.mapping.yaml"
    mapping.write_text(
        (nyc / "nyc-311.mapping.yaml").read_text().replace("format: csv", "format: jsonl")
    )
    reports = assert_same_reports(
        tmp_path,
        str(export),
        "-s",
        str(nyc / "nyc-311-due-dates.yaml"),
        "--mapping",
        str(mapping),
        formats=("json", "jsonl"),
    )
    assert json.loads(reports["json"])["summary"]["records"]["read"] == len(rows)
    registry = collect(get_plugin_manager())
    planned = [(export, registry.readers["mapping"][1])]
    assert len(plan_shards(planned, {"mapping": mapping}, 2, 8192)) > 4


def test_csv_and_event_log_exports_are_the_same(tmp_path: Path) -> None:
    nyc = ROOT / "examples" / "nyc-311"
    (tmp_path / "nyc").mkdir()
    assert_same_reports(
        tmp_path / "nyc",
        str(nyc / "311-2011-slice.csv"),
        str(nyc / "311-2013.csv"),
        "-s",
        str(nyc / "nyc-311-due-dates.yaml"),
        "--mapping",
        str(nyc / "nyc-311.mapping.yaml"),
        formats=("json",),
    )
    italy = ROOT / "examples" / "helpdesk-italy"
    (tmp_path / "italy").mkdir()
    assert_same_reports(
        tmp_path / "italy",
        str(italy / "helpdesk-slice.csv"),
        "-s",
        str(italy / "helpdesk-italy-timeliness.yaml"),
        "--mapping",
        str(italy / "helpdesk-italy.mapping.yaml"),
        formats=("json",),
    )


def test_csv_exports_are_cut_between_rows_not_inside_quoted_fields(tmp_path: Path) -> None:
    """A line break inside a quoted field is not the end of a row: a CSV ticket export is cut
    where the CSV module says its rows end, and every part reads the header."""
    nyc = ROOT / "examples" / "nyc-311"
    with (nyc / "311-2011-slice.csv").open(newline="", encoding="utf-8") as source:
        header, *rows = list(csv.reader(source))
    for number, row in enumerate(rows):
        if number % 3 == 0:  # a quoted field over several lines, "quotes" and commas in it
            row[header.index("Resolution Description")] = 'one\ntwo, "2"\n\nthree'
    rows[40] = rows[40][:5]  # too few fields: rejected, with its line
    rows[41][header.index("Created Date")] = "not a date\nat all"
    export = tmp_path / "311.csv"
    with export.open("w", newline="", encoding="utf-8") as target:
        csv.writer(target, lineterminator="\n").writerows([header, *rows])
    reports = assert_same_reports(
        tmp_path,
        str(export),
        "-s",
        str(nyc / "nyc-311-due-dates.yaml"),
        "--mapping",
        str(nyc / "nyc-311.mapping.yaml"),
        formats=("json", "jsonl"),
    )
    assert json.loads(reports["json"])["summary"]["records"]["read"] == len(rows)
    # the header, 40 rows, and 14 of them over 4 lines each: the short row starts on line 84
    assert json.loads(reports["rejects"].splitlines()[0])["line"] == 84
    registry = collect(get_plugin_manager())
    planned = [(export, registry.readers["mapping"][1])]
    shards = plan_shards(planned, {"mapping": nyc / "nyc-311.mapping.yaml"}, 2, 8192)
    assert len(shards) > 4
    with export.open("rb") as stream:
        for shard in shards:
            assert shard.lines is not None
            stream.seek(shard.lines.start - 1)
            assert stream.read(1) == b"\n"  # each part starts on a row of its own


ITALY = ROOT / "examples" / "helpdesk-italy"


def _event_log_with_strays(folder: Path) -> tuple[list[str], list[list[str]]]:
    """The sorted help-desk event log, with rows of two cases turning up again: in the middle,
    rows that cannot be read at all, and near the end rows that make a record of their own."""
    with (ITALY / "helpdesk-slice.csv").open(newline="", encoding="utf-8") as source:
        header, *rows = list(csv.reader(source))
    case = header.index("Case ID")
    first, second = rows[0][case], next(row[case] for row in rows if row[case] != rows[0][case])
    stray = [list(row) for row in rows if row[case] == first][:2]
    broken = [list(row) for row in rows if row[case] == second][:2]
    for row in broken:
        row[header.index("Complete Timestamp")] = "not a time"
    middle = len(rows) // 2
    while rows[middle][case] == rows[middle - 1][case]:
        middle += 1
    rows = [*rows[:middle], *broken, *rows[middle:-10], *stray, *rows[-10:]]
    return header, rows


@pytest.mark.parametrize("source_format", ["csv", "jsonl"])
def test_sorted_event_logs_are_cut_between_cases(tmp_path: Path, source_format: str) -> None:
    """A sorted event log is cut only where one case's rows end and the next one's begin; a
    case whose rows turn up again in a later part is caught as reading the whole file does."""
    header, rows = _event_log_with_strays(tmp_path)
    mapping = tmp_path / "helpdesk.mapping.yaml"
    text = (ITALY / "helpdesk-italy.mapping.yaml").read_text()
    mapping.write_text(text.replace("format: csv", f"format: {source_format}"))
    export = tmp_path / f"helpdesk.{source_format}"
    with export.open("w", newline="", encoding="utf-8") as target:
        if source_format == "csv":
            csv.writer(target, lineterminator="\n").writerows([header, *rows])
        else:
            target.writelines(
                json.dumps(dict(zip(header, row, strict=True))) + "\n" for row in rows
            )
    reports = assert_same_reports(
        tmp_path,
        str(export),
        "-s",
        str(ITALY / "helpdesk-italy-timeliness.yaml"),
        "--mapping",
        str(mapping),
        formats=("json", "jsonl"),
    )
    rejects = [json.loads(line) for line in reports["rejects"].splitlines()]
    strays = [reject["line"] for reject in rejects if "not grouped by case" in reject["reason"]]
    assert min(strays) < len(rows) // 2 + 5 < len(rows) - 20 < max(strays), rejects  # both
    registry = collect(get_plugin_manager())
    planned = [(export, registry.readers["mapping"][1])]
    shards = plan_shards(planned, {"mapping": mapping}, 2, 8192)
    assert len(shards) > 4
    cases = [row[header.index("Case ID")] for row in rows]
    offset = 2 if source_format == "csv" else 1  # the header is line 1
    for before, after in itertools.pairwise(shards):
        assert before.lines is not None
        assert after.lines is not None
        assert after.lines.first_line == before.last_line + 1
        last, first = cases[before.last_line - offset], cases[after.lines.first_line - offset]
        assert last != first, f"a cut inside case {last}"


def test_a_csv_export_with_a_lone_carriage_return_is_read_whole(tmp_path: Path) -> None:
    nyc = ROOT / "examples" / "nyc-311"
    export = tmp_path / "311.csv"
    export.write_bytes((nyc / "311-2011-slice.csv").read_bytes().replace(b"\n", b"\r", 1))
    registry = collect(get_plugin_manager())
    planned = [(export, registry.readers["mapping"][1])]
    shards = plan_shards(planned, {"mapping": nyc / "nyc-311.mapping.yaml"}, 2, 8192)
    assert [shard.lines for shard in shards] == [None]


def test_line_ranges_cover_the_file_in_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    lines = [b"x" * (n % 37) + b"\n" for n in range(500)] + [b"last, no newline"]
    path.write_bytes(b"".join(lines))
    ranges = list(line_ranges(path, 200))
    assert ranges[0][0].start == 0
    assert ranges[-1][0].end == path.stat().st_size
    for (part, last_line), (after, _) in itertools.pairwise(ranges):
        assert part.end == after.start
        assert after.first_line == last_line + 1
    assert ranges[-1][1] == len(lines)
    numbered = [
        item.line
        for part, _ in ranges
        for item in read_jsonl(path, {LINE_RANGE_OPTION: LineRange(*part)})
        if isinstance(item, Rejection)
    ]
    whole = [item.line for item in read_jsonl(path, {}) if isinstance(item, Rejection)]
    assert numbered == whole


class _Collect:
    def __init__(self) -> None:
        self.items: list[Finding | Rejection] = []

    def finding(self, finding: Finding) -> None:
        self.items.append(finding)

    def rejection(self, rejection: Rejection) -> None:
        self.items.append(rejection)

    def close(self, summary: Summary) -> None:
        pass


def test_the_api_gives_the_same_audit_with_jobs() -> None:
    results = []
    for jobs in (1, 2):
        sink = _Collect()
        summary = audit_files([STANDARDS], [RECORDS], sink, jobs=jobs, group_by=["team"])
        results.append((summary, sink.items))
    assert results[0] == results[1]


DYING_PLUGIN = """
import multiprocessing
import os

from rulecore import Check, Measurement, hookimpl


def _compile(params, context):
    def evaluate(record, ctx):
        if multiprocessing.parent_process() is not None and record.id == "T-000200":
            os._exit(7)  # a worker dies mid-shard, as when the machine kills it
        return Measurement(0)
    return evaluate


@hookimpl
def rulecore_register_checks(register):
    register(Check(name="dies_in_a_worker", dimension="flow", doc="Dies.", unit="count",
                   params_schema={"type": "object"}, compile=_compile))
"""

DYING_STANDARD = """\
kind: standard
id: dying
version: "1"
title: Dies in a worker
dimension: flow
rules:
  - id: dies
    check: dies_in_a_worker
    thresholds: {desired: 0, adequate: 1}
"""


def _dying_plugin(folder: Path, installed: bool) -> Path:
    """A plugin module; ``installed``: with its entry point, as an outside team ships one."""
    (folder / "dying_plugin.py").write_text(DYING_PLUGIN)
    if installed:
        info = folder / "dying_plugin-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dying-plugin\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text("[rulecore]\ndying = dying_plugin\n")
    standard = folder / "dying.yaml"
    standard.write_text(DYING_STANDARD)
    return standard


def test_a_worker_that_dies_fails_the_audit_naming_its_shard(tmp_path: Path) -> None:
    standard = _dying_plugin(tmp_path, installed=True)
    report = tmp_path / "out" / "report.json"
    environment = {**os.environ, "PYTHONPATH": str(tmp_path), SHARD_BYTES_ENV: "8192"}
    result = subprocess.run(
        [
            *(sys.executable, "-m", "rulecore", "audit", str(RECORDS / "service-desk.jsonl")),
            *("-s", str(standard), "-f", "json", "-o", str(report), "--jobs", "2"),
        ],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "service-desk.jsonl, bytes " in result.stderr
    assert "died (exit 7)" in result.stderr
    assert not report.exists()
    assert list(report.parent.iterdir()) == []


def test_the_api_raises_shard_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    standard = _dying_plugin(tmp_path, installed=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ShardFailed, match=r"service-desk\.jsonl, bytes"):
        audit_files([standard], [RECORDS / "service-desk.jsonl"], jobs=2, plugins=["dying_plugin"])


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_jobs_must_be_a_positive_number_or_auto(value: str) -> None:
    result = CliRunner().invoke(
        main, ["audit", str(RECORDS), "-s", str(STANDARDS), "--jobs", value]
    )
    assert result.exit_code == 2
    assert "--jobs" in result.output


def test_more_jobs_than_the_cores_can_share_is_refused() -> None:
    from rulecore._parallel import MAX_JOBS_PER_CORE, usable_cores

    too_many = str(MAX_JOBS_PER_CORE * usable_cores() + 1)
    result = CliRunner().invoke(
        main, ["audit", str(RECORDS), "-s", str(STANDARDS), "--jobs", too_many]
    )
    assert result.exit_code == 2
    assert f"jobs {too_many} is more than {MAX_JOBS_PER_CORE} processes" in result.output


def test_jobs_auto_uses_the_cores(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["audit", str(RECORDS), "-s", str(STANDARDS), "-f", "json", "--jobs", "auto"],
    )
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["summary"]["records"]["read"] == 433


def test_one_shard_is_audited_without_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A single gzip file cannot be cut: it is audited here (a worker would die), as with
    --jobs 1."""
    records = tmp_path / "records.jsonl.gz"
    records.write_bytes(gzip.compress((RECORDS / "service-desk.jsonl").read_bytes()))
    standard = _dying_plugin(tmp_path, installed=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    summary = audit_files([standard], [records], jobs=2, plugins=["dying_plugin"])
    assert summary.read == 400


class _Refuses(_Collect):
    def finding(self, finding: Finding) -> None:
        if len(self.items) == 1000:
            raise BrokenPipeError("the reader went away")
        super().finding(finding)


def test_a_sink_that_fails_stops_the_workers() -> None:
    with pytest.raises(BrokenPipeError):
        audit_files([STANDARDS], [RECORDS], _Refuses(), jobs=2)
    assert multiprocessing.active_children() == []
