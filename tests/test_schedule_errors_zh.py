"""A schedule's definition errors read in Chinese with --lang zh, located as in English."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulecore import cli
from rulecore._i18n import set_language


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    set_language("en")


@pytest.mark.parametrize(
    ("hours", "english", "chinese"),
    [
        ('mon-fri: "18:00-09:00"', "which ends before it starts", "它在开始之前就结束了"),
        (
            'sat: "09:00-12:00"\n  sat-sun: closed',
            "sat is closed under 'sat-sun' but has hours under 'sat'",
            "sat 在 'sat-sun' 下不营业，却在 'sat' 下有营业时间",
        ),
        ("mon-fri: closed", "is closed every day; give it some hours", "每天都不营业"),
    ],
)
def test_a_schedule_error_speaks_the_chosen_language(
    tmp_path: Path, hours: str, english: str, chinese: str
) -> None:
    (tmp_path / "office.yaml").write_text(
        f"kind: schedule\nname: office\ntimezone: Europe/London\nhours:\n  {hours}\n",
        encoding="utf-8",
    )
    said = {}
    for lang in ("en", "zh"):
        result = CliRunner().invoke(cli.main, ["--lang", lang, "validate", str(tmp_path)])
        assert result.exit_code == 2, result.output
        said[lang] = result.output.strip()
    assert english in said["en"]
    assert said["en"].count("\n") == 0
    assert "office.yaml:" in said["zh"]
    assert "时间表 'office'" in said["zh"]
    assert chinese in said["zh"]
    assert english not in said["zh"]
