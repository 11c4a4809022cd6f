"""The scorecard places each group in Martin's four service types, in English and Chinese,
and says nothing of them when an audit cannot place a group."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulecore import cli
from rulecore._i18n import set_language

ROOT = Path(__file__).resolve().parent.parent
CHATS = ROOT / "examples" / "transcripts" / "chats.jsonl"
PROCEDURAL = ROOT / "standards" / "timeliness-first-reply.yaml"
PERSONAL = ROOT / "standards" / "personal-transcripts.yaml"


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    set_language("en")


def _audit(*standards: Path, lang: str = "en", by: tuple[str, ...] = ("team",)) -> str:
    args = ["--lang", lang, "audit", str(CHATS), "--fail-on", "never"]
    for standard in standards:
        args += ["-s", str(standard)]
    for attribute in by:
        args += ["--by", attribute]
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    return result.output


def _rows(output: str, title: str) -> dict[str, list[str]]:
    """The rows of the table under ``title``: first cell -> the other cells."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 4 :]:
        if not line.startswith("│"):
            break
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        rows[cells[0]] = cells[1:]
    return rows


def test_each_team_is_placed_with_both_compliances() -> None:
    output = _audit(PROCEDURAL, PERSONAL)

    rows = _rows(output, "Service types (a side is strong at 80% or more)")
    assert rows == {
        "team=backlog": ["50.0%", "21.4%", "freezer"],
        "team=concierge": ["100.0%", "92.9%", "quality"],
        "team=express": ["100.0%", "21.4%", "factory"],
        "team=lounge": ["50.0%", "92.9%", "friendly zoo"],
        "(all)": ["75.8%", "57.1%", "freezer"],
    }
    # After the groups' own compliance, before the failures.
    assert output.index("Compliance by team") < output.index("Service types")
    assert output.index("Service types") < output.index("First failures")


def test_the_service_types_in_chinese_use_the_html_reports_words() -> None:
    output = _audit(PROCEDURAL, PERSONAL, lang="zh")

    rows = _rows(output, "服务类型（一侧达标率达到 80% 及以上为强）")
    assert {group: cells[-1] for group, cells in rows.items()} == {
        "team=backlog": "冷冻库",
        "team=concierge": "优质服务",
        "team=express": "工厂",
        "team=lounge": "友好动物园",
        "（全部）": "冷冻库",
    }
    assert re.search(r"┃ 分组\s+┃ 程序性 ┃ 人员性 ┃ 服务类型\s+┃", output)
    assert "Service types" not in output


def test_without_personal_standards_or_groups_there_is_no_table() -> None:
    assert "Service types" not in _audit(PROCEDURAL)
    # Ungrouped, the audit as a whole is not a comparison of groups: no table either.
    assert "Service types" not in _audit(PROCEDURAL, PERSONAL, by=())
