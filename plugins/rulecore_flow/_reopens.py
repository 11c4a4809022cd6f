"""Reopens: how often a case that was put to rest had to be taken up again.

Two ways to see a reopening, to fit how the data records it; both are on by default, and one
event that is both counts once:

* **an event**: each event matching ``reopen.events`` (default: type ``reopened``);
* **a change of status**: the status is read as ``status`` says (default: ``fields.status`` of
  any event carrying it), and a change *from* one of ``reopen.resolved_statuses`` *to* a status
  outside that list is a reopening.  List both the resolved and the closed statuses there:
  moving between them (Resolved → Closed) is not a reopening, leaving them (Resolved → Active,
  Closed → Active) is.

The status form is how an event log such as ServiceNow's maps: one event per update, each with
the incident's state.  Counted this way, ServiceNow's own ``reopen_count`` is matched for every
incident but one, whose rows the source itself dates out of order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rulecore import (
    CASE_CLOCK_PROPERTIES,
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Evidence,
    Measurement,
    Record,
)
from rulecore.caseclock import ReopenRule, StatusRule
from rulecore.i18n import _

from ._common import SELECTOR_DEFS, event_evidence

REOPENS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "reopen": CASE_CLOCK_PROPERTIES["reopen"],
        "status": CASE_CLOCK_PROPERTIES["status"],
    },
    "$defs": SELECTOR_DEFS,
}


def compile_reopens(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    reopen = ReopenRule.compile(params.get("reopen"))
    status = StatusRule.compile(params.get("status"))
    # A standard that names its resolved statuses is saying the records carry statuses, so a
    # record without any cannot be judged; with the defaults, statuses are only a bonus.
    needs_status = "resolved_statuses" in (params.get("reopen") or {})

    def reopens(record: Record, context: EvaluationContext) -> Measurement:
        if not record.events:
            return Measurement.not_applicable(_("the record has no events"))
        changes = {change.event: change for change in status.changes(record.events)}
        found: list[Evidence] = []
        for index, event in enumerate(record.events):
            change = changes.get(index)
            if change is not None and reopen.reopens(change):
                detail = f"{change.previous} → {change.status}"
                found.append(event_evidence(record, index, "reopened", detail))
            elif reopen.is_reopen_event(event):
                detail = _("{type} event").format(type=event.type)
                found.append(event_evidence(record, index, "reopened", detail))
        if needs_status and not changes and not found:
            return Measurement.not_applicable(
                _("no event carries a {field}").format(field=status.field)
            )
        note = "; ".join(
            _("{detail} at event {event}").format(detail=piece.detail, event=piece.event_index)
            for piece in found
        )
        return Measurement(float(len(found)), tuple(found), note)

    return reopens


REOPENS = Check(
    name="reopens",
    dimension="flow",
    doc=(
        "Number of times the case was reopened.  A reopening is an event matching "
        "reopen.events (default: type reopened), or a change of status from one of "
        "reopen.resolved_statuses (default: resolved, closed) to a status outside that list: "
        "Resolved → Active and Closed → Active count, Resolved → Closed does not.  The status "
        "is read as 'status' says (default: the field status of any event carrying it); "
        "repeating the current status is no change.  An event that is both counts once.  "
        "Lower is better; by default none passes, one warns, more fail.  A record with no "
        "events is not_applicable, and so is one with neither a status nor a reopen event "
        "when the rule names its resolved_statuses.  Evidence marks each reopening at its "
        "event, with the status change it made."
    ),
    params_schema=REOPENS_SCHEMA,
    compile=compile_reopens,
    unit="count",
    better="lower",
    default_thresholds={"desired": 0, "adequate": 1},
    example=(
        "- id: reopen-limit\n"
        "  check: reopens\n"
        "  params:\n"
        "    status: {field: state}\n"
        "    reopen: {resolved_statuses: [Resolved, Closed]}\n"
        "  thresholds: {desired: 0, adequate: 1}\n"
    ),
)
