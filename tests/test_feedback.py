"""The customer feedback checks: survey_follows, satisfaction_score, complaint_flow.

The fixtures (``plugins/rulecore_feedback/fixtures``), run by test_fixtures.py, prove the
outcomes case by case; these tests hold the zone of tolerance to its definition on random
scores (NPS from the outcomes), and the evidence the findings carry.
"""

from __future__ import annotations

import random

import pytest

from rulecore import StandardsInvalid
from rulecore.testing import event, findings, make_engine, record


def _standard(rules: str) -> str:
    return f"id: f\nversion: 1\ntitle: t\ndimension: feedback\nrules:\n{rules}"


def test_nps_is_the_share_of_passes_less_the_share_of_failures() -> None:
    engine = make_engine(
        _standard(
            "  - id: nps\n    check: satisfaction_score\n    params: {scale: nps}\n"
            "    thresholds: {desired: 9, adequate: 7}\n"
        )
    )
    rng = random.Random(20260413)
    scores = [rng.randint(0, 10) for _ in range(300)]
    cases = [
        record(f"R{n}", event("2026-04-13T12:00:00Z", "survey_response", "customer", score=s))
        for n, s in enumerate(scores)
    ]
    outcomes = [finding.outcome for finding in findings(engine, *cases)]
    promoters = sum(score >= 9 for score in scores)
    detractors = sum(score <= 6 for score in scores)
    assert outcomes.count("pass") == promoters
    assert outcomes.count("warn") == len(scores) - promoters - detractors
    assert outcomes.count("fail") == detractors
    nps = (outcomes.count("pass") - outcomes.count("fail")) / len(outcomes) * 100
    assert nps == pytest.approx((promoters - detractors) / len(scores) * 100)


@pytest.mark.parametrize(
    ("score", "outcome"),
    [(5, "pass"), (4, "pass"), (3.5, "warn"), (3, "warn"), (2.99, "fail"), (1, "fail")],
)
def test_csat_against_desired_and_adequate_service(score: float, outcome: str) -> None:
    engine = make_engine(_standard("  - id: csat\n    check: satisfaction_score\n"))
    case = record("R", event("2026-04-13T12:00:00Z", "survey_response", "customer", score=score))
    (finding,) = findings(engine, case)
    assert (finding.outcome, finding.measured) == (outcome, score)
    assert finding.evidence[0].label == "response"


def test_survey_follows_measures_from_the_last_resolution() -> None:
    engine = make_engine(_standard('  - id: s\n    check: survey_follows\n    message: "{note}"\n'))
    case = record(
        "R",
        event("2026-04-13T10:00:00Z", "resolved", "agent"),
        event("2026-04-14T09:00:00Z", "reopened", "customer"),
        event("2026-04-14T10:00:00Z", "resolved", "agent"),
        event("2026-04-14T16:30:00Z", "survey_sent"),
    )
    (finding,) = findings(engine, case)
    assert finding.measured == 6.5 * 3600
    assert finding.message == "survey sent 6h30m after the resolution"
    assert [piece.event_index for piece in finding.evidence] == [2, 3]


def test_complaint_flow_follows_each_complaint_through_its_steps() -> None:
    engine = make_engine(
        _standard(
            '  - id: c\n    check: complaint_flow\n    message: "{note}"\n'
            "    params: {steps: [{type: apology}, {type: complaint_resolved}]}\n"
        )
    )
    case = record(
        "R",
        event("2026-04-13T09:00:00Z", "complaint", "customer"),
        event("2026-04-13T10:30:00Z", "complaint_acknowledged", "agent"),
        event("2026-04-13T11:00:00Z", "complaint_resolved", "agent"),
    )
    (finding,) = findings(engine, case)
    assert finding.measured == 2.0  # acknowledged late; the apology missing
    assert [(piece.label, piece.detail) for piece in finding.evidence] == [
        ("complaint", "complaint"),
        ("acknowledged_late", "acknowledged after 1h30m"),
        ("step_missing", "missing or out of order: apology"),
        ("step", "complaint_resolved"),
    ]


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("check: satisfaction_score\n    params: {scale: stars}", "stars"),
        ("check: complaint_flow\n    params: {steps: []}", ":8:21: .* non-empty"),
        ("check: survey_follows\n    params: {within: later}", "later"),
    ],
)
def test_a_bad_rule_is_refused_when_the_standard_loads(rule: str, words: str) -> None:
    with pytest.raises(StandardsInvalid, match=words):
        make_engine(_standard(f"  - id: r\n    {rule}\n"))
