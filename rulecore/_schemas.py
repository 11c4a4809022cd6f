"""The JSON Schemas rulecore publishes: records, standards, schedules and reports."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

SCHEMA_NAMES = ("record", "standard", "schedule", "report", "fixture", "agreement")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Return the published schema called ``name`` (``record``, ``standard``, ``report``...)."""
    text = resources.files("rulecore").joinpath(f"schemas/{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
