"""Declarative field mappings: real exports (CSV, JSON lines) in, interaction records out.

Auditors have exports, not rulecore records: one row per ticket from a help desk or a 311
system (its history in timestamp columns, or nested as an array of events in each JSON line),
or an event log with one row per update.  A mapping file (YAML, ``kind: mapping``)
says how the export's columns become a record's id, attributes and events, and this plugin
registers the ``mapping`` reader that applies it::

    rulecore audit incidents.csv.gz --mapping servicenow.mapping.yaml -s standards/
    rulecore map incidents.csv.gz --mapping servicenow.mapping.yaml -o records.jsonl

Nothing is lost: a row that cannot be read becomes a :class:`rulecore.Rejection` with its
file, line, reason and raw text, and :class:`ReadCounts` reconciles rows and cases.  The
mapping reference is ``docs/mapping.md``.
"""

from __future__ import annotations

from ._build import REJECTED_EVENTS_ATTRIBUTE, REJECTED_ROWS_ATTRIBUTE, ReadCounts
from ._read import MAPPING_OPTION, Export, read_export, read_mapped
from ._register import rulecore_register_readers
from ._spec import Mapping, load_mapping, mapping_schema

__all__ = [
    "MAPPING_OPTION",
    "REJECTED_EVENTS_ATTRIBUTE",
    "REJECTED_ROWS_ATTRIBUTE",
    "Export",
    "Mapping",
    "ReadCounts",
    "load_mapping",
    "mapping_schema",
    "read_export",
    "read_mapped",
    "rulecore_register_readers",
]
