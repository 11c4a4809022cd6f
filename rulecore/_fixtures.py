"""Fixtures: a standard's proof, in the manner of semgrep's rule tests.

A fixture (``name.test.yaml``, beside ``name.yaml``) lists interaction records, each annotated
with the outcome every named rule must produce.  ``rulecore test`` runs them; so does the
project's own test suite, for every shipped standard and check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from ._engine import Engine
from ._findings import Finding
from ._i18n import _
from ._model import PLAUSIBLE_RANGE, Record, outside_plausible_range, record_from_mapping
from ._plugins import Registry
from ._readers import Rejection
from ._schemas import load_schema
from ._standards import (
    FIXTURE_SUFFIXES,
    StandardsInvalid,
    compile_schedules,
    compile_standard,
    load_documents,
    schema_errors,
    standard_bases,
)
from ._summary import Summary
from ._yaml import Document, Location, SourceError, child_node, load_yaml_file

OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class CaseResult:
    """One annotated record's result: what each named rule was expected to give, and gave."""

    fixture: str
    name: str
    record: str
    location: Location
    expected: Mapping[str, str]
    actual: Mapping[str, str]
    messages: Mapping[str, str]
    #: The finding behind each rule's actual outcome (measured value, thresholds, evidence).
    findings: Mapping[str, Finding] = field(default_factory=dict, compare=False, repr=False)

    @property
    def passed(self) -> bool:
        # A rule that produced no finding is out_of_scope, as mismatches() reports it.
        return not self.mismatches()

    def mismatches(self) -> list[str]:
        return [
            _("{rule}: expected {expected}, got {actual}").format(
                rule=rule, expected=outcome, actual=self.actual.get(rule, OUT_OF_SCOPE)
            )
            + (f" ({self.messages[rule]})" if self.messages.get(rule) else "")
            for rule, outcome in sorted(self.expected.items())
            if self.actual.get(rule, OUT_OF_SCOPE) != outcome
        ]


def discover_fixtures(paths: Iterable[Path]) -> list[Path]:
    """Every ``*.test.yaml`` at ``paths`` (files, or folders searched recursively), sorted."""
    found: set[Path] = set()
    for path in paths:
        candidates = path.rglob("*") if path.is_dir() else [path]
        found.update(
            p for p in candidates if p.is_file() and p.name.lower().endswith(FIXTURE_SUFFIXES)
        )
    return sorted(found)


def run_fixture(path: Path, registry: Registry) -> list[CaseResult]:
    """Run one fixture file; raise :class:`StandardsInvalid` if it or its standard is invalid."""
    document = load_yaml_file(path)
    errors = list(schema_errors(document, load_schema("fixture")))
    if errors:
        raise StandardsInvalid(errors)
    standard_document = _standard_document(path, document)
    documents, load_errors = load_documents([Path(standard_document.path).parent])
    schedules, schedule_errors = compile_schedules(documents)
    if load_errors or schedule_errors:
        raise StandardsInvalid(load_errors + schedule_errors)
    bases = standard_bases(documents)
    standard, problems = compile_standard(standard_document, registry, schedules, bases)
    if standard is None:
        raise StandardsInvalid(problems)
    engine = Engine((standard,), registry)
    cases = document.data["cases"]
    records: list[Record] = []
    seen: dict[str, int] = {}
    for index, case in enumerate(cases):
        try:
            record = record_from_mapping(case["record"])
        except msgspec.ValidationError as error:
            location = document.locate(["cases", index, "record"])
            raise StandardsInvalid(
                [SourceError(location, _("not a valid record: {error}").format(error=error))]
            ) from None
        if record.id in seen:
            location = document.locate(["cases", index, "record", "id"])
            raise StandardsInvalid(
                [
                    SourceError(
                        location,
                        _("record id {id!r} is already used by case {case}").format(
                            id=record.id, case=seen[record.id] + 1
                        ),
                    )
                ]
            )
        seen[record.id] = index
        records.append(record)
    as_of = _as_of(document)
    collector = _Collector()
    engine.audit(records, collector, all_outcomes=True, as_of=as_of)
    results = []
    for index, (case, record) in enumerate(zip(cases, records, strict=True)):
        expected = {_rule_key(standard.id, key): value for key, value in case["expect"].items()}
        found = collector.by_record.get(record.id, {})
        results.append(
            CaseResult(
                fixture=str(path),
                name=case.get("name", _("case {number}").format(number=index + 1)),
                record=record.id,
                location=document.locate(["cases", index]),
                expected=expected,
                actual={rule: finding.outcome for rule, finding in found.items()},
                messages={rule: finding.message for rule, finding in found.items()},
                findings=dict(found),
            )
        )
    _check_rule_names(document, cases, standard.id, {rule.id for rule in standard.rules})
    return results


def _rule_key(standard_id: str, key: str) -> str:
    prefix = standard_id + "/"
    return key[len(prefix) :] if key.startswith(prefix) else key


def _check_rule_names(
    document: Document, cases: list[dict[str, Any]], standard_id: str, rule_ids: set[str]
) -> None:
    errors = [
        SourceError(
            document.locate_key(["cases", index, "expect", key]),
            _("the standard {id!r} has no rule {rule!r}").format(id=standard_id, rule=key),
        )
        for index, case in enumerate(cases)
        for key in case["expect"]
        if _rule_key(standard_id, key) not in rule_ids
    ]
    if errors:
        raise StandardsInvalid(errors)


def _standard_document(path: Path, document: Document) -> Document:
    reference = document.data.get("standard")
    if isinstance(reference, Mapping):
        node = child_node(document.node, "standard") if document.node is not None else None
        return Document(document.path, reference, node)
    if reference is None:
        stem = path.name[: -len(next(s for s in FIXTURE_SUFFIXES if path.name.lower().endswith(s)))]
        candidates = [path.with_name(stem + suffix) for suffix in (".yaml", ".yml")]
        target = next((c for c in candidates if c.exists()), candidates[0])
    else:
        target = (path.parent / reference).resolve()
    if not target.exists():
        raise StandardsInvalid(
            [
                SourceError(
                    document.locate(["standard"]),
                    _("the standard {path} does not exist").format(path=target),
                )
            ]
        )
    return load_yaml_file(target)


def _as_of(document: Document) -> datetime | None:
    raw = document.data.get("as_of")
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise StandardsInvalid(
            [
                SourceError(
                    document.locate(["as_of"]),
                    _("{value!r} is not a timestamp with an offset").format(value=raw),
                )
            ]
        )
    if outside_plausible_range(moment):
        # As for audit --as-of: the in-flight clock works its way to the moment.
        why = _("{raw!r} is outside the dates rulecore audits, {range}")
        raise StandardsInvalid(
            [SourceError(document.locate(["as_of"]), why.format(raw=raw, range=PLAUSIBLE_RANGE))]
        )
    return moment


class _Collector:
    def __init__(self) -> None:
        self.by_record: dict[str, dict[str, Finding]] = {}

    def finding(self, finding: Finding) -> None:
        self.by_record.setdefault(finding.record, {})[finding.rule] = finding

    def rejection(self, rejection: Rejection) -> None:
        pass

    def close(self, summary: Summary) -> None:
        pass
