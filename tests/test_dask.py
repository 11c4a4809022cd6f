"""``--dask``: the same report, byte for byte, from a Dask cluster as from one process.

One real ``LocalCluster`` (two worker processes on 127.0.0.1, no dashboard) serves the whole
module.  Shards are forced small (``RULECORE_SHARD_BYTES``) so that the shipped examples are
cut into many tasks.  Its workers can import ``crashing_plugin``, whose check kills the worker
process that runs it on a marker record: once (``crash_once``, the task is run again
elsewhere), or every time (``crash_always``, the audit fails).
"""

from __future__ import annotations

import gzip
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulecore import Finding, Rejection, Summary, audit_files
from rulecore._parallel import SHARD_BYTES_ENV
from rulecore.cli import main

distributed = pytest.importorskip(
    "distributed", reason="--dask needs the dask extra: pip install -e '.[dask]'"
)
dask = pytest.importorskip("dask")

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "examples" / "records"
STANDARDS = ROOT / "standards"
FORMATS = ("table", "json", "jsonl", "csv", "sarif", "junit", "html")

CRASHING_PLUGIN = """
import os
from pathlib import Path

from rulecore import Check, Measurement, hookimpl


def _in_a_dask_worker():
    try:
        from distributed import get_worker
        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def _compile(params, context):
    marker = Path(params["marker"])

    def evaluate(record, ctx):
        if record.id == "T-000200" and _in_a_dask_worker() and not marker.exists():
            if params["once"]:
                marker.touch()
            os._exit(7)  # the worker process dies, as when the machine kills it
        return Measurement(0)
    return evaluate


@hookimpl
def rulecore_register_checks(register):
    register(Check(name="crashes_a_dask_worker", dimension="flow", doc="Crashes.", unit="count",
                   params_schema={"type": "object"}, compile=_compile))
"""

CRASHING_STANDARD = """\
kind: standard
id: crashing
version: "1"
title: Crashes a worker
dimension: flow
rules:
  - id: crashes
    check: crashes_a_dask_worker
    params: {{marker: "{marker}", once: {once}}}
    thresholds: {{desired: 0, adequate: 1}}
"""


@pytest.fixture(scope="module")
def plugin_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The plugin, installed with its entry point in a folder on this process's path, which
    the workers inherit."""
    folder = tmp_path_factory.mktemp("plugins")
    (folder / "crashing_plugin.py").write_text(CRASHING_PLUGIN)
    info = folder / "crashing_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: crashing-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[rulecore]\ncrashing = crashing_plugin\n")
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    sys.modules.pop("crashing_plugin", None)


@pytest.fixture(scope="module")
def cluster(plugin_folder: Path) -> Iterator[object]:
    # One death is forgiven (the task is moved to another worker), a second is not; and one
    # task at a time on each worker, as `--dask local` has it, so that a death is blamed on
    # the task that caused it alone.
    settings = {
        "distributed.scheduler.allowed-failures": 1,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with (
        dask.config.set(settings),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # not on 8787
        ) as local,
    ):
        yield local


@pytest.fixture
def client(cluster: object) -> Iterator[object]:
    with distributed.Client(cluster) as connected:
        connected.wait_for_workers(2, timeout=60)  # a worker killed earlier is back
        yield connected


@pytest.fixture(autouse=True)
def small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHARD_BYTES_ENV, "8192")


def audit_outputs(folder: Path, how: list[str], *args: str) -> dict[str, bytes]:
    """Run ``rulecore audit ...`` writing every format; return each file's bytes."""
    folder.mkdir()
    first, *others = FORMATS
    reports = [arg for name in others for arg in ("--report", f"{name}:{folder / name}")]
    result = CliRunner().invoke(
        main,
        [
            *("audit", *args, "--format", first, "-o", str(folder / first), *reports),
            *("--rejects", str(folder / "rejects"), "--fail-on", "never", *how),
        ],
    )
    assert result.exit_code == 0, result.output
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_every_format_is_the_same_on_a_cluster(tmp_path: Path, client: object) -> None:
    args = (str(RECORDS), "-s", str(STANDARDS), "--by", "team")
    one = audit_outputs(tmp_path / "one", ["--jobs", "1"], *args)
    with distributed.get_task_stream(client) as tasks:
        on_dask = audit_outputs(tmp_path / "dask", ["--dask", client.scheduler.address], *args)
    assert sorted(one) == sorted(on_dask)
    for name in one:
        assert one[name] == on_dask[name], f"the {name} report differs with --dask"
    shards = {task["key"] for task in tasks.data if "rulecore-shard" in str(task["key"])}
    assert len(shards) > 10  # many tasks, on both workers
    assert len({task["worker"] for task in tasks.data}) == 2
    # each worker process compiled the standards once, not once a task
    builds = client.run(lambda: importlib.import_module("rulecore._dask").compile_counts["builds"])
    assert sorted(builds.values()) == [1, 1]
    summary = json.loads(one["json"])["summary"]
    assert summary["records"]["rejected"] == 3
    assert summary["service_levels"]
    assert any(rule["check"] == "repeat_contact" for rule in summary["rules"])
    assert summary["breakdowns"]


def test_workers_speak_the_language_of_the_audit(tmp_path: Path, client: object) -> None:
    outputs = []
    for how in (["--jobs", "1"], ["--dask", client.scheduler.address]):
        out = tmp_path / f"{how[0].strip('-')}.jsonl"
        result = CliRunner().invoke(
            main,
            [
                *("--lang", "zh", "audit", str(RECORDS), "-s", str(STANDARDS)),
                *("--format", "jsonl", "-o", str(out), "--fail-on", "never", *how),
            ],
        )
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert "不适用".encode() in outputs[0] or "缺失".encode() in outputs[0]


def test_the_real_nyc_311_export_cut_into_csv_ranges_gives_the_same_report(
    shared_data: Path, tmp_path: Path, client: object
) -> None:
    """The full 2011 NYC 311 export (1 MB of CSV, quoted fields) cut between rows into many
    tasks: every report the same as one process reading it whole."""
    nyc = ROOT / "examples" / "nyc-311"
    args = (
        str(shared_data / "nyc-311" / "311_service_requests_2011.csv"),
        *("-s", str(nyc / "nyc-311-due-dates.yaml")),
        *("--mapping", str(nyc / "nyc-311.mapping.yaml")),
        *("--as-of", "2012-01-01T00:00:00Z", "--all-outcomes"),
    )
    one = audit_outputs(tmp_path / "one", ["--jobs", "1"], *args)
    with distributed.get_task_stream(client) as tasks:
        on_dask = audit_outputs(tmp_path / "dask", ["--dask", client.scheduler.address], *args)
    assert len({task["key"] for task in tasks.data if "rulecore-shard" in str(task["key"])}) > 20
    for name in one:
        assert one[name] == on_dask[name], f"the {name} report differs with --dask"
    summary = json.loads(one["json"])["summary"]
    assert summary["records"]["evaluated"] > 1000


class _Collect:
    def __init__(self) -> None:
        self.items: list[Finding | Rejection] = []

    def finding(self, finding: Finding) -> None:
        self.items.append(finding)

    def rejection(self, rejection: Rejection) -> None:
        self.items.append(rejection)

    def close(self, summary: Summary) -> None:
        pass


def _audit(inputs: list[str | Path], **options: object) -> tuple[Summary, list[object], int]:
    sink = _Collect()
    ticks = []
    summary = audit_files(
        [STANDARDS],
        inputs,
        sink,
        group_by=["team"],
        on_item=lambda: ticks.append(1),
        **options,
    )
    return summary, sink.items, len(ticks)


def test_the_api_takes_a_client(client: object) -> None:
    summary, items, ticks = _audit([RECORDS], client=client)
    assert (summary, items) == _audit([RECORDS])[:2]
    assert ticks == summary.read == 433  # progress counts every record, as tasks end
    with pytest.raises(ValueError, match="not both"):
        _audit([RECORDS], client=client, jobs=2)


def test_gzip_csv_and_repeated_ids_are_the_same(tmp_path: Path, client: object) -> None:
    """A gzip file is one task; a CSV export is cut between rows; a file whose ids were all
    read before is read again here, as one process reads it."""
    data = (RECORDS / "service-desk.jsonl").read_bytes()
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(data))
    (tmp_path / "b.jsonl").write_bytes(data)  # every id again: rejected as duplicates
    on_dask = _audit([tmp_path], client=client)
    assert on_dask[:2] == _audit([tmp_path])[:2]
    assert on_dask[0].rejected == 400
    nyc = ROOT / "examples" / "nyc-311"
    standards, mapping = [nyc / "nyc-311-due-dates.yaml"], nyc / "nyc-311.mapping.yaml"
    inputs = [nyc / "311-2011-slice.csv", nyc / "311-2013.csv"]
    on_dask = audit_files(standards, inputs, mapping=mapping, client=client)
    assert on_dask == audit_files(standards, inputs, mapping=mapping)


def test_file_urls_are_read_on_the_cluster(tmp_path: Path, client: object) -> None:
    args = ("-s", str(STANDARDS), "-f", "json", "--fail-on", "never")
    local = CliRunner().invoke(main, ["audit", str(RECORDS), *args])
    url = CliRunner().invoke(
        main, ["audit", RECORDS.as_uri(), *args, "--dask", client.scheduler.address]
    )
    assert url.exit_code == local.exit_code == 0, url.output
    assert url.stdout == local.stdout


def test_memory_urls_on_a_cluster_of_threads() -> None:
    """A ``memory://`` file lives in one process: a cluster of threads shares it."""
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    for path in sorted(RECORDS.iterdir()):
        memory.pipe(f"/rulecore-test/{path.name}", path.read_bytes())
    try:
        with (
            distributed.LocalCluster(
                n_workers=1,
                threads_per_worker=2,
                processes=False,
                dashboard_address=None,
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            ) as threads,
            distributed.Client(threads) as client,
        ):
            summary, items, _ticks = _audit(["memory://rulecore-test"], client=client)
    finally:
        memory.rm("/rulecore-test", recursive=True)
    local_summary, local_items, _ticks = _audit([RECORDS])
    assert summary == local_summary
    findings = [item for item in items if isinstance(item, Finding)]
    assert findings == [item for item in local_items if isinstance(item, Finding)]
    rejections = [item for item in items if isinstance(item, Rejection)]
    assert len(rejections) == 3
    assert all(item.source.startswith("memory://rulecore-test/") for item in rejections)


def _crashing_standard(folder: Path, once: bool) -> Path:
    standard = folder / "crashing.yaml"
    marker = folder / "crashed-once"
    standard.write_text(CRASHING_STANDARD.format(marker=marker, once=str(once).lower()))
    return standard


def test_a_worker_that_dies_once_is_replaced(tmp_path: Path, client: object) -> None:
    standard = _crashing_standard(tmp_path, once=True)
    inputs = [RECORDS / "service-desk.jsonl"]
    on_dask = audit_files([standard], inputs, client=client)
    assert (tmp_path / "crashed-once").exists()  # it did die, once
    assert on_dask == audit_files([standard], inputs)


def test_a_task_that_keeps_failing_fails_the_audit_naming_its_shard(
    tmp_path: Path, client: object, plugin_folder: Path
) -> None:
    """Exit 2, naming the file and its bytes; no report, and no temporary file, is left."""
    standard = _crashing_standard(tmp_path, once=False)
    report = tmp_path / "out" / "report.json"
    environment = {**os.environ, "PYTHONPATH": str(plugin_folder), SHARD_BYTES_ENV: "8192"}
    result = subprocess.run(
        [
            *(sys.executable, "-m", "rulecore", "audit", str(RECORDS / "service-desk.jsonl")),
            *("-s", str(standard), "-f", "json", "-o", str(report)),
            *("--dask", client.scheduler.address),
        ],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    lines = re.search(r"service-desk\.jsonl, bytes \d+-\d+ \(lines (\d+)-(\d+)\)", result.stderr)
    assert lines is not None, result.stderr
    assert int(lines[1]) <= 200 <= int(lines[2])  # the shard of the record that kills
    assert "the worker processes that ran it died" in result.stderr
    assert "Traceback" not in result.stderr
    assert not report.parent.exists() or list(report.parent.iterdir()) == []


def test_dask_and_jobs_together_is_a_usage_error() -> None:
    result = CliRunner().invoke(
        main, ["audit", str(RECORDS), "-s", str(STANDARDS), "--jobs", "2", "--dask", "local"]
    )
    assert result.exit_code == 2
    assert "--dask and --jobs" in result.output


@pytest.mark.parametrize("value", ["local:0", "local:two", "local:", ""])
def test_a_bad_dask_address_is_a_usage_error(value: str) -> None:
    result = CliRunner().invoke(
        main, ["audit", str(RECORDS), "-s", str(STANDARDS), "--dask", value]
    )
    assert result.exit_code == 2
    assert "--dask" in result.output


def test_a_scheduler_that_cannot_be_reached_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rulecore import _dask

    monkeypatch.setattr(_dask, "CONNECT_TIMEOUT", "1s")
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        main,
        [
            *("audit", str(RECORDS), "-s", str(STANDARDS), "-o", str(report)),
            *("--dask", "tcp://127.0.0.1:9"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output
    assert list(tmp_path.iterdir()) == []
