"""The service's OpenAPI 3.1 description, served at ``/openapi.json``.

Records, reports and standards are described by the JSON Schemas rulecore publishes
(``rulecore/schemas``), included whole under ``components.schemas`` (``Record``, ``Report``,
``Standard``) when the document is built, at start, so the two cannot drift.  Two things change
on the way in, and only these, so that tools that resolve ``$ref`` as a JSON pointer into the
document (most OpenAPI tools, schemathesis) read them as JSON Schema would: ``$schema`` and
``$id`` are left out (the document's dialect is 2020-12 already), and each internal reference
``#/$defs/NAME`` becomes ``#/components/schemas/COMPONENT/$defs/NAME``.
:func:`published_form` undoes both, and a test holds the result equal to the published file.
"""

from __future__ import annotations

from typing import Any

from rulecore._schemas import load_schema

#: The published schemas included in the document, by their component name.
EMBEDDED = {"Record": "record", "Report": "report", "Standard": "standard"}

_FINDING = {"$ref": "#/components/schemas/Report/$defs/finding"}
_REJECTION = {"$ref": "#/components/schemas/Report/$defs/rejection"}
_ERROR = {"$ref": "#/components/schemas/Error"}
_OBJECT = {"type": "object"}

_ERROR_SCHEMA = {
    "type": "object",
    "description": "Why a request was refused: a code, a message, and located problems.",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "A stable code: invalid_json, timeout..."},
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Located problems (a standard's file, line and column).",
            "items": {
                "type": "object",
                "required": ["file", "line", "column", "message", "text"],
                "properties": {
                    "file": {"type": "string"},
                    "line": {"type": "integer"},
                    "column": {"type": "integer"},
                    "message": {"type": "string"},
                    "text": {"type": "string", "description": "file:line:column: message"},
                },
            },
        },
    },
}

_STREAM_LINE = {
    "description": "One line of the JSON lines report: a finding or rejection as it comes, "
    "the summary last (or an error line, when the audit stopped).",
    "oneOf": [
        {"allOf": [{"properties": {"type": {"const": "finding"}}}, _FINDING]},
        {"allOf": [{"properties": {"type": {"const": "rejection"}}}, _REJECTION]},
        {"properties": {"type": {"const": "summary"}}, "type": "object"},
        {"properties": {"type": {"const": "error"}}, "type": "object"},
    ],
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_COMMON = {
    "401": _problem("The token is missing or wrong (when RULECORE_TOKEN is set)."),
    "413": _problem("The body is larger than --max-body."),
    "504": _problem("The request took longer than --request-timeout."),
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_AS_OF = _query(
    "as_of",
    "Judge open cases as of this moment (ISO 8601 with a UTC offset), like --as-of.",
    {"type": "string", "format": "date-time"},
)


def _paths() -> dict[str, Any]:
    evaluate = {
        "summary": "Evaluate one record",
        "description": "Every outcome of the per-record rules that apply to the record, passes "
        "and not_applicable included, each with its evidence (a finding of the JSON report). "
        "Cross-record rules need a stream: use /v1/audit.",
        "operationId": "evaluate",
        "parameters": [_AS_OF],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Record"}}},
        },
        "responses": {
            "200": _json(
                "The record's outcomes.",
                {
                    "type": "object",
                    "required": ["record", "findings"],
                    "properties": {
                        "record": {"type": "string"},
                        "findings": {"type": "array", "items": _FINDING},
                    },
                },
            ),
            "400": _problem("The body is not JSON, or a query parameter is wrong."),
            "415": _problem("A Content-Encoding other than identity."),
            "422": _problem("The body is JSON but not a record; the message locates the fault."),
            **_COMMON,
        },
    }
    audit = {
        "summary": "Audit records",
        "description": "A body of records as JSON lines, plain or gzip. The answer is the JSON "
        "report, byte for byte what `rulecore audit --format json` writes for the same file "
        "(named by ?source=), or, with Accept: application/x-ndjson, the JSON lines report as "
        "a stream.",
        "operationId": "audit",
        "parameters": [
            _query(
                "source",
                "The name rejections give as their source (default: body).",
                {"type": "string"},
            ),
            _query(
                "all_outcomes",
                "Report passes and not_applicable outcomes too.",
                {"type": "boolean"},
            ),
            _AS_OF,
            _query(
                "by",
                "Break compliance down by this record attribute (repeatable).",
                {"type": "array", "items": {"type": "string"}},
            ),
        ],
        "requestBody": {
            "required": True,
            "content": {
                # JSON lines: each item of the array is one line of the body.
                "application/x-ndjson": {
                    "schema": {
                        "type": "array",
                        "description": "One record per line (the body is not a JSON array).",
                        "items": {"$ref": "#/components/schemas/Record"},
                    }
                },
                "application/gzip": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        "responses": {
            "200": {
                "description": "The report.",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Report"}},
                    "application/x-ndjson": {"schema": _STREAM_LINE},
                },
            },
            "400": _problem("Content-Encoding: gzip on a body that is not gzip, or a bad query."),
            "415": _problem("A Content-Encoding other than identity or gzip."),
            "422": _problem("No records in the body, or input the mapping cannot read."),
            **_COMMON,
        },
    }
    validate = {
        "summary": "Validate a standard",
        "description": "The standard's YAML, checked as `rulecore validate` checks a file "
        "(named by ?name=): every problem at file:line:column.",
        "operationId": "validate",
        "parameters": [
            _query(
                "name", "The file name errors name (default: standard.yaml).", {"type": "string"}
            )
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {
                    "schema": {"type": "string", "description": "YAML; see Standard."}
                }
            },
        },
        "responses": {
            "200": _json(
                "The standard is valid.",
                {
                    "type": "object",
                    "required": ["valid", "standards", "rules"],
                    "properties": {
                        "valid": {"const": True},
                        "standards": {"type": "array", "items": {"type": "string"}},
                        "rules": {"type": "integer"},
                    },
                },
            ),
            "415": _problem("A Content-Encoding other than identity."),
            "422": _problem("The standard is not valid: the located problems."),
            **_COMMON,
        },
    }
    reload = {
        "summary": "Reload the standards",
        "description": "Compile the standards again from their files and swap them in; when "
        "they are not valid, the ones loaded before keep serving. SIGHUP does the same.",
        "operationId": "reload",
        "responses": {
            "200": _json("Reloaded.", _OBJECT),
            "422": _problem("Not reloaded: the located problems."),
            **_COMMON,
        },
    }

    def get(operation: str, summary: str, **extra: Any) -> dict[str, Any]:
        responses = {"200": _json(summary, _OBJECT), "401": _COMMON["401"], "504": _COMMON["504"]}
        responses.update(extra.pop("responses", {}))
        return {
            "get": {"summary": summary, "operationId": operation, "responses": responses, **extra}
        }

    return {
        "/v1/evaluate": {"post": evaluate},
        "/v1/audit": {"post": audit},
        "/v1/validate": {"post": validate},
        "/v1/reload": {"post": reload},
        "/v1/standards": get("standards", "The standards being served, with their rules."),
        "/v1/checks": get("checks", "The installed checks."),
        "/v1/checks/{name}": get(
            "check",
            "One check: what it measures, its parameters and an example.",
            parameters=[
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            responses={"404": _problem("No check has this name.")},
        ),
        "/healthz": get("healthz", "The process is up (needs no token)."),
        "/readyz": get("readyz", "The standards are compiled and serving (needs no token)."),
        "/openapi.json": get("openapi", "This document."),
    }


_IDENTITY = ("$schema", "$id")


def as_component(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """A published schema as the component ``name``: without ``$schema`` and ``$id``, its
    internal references made pointers into the document."""
    prefix = f"#/components/schemas/{name}/"
    included = _rebase(schema, "#/", prefix)
    return {key: value for key, value in included.items() if key not in _IDENTITY}


def published_form(component: dict[str, Any], name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The component ``name`` as it was published: :func:`as_component` undone, given the
    published ``schema``'s ``$schema`` and ``$id``."""
    restored = _rebase(component, f"#/components/schemas/{name}/", "#/")
    identity = {key: schema[key] for key in _IDENTITY if key in schema}
    return {**identity, **restored}


def _rebase(node: Any, old: str, new: str) -> Any:
    if isinstance(node, dict):
        return {
            key: new + value[len(old) :]
            if key == "$ref" and isinstance(value, str) and value.startswith(old)
            else _rebase(value, old, new)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebase(item, old, new) for item in node]
    return node


def openapi_document(version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the service, with the published schemas included whole."""
    schemas: dict[str, Any] = {
        name: as_component(load_schema(schema), name) for name, schema in EMBEDDED.items()
    }
    schemas["Error"] = _ERROR_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "rulecore",
            "version": version,
            "description": "Audit service interactions against YAML service standards. "
            "See docs/service.md.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": _paths(),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}, {}],
    }
