"""SARIF 2.1.0: each warn, fail or error finding as a result, each rule as a reporting rule.

Interaction records have no source file, so a result's location is a logical one named after
the record; ``partialFingerprints`` carries rulecore's fingerprint, so dashboards track a finding
across runs exactly as baselines do.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from typing import IO, Any

import rulecore
from rulecore import Finding, Rejection, Summary

LEVELS = {"fail": "error", "error": "error", "warn": "warning"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


class SarifSink:
    needs_evidence = False  # it shows no evidence

    def __init__(self, stream: IO[str], options: Mapping[str, Any]) -> None:
        self.stream = stream
        self.results = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.count = 0

    def finding(self, finding: Finding) -> None:
        level = LEVELS.get(finding.outcome)
        if level is None:
            return
        result = {
            "ruleId": f"{finding.standard}/{finding.rule}",
            "level": level,
            "message": {"text": finding.message},
            "locations": [{"logicalLocations": [{"name": finding.record, "kind": "object"}]}],
            "partialFingerprints": {"rulecore/v1": finding.fingerprint},
            "properties": {
                "outcome": finding.outcome,
                "dimension": finding.dimension,
                "severity": finding.severity,
                "measured": finding.measured,
            },
        }
        self.results.write(("," if self.count else "") + json.dumps(result, ensure_ascii=False))
        self.count += 1

    def rejection(self, rejection: Rejection) -> None:
        pass

    def close(self, summary: Summary) -> None:
        rules = [
            {
                "id": f"{rule.standard}/{rule.rule}",
                "name": rule.rule,
                "shortDescription": {"text": f"{rule.standard}: {rule.rule} ({rule.check})"},
                "properties": {"dimension": rule.dimension, "severity": rule.severity},
            }
            for rule in summary.rules
        ]
        head = {
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "rulecore",
                            "version": rulecore.__version__,
                            "informationUri": "https://rulecore.dev",
                            "rules": rules,
                        }
                    },
                    "results": "@RESULTS@",
                }
            ],
        }
        before, after = json.dumps(head, ensure_ascii=False).split('"@RESULTS@"')
        self.stream.write(before + "[")
        self.results.seek(0)
        while chunk := self.results.read(1 << 16):
            self.stream.write(chunk)
        self.results.close()
        self.stream.write("]" + after + "\n")
