"""JUnit XML: one test suite per standard, one test case per rule.

A rule fails the build when any record failed it (or a check errored); its failure message
lists the first failing records.  Warnings are reported in the case's output but do not fail
it: ``rulecore audit --fail-on warn`` is the gate for that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any
from xml.etree import ElementTree as ET

from rulecore import Finding, Rejection, Summary
from rulecore.i18n import _, outcome_label

from ._collect import FindingsByRule

LISTED = 50


class JunitSink:
    needs_evidence = False  # it shows no evidence

    def __init__(self, stream: IO[str], options: Mapping[str, Any]) -> None:
        self.stream = stream
        self.findings = FindingsByRule(LISTED)

    def finding(self, finding: Finding) -> None:
        if finding.outcome in ("fail", "error", "warn"):
            self.findings.add(finding)

    def rejection(self, rejection: Rejection) -> None:
        pass

    def close(self, summary: Summary) -> None:
        root = ET.Element("testsuites", name="rulecore audit")
        totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for standard in summary.standards:
            suite = ET.SubElement(root, "testsuite", name=standard.standard)
            counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
            for rule in (r for r in summary.rules if r.standard == standard.standard):
                counts["tests"] += 1
                case = ET.SubElement(suite, "testcase", classname=standard.standard, name=rule.rule)
                kept = self.findings.of(rule.standard, rule.rule)
                verdict = _verdict(rule.counts.errors, rule.counts.failed, rule.counts.judged)
                if verdict == "skipped":
                    counts["skipped"] += 1
                    ET.SubElement(case, "skipped", message=_("no record was judged by this rule"))
                elif verdict != "passed":
                    counts["errors" if verdict == "error" else "failures"] += 1
                    bad = [f for f in kept if f.outcome in ("fail", "error")]
                    element = ET.SubElement(
                        case,
                        "error" if verdict == "error" else "failure",
                        message=_("{failed} of {judged} records failed, {errors} errors").format(
                            failed=rule.counts.failed,
                            judged=rule.counts.judged,
                            errors=rule.counts.errors,
                        ),
                    )
                    element.text = "\n".join(_line(f) for f in bad)
                warned = [f for f in kept if f.outcome == "warn"]
                if warned:
                    ET.SubElement(case, "system-out").text = "\n".join(_line(f) for f in warned)
            for key, value in counts.items():
                suite.set(key, str(value))
                totals[key] += value
        for key, value in totals.items():
            root.set(key, str(value))
        ET.indent(root)
        self.stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        self.stream.write(ET.tostring(root, encoding="unicode"))
        self.stream.write("\n")


def _verdict(errors: int, failed: int, judged: int) -> str:
    if errors:
        return "error"
    if failed:
        return "failed"
    return "passed" if judged else "skipped"


def _line(finding: Finding) -> str:
    return f"{outcome_label(finding.outcome, upper=True)} {finding.record}: {finding.message}"
