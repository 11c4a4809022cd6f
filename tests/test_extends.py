"""Standards built on other standards: extends, overrides and abstract templates."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from rulecore import (
    Engine,
    Record,
    collect,
    get_plugin_manager,
    load_standards,
    record_from_mapping,
)
from rulecore.cli import main

BASE = """\
id: chat-base
version: 1
title: Chat replies
dimension: timeliness
abstract: true
scope: {field: channel, op: eq, value: chat}
rules:
  - id: first-reply
    check: elapsed
    params: {from: {type: opened}, to: {type: message, actor: agent}}
    thresholds: {desired: 1m, adequate: 3m}
"""

VARIANT = """\
id: chat-billing
version: 2
extends: chat-base
title: Chat replies for billing
scope: {field: team, op: eq, value: billing}
overrides:
  first-reply:
    thresholds: {desired: 30s, adequate: 2m}
rules:
  - id: no-chasing
    check: follow_up
"""


def write(folder: Path, **files: str) -> Path:
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


def chat(record_id: str, team: str, seconds: int, channel: str = "chat") -> Record:
    return record_from_mapping(
        {
            "id": record_id,
            "attributes": {"channel": channel, "team": team},
            "events": [
                {"at": "2026-05-04T09:00:00Z", "type": "opened", "actor": "customer"},
                {
                    "at": f"2026-05-04T09:{seconds // 60:02d}:{seconds % 60:02d}Z",
                    "type": "message",
                    "actor": "agent",
                },
            ],
        }
    )


def validate(folder: Path) -> Result:
    return CliRunner().invoke(main, ["validate", str(folder)])


def test_a_variant_inherits_overrides_and_adds_while_the_template_is_not_audited(
    tmp_path: Path,
) -> None:
    write(tmp_path, base=BASE, billing=VARIANT)
    registry = collect(get_plugin_manager())
    standards = load_standards([tmp_path], registry)
    assert [standard.id for standard in standards] == ["chat-billing"]
    [variant] = standards
    assert (variant.title, variant.dimension, variant.version) == (
        "Chat replies for billing",
        "timeliness",
        "2",
    )
    assert [rule.id for rule in variant.rules] == ["first-reply", "no-chasing"]
    engine = Engine(standards, registry)
    records = [
        chat("fast", "billing", 20),
        chat("slowish", "billing", 45),
        chat("other-team", "returns", 45),
        chat("email", "billing", 45, "email"),
    ]
    found = {
        (finding.record, finding.rule): finding.outcome
        for record in records
        for finding in engine.evaluate(record)
    }
    # The override's tighter zone applies; both scopes must hold.
    assert found[("fast", "first-reply")] == "pass"
    assert found[("slowish", "first-reply")] == "warn"
    assert ("other-team", "first-reply") not in found
    assert ("email", "first-reply") not in found


def test_extending_an_unknown_standard_is_located_with_a_suggestion(tmp_path: Path) -> None:
    write(tmp_path, base=BASE, billing=VARIANT.replace("extends: chat-base", "extends: chat-bas"))
    result = validate(tmp_path)
    assert result.exit_code == 2
    assert f"{tmp_path / 'billing.yaml'}:3:1" in result.stderr
    assert "did you mean 'chat-base'?" in result.stderr


def test_overriding_a_rule_the_base_lacks_is_located(tmp_path: Path) -> None:
    write(tmp_path, base=BASE, billing=VARIANT.replace("  first-reply:", "  first-replies:"))
    result = validate(tmp_path)
    assert result.exit_code == 2
    assert f"{tmp_path / 'billing.yaml'}:7:3" in result.stderr
    assert "has no rule 'first-replies' to override" in result.stderr


def test_a_bad_override_is_reported_in_the_variant_not_the_base(tmp_path: Path) -> None:
    bad = VARIANT.replace("{desired: 30s, adequate: 2m}", "{desired: 3m, adequate: 2m}")
    write(tmp_path, base=BASE, billing=bad)
    result = validate(tmp_path)
    assert result.exit_code == 2
    assert f"{tmp_path / 'billing.yaml'}:8:17" in result.stderr
    assert "must not be longer or larger than adequate" in result.stderr


def test_extends_that_goes_round_is_an_error(tmp_path: Path) -> None:
    loop = BASE.replace("abstract: true\n", "abstract: true\nextends: chat-billing\n")
    write(tmp_path, base=loop, billing=VARIANT)
    result = validate(tmp_path)
    assert result.exit_code == 2
    assert "extends goes round" in result.stderr


def test_a_standard_without_extends_still_needs_its_rules(tmp_path: Path) -> None:
    write(
        tmp_path,
        billing=VARIANT.replace("extends: chat-base\n", "").replace(
            "overrides:\n  first-reply:\n    thresholds: {desired: 30s, adequate: 2m}\n", ""
        ),
    )
    no_rules = "id: x\nversion: 1\ntitle: X\ndimension: flow\n"
    write(tmp_path, other=no_rules)
    result = validate(tmp_path)
    assert result.exit_code == 2
    assert "missing required key 'rules'" in result.stderr
