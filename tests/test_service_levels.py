"""Population service levels and breakdowns by record attribute."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from rulecore import Engine, StandardsInvalid, collect, get_plugin_manager, load_standards
from rulecore._model import record_from_mapping

STANDARD = """
id: chat-speed
version: 1
title: Chat speed
dimension: timeliness
rules:
  - id: first-reply
    check: elapsed
    params: {from: {type: opened}, to: {type: message, actor: agent}}
    thresholds: {desired: 60s, adequate: 120s}
    service_level: {target: 75%, by: team}
  - id: tolerance-level
    check: elapsed
    params: {from: {type: opened}, to: {type: message, actor: agent}}
    thresholds: {desired: 60s, adequate: 120s}
    service_level: {target: 90%, meets: tolerance}
  - id: p50
    check: elapsed
    params: {from: {type: opened}, to: {type: message, actor: agent}}
    thresholds: {desired: 60s, adequate: 120s}
    service_level: {percentile: 50, target: 90s}
"""

START = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)


def chat(number: int, team: str, reply_after: float | None) -> Any:
    events = [{"at": START.isoformat(), "type": "opened", "actor": "customer"}]
    if reply_after is not None:
        at = START + timedelta(seconds=reply_after)
        events.append({"at": at.isoformat(), "type": "message", "actor": "agent"})
    return record_from_mapping({"id": f"C{number}", "attributes": {"team": team}, "events": events})


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    (tmp_path / "chat.yaml").write_text(STANDARD)
    registry = collect(get_plugin_manager())
    return Engine(load_standards([tmp_path], registry), registry)


def levels(engine: Engine, records: list[Any], **options: Any) -> dict[tuple[str, str], Any]:
    summary = engine.audit(records, **options)
    return {(level["rule"], level["group"]): level for level in summary.service_levels}


def test_share_per_team_counts_only_judged_records(engine: Engine) -> None:
    records = [
        chat(1, "a", 30),  # pass
        chat(2, "a", 50),  # pass
        chat(3, "a", 100),  # warn
        chat(4, "a", None),  # not_applicable: not judged
        chat(5, "b", 30),  # pass
        chat(6, "b", 300),  # fail
    ]
    found = levels(engine, records)
    team_a, team_b = found[("first-reply", "a")], found[("first-reply", "b")]
    assert (team_a["judged"], team_a["actual"], team_a["met"]) == (3, 0.6667, False)
    assert (team_b["judged"], team_b["actual"], team_b["met"]) == (2, 0.5, False)
    tolerance = found[("tolerance-level", "(all)")]
    # 4 of 5 judged records are within tolerance (pass or warn): 80% < 90%.
    assert (tolerance["actual"], tolerance["met"]) == (0.8, False)


def test_percentile_is_nearest_rank(engine: Engine) -> None:
    records = [chat(n, "a", seconds) for n, seconds in enumerate([10, 20, 95, 100, 400], 1)]
    p50 = levels(engine, records)[("p50", "(all)")]
    # Nearest rank: ceil(0.5 * 5) = 3rd smallest = 95s, over the 90s target.
    assert (p50["actual"], p50["actual_text"], p50["met"]) == (95.0, "1m35s", False)
    faster = [chat(n, "a", seconds) for n, seconds in enumerate([10, 20, 80, 100, 400], 1)]
    assert levels(engine, faster)[("p50", "(all)")]["met"] is True


def test_breakdown_by_attribute_adds_up_to_the_total(engine: Engine) -> None:
    records = [chat(1, "a", 30), chat(2, "a", 300), chat(3, "b", 30), chat(4, "c", None)]
    summary = engine.audit(records, group_by=("team",))
    by_team = {breakdown.value: breakdown.counts for breakdown in summary.breakdowns}
    assert sorted(by_team) == ["a", "b", "c"]
    assert (by_team["a"].passed, by_team["a"].failed) == (3, 3)
    assert by_team["c"].not_applicable == 3
    total = by_team["a"] + by_team["b"] + by_team["c"]
    assert total == summary.outcomes


def test_a_share_over_100_percent_is_located(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(STANDARD.replace("target: 75%", "target: 175%"))
    with pytest.raises(StandardsInvalid) as raised:
        load_standards([tmp_path], collect(get_plugin_manager()))
    assert "bad.yaml:11:20:" in str(raised.value)
    assert "between 0% and 100%" in str(raised.value)


PERSONAL = """
id: warm-close
version: 1
title: Warm close
dimension: courtesy
side: personal
rules:
  - id: no-chasing
    check: follow_up
"""


@pytest.mark.parametrize(
    ("replies", "chases", "expected"),
    [
        ([30, 30, 30, 30, 30], 0, "quality"),  # fast and warm
        ([30, 30, 30, 30, 30], 2, "factory"),  # fast but the customers chase
        ([300, 300, 300, 300, 30], 0, "friendly zoo"),
        ([300, 300, 300, 300, 300], 2, "freezer"),
    ],
)
def test_service_type_quadrant_from_procedural_and_personal_sides(
    tmp_path: Path, replies: list[int], chases: int, expected: str
) -> None:
    (tmp_path / "chat.yaml").write_text(STANDARD)
    (tmp_path / "warm.yaml").write_text(PERSONAL)
    registry = collect(get_plugin_manager())
    engine = Engine(load_standards([tmp_path], registry), registry)
    records = []
    for number, reply in enumerate(replies):
        record = chat(number, "a", reply)
        if chases:
            chasers = [
                {
                    "at": (START + timedelta(hours=h)).isoformat(),
                    "type": "chase",
                    "actor": "customer",
                }
                for h in range(1, chases + 1)
            ]
            data = {
                "id": record.id,
                "attributes": {"team": "a"},
                "events": [
                    *(
                        {"at": e.at.isoformat(), "type": e.type, "actor": e.actor}
                        for e in record.events
                    ),
                    *chasers,
                ],
            }
            record = record_from_mapping(data)
        records.append(record)
    summary = engine.audit(records, group_by=("team",))
    placed = {(entry["by"], entry["group"]): entry for entry in summary.service_types}
    assert placed[(None, "(all)")]["type"] == expected
    assert placed[("team", "a")]["type"] == expected


def test_no_quadrant_without_a_personal_side(engine: Engine) -> None:
    assert engine.audit([chat(1, "a", 30)]).service_types == ()


def test_period_breakdowns_use_the_first_event(engine: Engine) -> None:
    summary = engine.audit([chat(1, "a", 30)], group_by=("@day", "@week", "@month"))
    assert {(b.by, b.value) for b in summary.breakdowns} == {
        ("@day", "2026-05-04"),
        ("@week", "2026-W19"),
        ("@month", "2026-05"),
    }
