"""The reports plugin: HTML (in a real headless Chromium), JUnit XML and SARIF."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from rulecore.cli import main

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "examples" / "records" / "service-desk.jsonl"
STANDARDS = ROOT / "standards"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

PERSONAL = """
id: warm-close
version: 1
title: Customers are not left to chase
dimension: courtesy
side: personal
rules:
  - id: no-chasing
    check: follow_up
"""


def audit_reports(tmp_path: Path, *formats: str, lang: str = "en") -> dict[str, Path]:
    standards = tmp_path / "standards"
    shutil.copytree(STANDARDS, standards)
    (standards / "warm-close.yaml").write_text(PERSONAL)
    paths = {name: tmp_path / f"report.{name}" for name in formats}
    args = [
        "--lang",
        lang,
        "audit",
        str(RECORDS),
        "-s",
        str(standards),
        "--by",
        "team",
        "--by",
        "@week",
        "--fail-on",
        "never",
        "-o",
        str(tmp_path / "scorecard.txt"),
    ]
    for name, path in paths.items():
        args += ["--report", f"{name}:{path}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return paths


def chart_data(html: str) -> dict[str, object]:
    found = re.search(
        r'<script id="rulecore-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


def test_html_is_self_contained_and_carries_the_chart_data(tmp_path: Path) -> None:
    html = audit_reports(tmp_path, "html")["html"].read_text()
    assert not re.search(r'(src|href)="https?://', html), "the report must not fetch anything"
    assert "Chart.js v4" in html
    data = chart_data(html)
    dimensions = {d["dimension"] for d in data["dimensions"]}  # type: ignore[index, union-attr]
    assert {"timeliness", "flow", "adaptability", "anticipation", "courtesy"} <= dimensions
    assert [g["group"] for g in data["groups"]["team"]] == [  # type: ignore[index]
        "accounts",
        "billing",
        "returns",
        "technical",
    ]
    assert data["periods"]["@week"]  # type: ignore[index]
    assert {q["type"] for q in data["quadrant"]} <= {  # type: ignore[union-attr]
        "quality",
        "factory",
        "friendly zoo",
        "freezer",
    }
    assert html.count('<details class="rule"') >= 6
    assert '<details class="finding">' in html


def test_html_escapes_what_the_data_says(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text(
        json.dumps(
            {
                "id": "<script>alert(1)</script>",
                "attributes": {"team": "</script><b>x"},
                "events": [
                    {"at": "2026-01-01T09:00:00Z", "type": "assigned", "fields": {"team": "a"}},
                    {"at": "2026-01-01T09:05:00Z", "type": "assigned", "fields": {"team": "b"}},
                    {"at": "2026-01-01T09:06:00Z", "type": "assigned", "fields": {"team": "c"}},
                    {"at": "2026-01-01T09:07:00Z", "type": "assigned", "fields": {"team": "d"}},
                ],
            }
        )
        + "\n"
    )
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        main,
        [
            "audit",
            str(records),
            "-s",
            str(STANDARDS / "flow-handoffs.yaml"),
            "--by",
            "team",
            "--format",
            "html",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 1
    html = out.read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert chart_data(html)["groups"]["team"][0]["group"] == "</script><b>x"  # type: ignore[index]


def test_junit_has_one_case_per_rule_and_fails_the_failing_ones(tmp_path: Path) -> None:
    junit = ET.parse(audit_reports(tmp_path, "junit")["junit"]).getroot()
    report = json.loads(
        CliRunner()
        .invoke(
            main,
            ["audit", str(RECORDS), "-s", str(STANDARDS), "--format", "json", "--fail-on", "never"],
        )
        .stdout
    )
    rules = report["summary"]["rules"]
    cases = {(c.get("classname"), c.get("name")): c for c in junit.iter("testcase")}
    assert {(r["standard"], r["rule"]) for r in rules} <= set(cases)
    for rule in rules:
        case = cases[(rule["standard"], rule["rule"])]
        failed = case.find("failure")
        assert (failed is not None) == (rule["counts"]["fail"] > 0)
        if failed is not None:
            assert failed.get("message", "").startswith(f"{rule['counts']['fail']} of ")


def test_sarif_lists_rules_and_fingerprinted_results(tmp_path: Path) -> None:
    sarif = json.loads(audit_reports(tmp_path, "sarif")["sarif"].read_text())
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rule_ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert "flow-handoffs/team-handoffs" in rule_ids
    assert run["results"]
    for result in run["results"]:
        assert result["ruleId"] in rule_ids
        assert result["level"] in ("warning", "error")
        assert re.fullmatch(r"[0-9a-f]{20}", result["partialFingerprints"]["rulecore/v1"])


def _chromium() -> str:
    found = (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )
    if found is None:
        pytest.skip(
            "Chromium is not installed (CI installs Debian's chromium package; "
            "locally: apt-get install chromium)"
        )
    return found


def test_html_loads_in_headless_chromium_with_charts_and_drill_down(tmp_path: Path) -> None:
    chromium = _chromium()
    page = audit_reports(tmp_path, "html")["html"]
    profile = tmp_path / "profile"
    dumped = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    root = re.search(r"<html[^>]*>", dom)
    assert root is not None
    assert "data-errors" not in root.group(0), root.group(0)
    drawn = re.search(r'data-charts-drawn="([^"]*)"', root.group(0))
    assert drawn is not None, root.group(0)
    assert set(drawn.group(1).split()) == {"dimensions", "groups", "time", "quadrant"}
    assert '<details class="rule"' in dom
    assert '<details class="finding">' in dom

    screenshot = tmp_path / "report.png"
    shot = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--window-size=1280,2000",
            f"--screenshot={screenshot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000  # a blank page is a few kB


def test_the_chinese_html_report_loads_in_headless_chromium(tmp_path: Path) -> None:
    chromium = _chromium()
    page = audit_reports(tmp_path, "html", lang="zh")["html"]
    dumped = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    root = re.search(r"<html[^>]*>", dumped.stdout)
    assert root is not None
    assert 'lang="zh-Hans"' in root.group(0)
    assert "data-errors" not in root.group(0), root.group(0)
    drawn = re.search(r'data-charts-drawn="([^"]*)"', root.group(0))
    assert drawn is not None, root.group(0)
    assert set(drawn.group(1).split()) == {"dimensions", "groups", "time", "quadrant"}
    # Titles the page sets from script, in Chinese, and the server-rendered tables.
    assert "按 team 的达标率" in dumped.stdout
    assert "按 周 的达标率" in dumped.stdout
    assert "各维度达标率" in dumped.stdout
    assert "时限" in dumped.stdout
