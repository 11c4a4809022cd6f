"""A schedule file's day keys, dates and ranges are checked by the schedule's JSON Schema; its
errors name what is wrong in words, at the line of the value, never by quoting a pattern."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from rulecore._standards import compile_schedules, load_documents


@pytest.mark.parametrize(
    ("hours", "line", "words"),
    [
        (
            'hours:\n  weekdays: "09:00-17:30"\n',
            4,
            "hours key 'weekdays' is not a day; use mon, tue, wed, thu, fri, sat or sun",
        ),
        ('hours:\n  mon-fri: "9am-5pm"\n', 4, "'9am-5pm' in hours.mon-fri is not open hours"),
        (
            'hours:\n  sat: ["10:00-12:00", "1pm-3pm"]\n',
            4,
            "'1pm-3pm' in hours.sat[1] is not open hours; write a range like 09:00-17:30",
        ),
        (
            "exceptions:\n  2026-1-1: closed\n",
            4,
            "exception '2026-1-1' is not a date; write it as YYYY-MM-DD",
        ),
        (
            'exceptions:\n  "2026-01-02": {hours: "9-5", note: half day}\n',
            4,
            "'9-5' in exceptions.2026-01-02.hours is not open hours",
        ),
    ],
)
def test_a_bad_day_date_or_range_is_named_in_words_at_its_line(
    tmp_path: Path, hours: str, line: int, words: str
) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            kind: schedule
            name: desk
            """
        )
        + hours,
        encoding="utf-8",
    )
    documents, errors = load_documents([path])
    _schedules, problems = compile_schedules(documents)

    assert not errors
    assert len(problems) == 1, problems
    problem = str(problems[0])
    assert f"desk.yaml:{line}:" in problem
    assert words in problem
    assert "does not match" not in problem
    assert "^" not in problem


def test_a_standards_value_of_the_wrong_kind_is_still_told_what_kind_it_should_be(
    tmp_path: Path,
) -> None:
    from rulecore import Engine, StandardsInvalid

    path = tmp_path / "x.yaml"
    path.write_text(
        "id: x\nversion: 1\ntitle: t\ndimension: timeliness\nrules:\n  - id: r\n"
        "    check: elapsed\n    params: {from: {type: opened}, to: {type: message}}\n"
        "    thresholds: soon\n",
        encoding="utf-8",
    )

    with pytest.raises(StandardsInvalid) as invalid:
        Engine.from_paths([path])

    assert "rules[0].thresholds should be a mapping, not the text 'soon'" in str(
        invalid.value.errors[0]
    )
