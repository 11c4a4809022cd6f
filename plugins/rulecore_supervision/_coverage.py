"""``qa_coverage``: the share of each agent's cases that got a QA review.

A supervisor who reviews a few agents closely and never looks at the others is not
supervising the service.  This check looks across records, so it is a
:class:`rulecore.CrossRecordCheck`: its accumulator counts, per agent, the cases seen and
the cases with a QA review event, and at the end gives every case its agent's coverage, so
that each finding names the agent and the team breakdowns weigh agents by their cases.

Memory: one small entry per in-scope record (its id, its agent and whether it was reviewed),
kept until the end, since an agent's coverage is known only once all their cases are in.
Results come in the order the records arrived, which ``--jobs`` keeps, so the report is the
same byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from rulecore import (
    SELECTOR_SCHEMA,
    Accumulator,
    CompileContext,
    CrossRecordCheck,
    EvaluationContext,
    Event,
    Evidence,
    Measurement,
    Record,
    compile_selector,
    field_key,
    known_events,
)
from rulecore.i18n import _

QA_COVERAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "agent": {
            "type": "string",
            "minLength": 1,
            "description": "The record attribute naming the agent who handled the case "
            "(default: agent).",
        },
        "review": {
            **SELECTOR_SCHEMA,
            "description": "A QA review of the case (default: type qa_review).",
        },
        "min_cases": {
            "type": "integer",
            "minimum": 1,
            "description": "Agents with fewer cases than this are not judged: too few to say "
            "(default: 1).",
        },
    },
    "$defs": SELECTOR_SCHEMA["$defs"],
}


class _Settings(NamedTuple):
    agent: str
    is_review: Callable[[Event], bool]
    min_cases: int


class _Case(NamedTuple):
    record_id: str
    agent: str | None
    review_at: Any  #: the first review's time, or None
    review_index: int | None


def compile_qa_coverage(
    params: Mapping[str, Any], context: CompileContext
) -> Callable[[], Accumulator]:
    settings = _Settings(
        agent=params.get("agent", "agent"),
        is_review=compile_selector(params.get("review", {"type": "qa_review"})),
        min_cases=int(params.get("min_cases", 1)),
    )

    def new_accumulator() -> Accumulator:
        return QaCoverageAccumulator(settings)

    return new_accumulator


class QaCoverageAccumulator:
    """One audit's QA coverage: cases and reviews per agent."""

    def __init__(self, settings: _Settings) -> None:
        self._settings = settings
        self._cases: list[_Case] = []
        self._seen: dict[str, int] = {}
        self._reviewed: dict[str, int] = {}

    def add(self, record: Record, context: EvaluationContext) -> None:
        agent = field_key(record.attribute(self._settings.agent))
        events = record.events[: known_events(record, context.as_of)]
        review = next(
            (index for index, event in enumerate(events) if self._settings.is_review(event)),
            None,
        )
        review_at = events[review].at if review is not None else None
        self._cases.append(_Case(record.id, agent, review_at, review))
        if agent is not None:
            self._seen[agent] = self._seen.get(agent, 0) + 1
            self._reviewed[agent] = self._reviewed.get(agent, 0) + (review is not None)

    def results(self) -> Iterator[tuple[str, Measurement]]:
        for case in self._cases:
            yield case.record_id, self._measure(case)
        self._cases.clear()

    def _measure(self, case: _Case) -> Measurement:
        if case.agent is None:
            return Measurement.not_applicable(
                _("the record names no agent in {attribute}").format(attribute=self._settings.agent)
            )
        seen, reviewed = self._seen[case.agent], self._reviewed[case.agent]
        if seen < self._settings.min_cases:
            return Measurement.not_applicable(
                _("agent {agent} has {seen} cases, fewer than {least} to judge").format(
                    agent=case.agent, seen=seen, least=self._settings.min_cases
                )
            )
        share = reviewed / seen
        note = _("agent {agent}: {reviewed} of {seen} cases reviewed").format(
            agent=case.agent, reviewed=reviewed, seen=seen
        )
        evidence = [Evidence("note", "coverage", detail=note)]
        if case.review_index is not None:
            evidence.append(
                Evidence("event", "qa_review", case.review_at, None, case.review_index, "")
            )
        return Measurement(share, tuple(evidence), note)


QA_COVERAGE = CrossRecordCheck(
    name="qa_coverage",
    dimension="supervision",
    doc=(
        "Across records: the share of each agent's cases (the record attribute agent) that "
        "got a QA review (an event of type qa_review).  Every case is given its agent's "
        "share, so a finding names the agent and breakdowns weigh agents by their cases.  "
        "Agents with fewer than min_cases cases, and records naming no agent, are not "
        "judged.  Higher is better; by default 10% of an agent's cases passes and 5% warns."
    ),
    params_schema=QA_COVERAGE_SCHEMA,
    compile=compile_qa_coverage,
    unit="ratio",
    better="higher",
    default_thresholds={"desired": 0.1, "adequate": 0.05},
    example="- id: qa-reaches-everyone\n  check: qa_coverage\n  params: {min_cases: 5}\n",
)
