"""``--rule-timeout``: a check that runs too long on one record is stopped, as an error.

The plugin here is installed as an outside team ships one (a module and its ``.dist-info`` on
``sys.path``), so that ``--jobs`` workers, which are new processes, find it too.  Its checks
spin forever, swallow exceptions while they spin, or sleep, each on one marked record only.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import types
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rulecore import testing
from rulecore._budget import RuleBudget, parse_rule_timeout
from rulecore._parallel import SHARD_BYTES_ENV
from rulecore.cli import main

ROOT = Path(__file__).resolve().parent.parent

PLUGIN = """
import time

from rulecore import Check, CrossRecordCheck, Measurement, hookimpl


def spins(params, context):
    def evaluate(record, ctx):
        turns = 0
        while record.id == "R-spin":
            try:
                turns += 1
            except Exception:  # a check that swallows errors must still be stopped
                pass
        return Measurement(0)
    return evaluate


def naps(params, context):
    def evaluate(record, ctx):
        if record.id == "R-nap":
            time.sleep(600)
        return Measurement(0)
    return evaluate


def counts(params, context):
    return lambda record, ctx: Measurement(len(record.events))


class Dozing:
    def __init__(self):
        self.seen = []

    def add(self, record, ctx):
        if record.id == "R-doze":
            time.sleep(600)
        self.seen.append(record.id)

    def results(self):
        return [(record_id, Measurement(0)) for record_id in self.seen]


def dozes(params, context):
    return Dozing


@hookimpl
def rulecore_register_checks(register):
    for name, compile in (("spins", spins), ("naps", naps), ("counts", counts)):
        register(Check(name=name, dimension="flow", doc=name, params_schema={"type": "object"},
                       compile=compile))
    register(CrossRecordCheck(name="dozes", dimension="flow", doc="dozes",
                              params_schema={"type": "object"}, compile=dozes))
"""

STANDARD = """\
id: slow
version: 1
title: Checks that take their time
dimension: flow
rules:
  - {id: spinning, check: spins, thresholds: {max: 0}}
  - {id: napping, check: naps, thresholds: {max: 0}}
  - {id: counting, check: counts, thresholds: {max: 99}}
  - {id: dozing, check: dozes, thresholds: {max: 0}}
"""

MARKED = {"R-spin": "spinning", "R-nap": "napping", "R-doze": "dozing"}
BUDGET = "0.3"


@pytest.fixture
def slow_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install the plugin; return a folder holding its standard and sixty records."""
    site = tmp_path / "site"
    info = site / "slow_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "slow_plugin.py").write_text(PLUGIN, encoding="utf-8")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: slow-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[rulecore]\nslow = slow_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv(SHARD_BYTES_ENV, "2048")  # many shards, so --jobs 2 shares them out
    work = tmp_path / "work"
    work.mkdir()
    (work / "slow.yaml").write_text(STANDARD, encoding="utf-8")
    ids = [f"R-{number:03}" for number in range(60)]
    ids[10], ids[30], ids[50] = "R-spin", "R-nap", "R-doze"
    event = '{"at": "2026-03-02T09:00:00Z", "type": "opened"}'
    lines = [f'{{"id": "{record_id}", "events": [{event}]}}\n' for record_id in ids]
    (work / "records.jsonl").write_text("".join(lines), encoding="utf-8")
    return work


def audit(work: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main,
        [
            *("audit", str(work / "records.jsonl"), "-s", str(work / "slow.yaml")),
            *("-f", "json", "--fail-on", "never", *args),
        ],
    )


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_check_past_its_budget_is_an_error_and_the_audit_goes_on(
    slow_plugin: Path, jobs: str
) -> None:
    started = time.monotonic()
    result = audit(slow_plugin, "--rule-timeout", BUDGET, "--jobs", jobs)
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 60  # three stopped checks, not three hangs
    report = json.loads(result.stdout)
    errors = {
        (finding["record"], finding["rule"]): finding
        for finding in report["findings"]
        if finding["outcome"] == "error"
    }
    assert set(errors) == set(MARKED.items())
    for (record, rule), finding in errors.items():
        message = finding["message"]
        assert "from plugin 'slow'" in message
        assert f"rule '{rule}'" in message
        assert f"record '{record}'" in message
        assert "ran longer than its budget of 0.3 s (--rule-timeout)" in message
    rules = {rule["rule"]: rule["counts"] for rule in report["summary"]["rules"]}
    assert report["summary"]["records"]["evaluated"] == 60
    for rule in ("spinning", "napping", "dozing"):
        assert (rules[rule]["pass"], rules[rule]["error"]) == (59, 1)
    assert (rules["counting"]["pass"], rules["counting"]["error"]) == (60, 0)


def test_the_report_is_the_same_with_one_job_or_two(slow_plugin: Path) -> None:
    one = audit(slow_plugin, "--rule-timeout", BUDGET, "--jobs", "1")
    two = audit(slow_plugin, "--rule-timeout", BUDGET, "--jobs", "2")
    assert one.stdout == two.stdout


def test_the_budget_changes_nothing_on_data_that_keeps_within_it(tmp_path: Path) -> None:
    args = [
        *("audit", str(ROOT / "examples" / "records"), "-s", str(ROOT / "standards")),
        *("-f", "json", "--fail-on", "never"),
    ]
    runs = [CliRunner().invoke(main, [*args, *extra]) for extra in ([], ["--rule-timeout", "0"])]
    assert runs[0].exit_code == runs[1].exit_code == 0
    assert runs[0].stdout == runs[1].stdout


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "soon", ""])
def test_a_budget_must_be_a_number_of_seconds(value: str) -> None:
    result = CliRunner().invoke(
        main, ["audit", "x.jsonl", "-s", "standards", "--rule-timeout", value]
    )
    assert result.exit_code == 2
    assert "--rule-timeout" in result.output
    assert "is not a number of seconds" in result.output


@pytest.mark.parametrize(("value", "seconds"), [("0", None), ("none", None), ("2.5", 2.5)])
def test_zero_or_none_turns_the_budget_off(value: str, seconds: float | None) -> None:
    assert parse_rule_timeout(value) == seconds


def test_the_api_stops_a_check_too_and_puts_the_timer_back() -> None:
    engine = testing.make_engine(
        """
        id: api
        version: 1
        title: Spins
        dimension: flow
        rules:
          - {id: spinning, check: spins, thresholds: {max: 0}}
        """,
        plugins=[_import_plugin()],
    )
    records = [testing.record(record_id) for record_id in ("R-1", "R-spin", "R-2")]
    summary = engine.audit(records, rule_timeout=0.2)
    assert (summary.outcomes.passed, summary.outcomes.errors) == (2, 1)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL


def test_outside_the_main_thread_the_budget_is_off() -> None:
    armed: list[bool] = []

    def run() -> None:
        with RuleBudget(1.0) as budget:
            armed.append(budget.armed)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert armed == [False]


def _import_plugin() -> types.ModuleType:
    module = types.ModuleType("slow_plugin_inline")
    exec(compile(PLUGIN, "slow_plugin_inline", "exec"), module.__dict__)
    return module
