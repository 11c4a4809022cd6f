"""A schedule's errors are reported at the line of the value at fault, and the clock's
evidence for a business-hours rule reads in Chinese with --lang zh."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulecore import cli
from rulecore._i18n import set_language
from rulecore.clock import ScheduleError, parse_schedule

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    set_language("en")


def _validate(tmp_path: Path, text: str, lang: str = "en") -> str:
    (tmp_path / "desk.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["--lang", lang, "validate", str(tmp_path)])
    assert result.exit_code == 2, result.output
    output = result.output.strip()
    assert output.count("\n") == 0, output
    return output


HEAD = "kind: schedule\nname: desk\n"


@pytest.mark.parametrize(
    ("body", "line_col", "words"),
    [
        # a backwards range, alone and as the second of a list
        (
            'timezone: Europe/London\nhours:\n  mon-fri: "17:30-09:00"\n',
            "5:12",
            "which ends before it starts",
        ),
        (
            'timezone: Europe/London\nhours:\n  mon-fri: ["09:00-12:00", "17:30-09:00"]\n',
            "5:28",
            "which ends before it starts",
        ),
        ('timezone: Europe/Londn\nhours:\n  mon-fri: "09:00-17:30"\n', "3:11", "'Europe/Londn'"),
        (
            'timezone: Europe/London\nhours:\n  mon-fri: "09:00-17:30"\n'
            "holidays:\n  country: UK2\n",
            "7:12",
            "holidays country 'UK2'",
        ),
        (
            'timezone: Europe/London\nhours:\n  mon-fri: "09:00-17:30"\n'
            "holidays:\n  country: GB\n  subdivision: XYZ\n",
            "8:16",
            "subdivision 'XYZ'",
        ),
        (
            'timezone: Europe/London\nhours:\n  mon-fri: "09:00-17:30"\n'
            'holidays:\n  dates: ["2025-01-01", "2025-02-30"]\n',
            "7:25",
            "2025-02-30",
        ),
        (
            'timezone: Europe/London\nhours:\n  sat: "09:00-12:00"\n  sat-sun: closed\n',
            "6:12",
            "give each day its hours once",
        ),
        (
            'timezone: Europe/London\nhours:\n  mon-fri: "09:00-17:30"\n'
            'exceptions:\n  "2025-01-26": "18:00-09:00"\n',
            "7:17",
            "hours for 'exception 2025-01-26'",
        ),
    ],
)
def test_a_schedule_error_is_reported_at_its_value(
    tmp_path: Path, body: str, line_col: str, words: str
) -> None:
    output = _validate(tmp_path, HEAD + body)
    assert f"desk.yaml:{line_col}: " in output, output
    assert words in output


def test_a_located_schedule_error_in_chinese(tmp_path: Path) -> None:
    output = _validate(
        tmp_path, HEAD + 'timezone: Europe/London\nhours:\n  mon-fri: "17:30-09:00"\n', "zh"
    )
    assert output.startswith("错误：")
    assert "desk.yaml:5:12: " in output
    assert "它在开始之前就结束了" in output


def test_an_exception_is_named_in_chinese(tmp_path: Path) -> None:
    output = _validate(
        tmp_path,
        HEAD + 'timezone: Asia/Shanghai\nhours:\n  mon-fri: "09:00-18:00"\n'
        'exceptions:\n  "2025-01-26": "18:00-09:00"\n',
        "zh",
    )
    assert "desk.yaml:7:17: " in output
    assert "'例外 2025-01-26'" in output
    assert "'exception " not in output


def test_parse_schedule_gives_the_path() -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("desk", {"timezone": "Mars/Olympus", "hours": {"mon": "09:00-17:00"}})
    assert caught.value.path == ("timezone",)
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("desk", {"hours": {"mon": ["09:00-12:00", "13:00-12:30"]}})
    assert caught.value.path == ("hours", "mon", 1)
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("desk", {"holidays": {"dates": ["2025-01-01", "soon"]}})
    assert caught.value.path == ("holidays", "dates", 1)


STANDARD = """\
id: quick
version: 1
title: Quick resolution
dimension: timeliness
rules:
  - id: resolved-in-a-day
    check: elapsed
    params:
      from: {type: opened}
      to: {type: resolved}
      schedule: support-hours
    thresholds: {desired: 4h, adequate: 8h}
"""

# Opened on a Friday evening, resolved on Monday morning: mostly outside the desk's hours.
RECORD = {
    "id": "T-1",
    "attributes": {"channel": "email"},
    "events": [
        {"at": "2026-03-20T19:00:00+00:00", "type": "opened", "actor": "customer"},
        {"at": "2026-03-23T10:00:00+00:00", "type": "resolved", "actor": "agent"},
    ],
}


def test_the_clock_evidence_of_a_zh_audit_is_chinese(tmp_path: Path) -> None:
    standards = tmp_path / "standards"
    standards.mkdir()
    shutil.copy(ROOT / "standards" / "schedules" / "support-hours.yaml", standards)
    (standards / "quick.yaml").write_text(STANDARD, encoding="utf-8")
    records = tmp_path / "records.jsonl"
    records.write_text(json.dumps(RECORD) + "\n", encoding="utf-8")
    notes = {}
    for lang in ("en", "zh"):
        report = tmp_path / f"{lang}.json"
        result = CliRunner().invoke(
            cli.main,
            [
                "--lang",
                lang,
                "audit",
                str(records),
                "-s",
                str(standards),
                "--report",
                f"json:{report}",
                "--fail-on",
                "never",
            ],
        )
        assert result.exit_code == 0, result.output
        (finding,) = json.loads(report.read_text(encoding="utf-8"))["findings"]
        notes[lang] = [e["detail"] for e in finding["evidence"] if e["label"] == "clock"]
    # Friday 19:00-20:00, Saturday 09:00-13:00 and Monday 08:00-10:00 London time count.
    assert notes["en"] == [
        "2d15h on the calendar, 7h counted (business time on support-hours (Europe/London)): "
        "2d8h outside_hours"
    ]
    (zh,) = notes["zh"]
    assert zh == (
        "日历时间 2d15h，计入 7h（按 support-hours 的工作时间（Europe/London））：非工作时间 2d8h"
    )
    for english in ("business", "outside_hours", "calendar"):
        assert english not in zh
