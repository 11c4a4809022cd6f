"""rulecore: audit service interactions against YAML service standards.

The public API is what this module exports (``__all__``); everything else is private.

Embedding::

    import rulecore

    engine = rulecore.Engine.from_paths(["standards/"])   # compile once
    for finding in engine.evaluate(record):               # then evaluate, from any thread
        ...

Writing a plugin::

    from rulecore import Check, Measurement, hookimpl

    @hookimpl
    def rulecore_register_checks(register):
        register(Check(name="my_check", dimension="flow", doc="...", params_schema={...},
                       compile=compile_my_check))

See ``docs/plugins.md`` for the whole guide.
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._baseline import Baseline, load_baseline
from ._checks import (
    OUTCOMES,
    Accumulator,
    AnyCheck,
    Check,
    CompileContext,
    CrossRecordCheck,
    DrainingAccumulator,
    EvaluationContext,
    Evaluator,
    Evidence,
    EvidenceSource,
    Measurement,
)
from ._conditions import compile_scope
from ._durations import format_duration, parse_duration
from ._engine import AuditRun, Engine
from ._findings import Finding, Waiver, fingerprint
from ._i18n import language, set_language
from ._inputs import InputError, plan_inputs, read_inputs
from ._model import Event, Record, decode_record, record_from_mapping, record_to_builtins
from ._parallel import ShardFailed, audit_files
from ._plugins import (
    BLOCK_ENV,
    ENTRY_POINT_GROUP,
    PluginManager,
    PluginProblem,
    Registry,
    collect,
    get_plugin_manager,
    hookimpl,
)
from ._readers import Item, Reader, Rejection
from ._schemas import load_schema
from ._selectors import (
    SELECTOR_SCHEMA,
    compile_selector,
    describe_selector,
    find_event,
    selector_types,
)
from ._standards import Rule, Standard, StandardsInvalid, load_standards
from ._summary import Counts, Summary
from ._thresholds import Thresholds, format_value
from ._timeline import (
    OwnerChange,
    TimelineIndex,
    event_times,
    field_key,
    find_position,
    known_events,
    owner_changes,
    positions_of,
    timeline_index,
)
from ._waivers import Waivers, load_waivers
from ._writers import ReportSink, Writer
from ._yaml import Location, SourceError
from .caseclock import CASE_CLOCK_PROPERTIES, CaseClock, CaseView, OpenPeriod, StatusChange

__all__ = [
    "BLOCK_ENV",
    "CASE_CLOCK_PROPERTIES",
    "ENTRY_POINT_GROUP",
    "OUTCOMES",
    "SELECTOR_SCHEMA",
    "Accumulator",
    "AnyCheck",
    "AuditRun",
    "Baseline",
    "CaseClock",
    "CaseView",
    "Check",
    "CompileContext",
    "Counts",
    "CrossRecordCheck",
    "DrainingAccumulator",
    "Engine",
    "EvaluationContext",
    "Evaluator",
    "Event",
    "Evidence",
    "EvidenceSource",
    "Finding",
    "InputError",
    "Item",
    "Location",
    "Measurement",
    "OpenPeriod",
    "OwnerChange",
    "PluginManager",
    "PluginProblem",
    "Reader",
    "Record",
    "Registry",
    "Rejection",
    "ReportSink",
    "Rule",
    "ShardFailed",
    "SourceError",
    "Standard",
    "StandardsInvalid",
    "StatusChange",
    "Summary",
    "Thresholds",
    "TimelineIndex",
    "Waiver",
    "Waivers",
    "Writer",
    "__version__",
    "audit_files",
    "collect",
    "compile_scope",
    "compile_selector",
    "decode_record",
    "describe_selector",
    "event_times",
    "field_key",
    "find_event",
    "find_position",
    "fingerprint",
    "format_duration",
    "format_value",
    "get_plugin_manager",
    "hookimpl",
    "known_events",
    "language",
    "load_baseline",
    "load_schema",
    "load_standards",
    "load_waivers",
    "owner_changes",
    "parse_duration",
    "plan_inputs",
    "positions_of",
    "read_inputs",
    "record_from_mapping",
    "record_to_builtins",
    "selector_types",
    "set_language",
    "timeline_index",
]
