"""The service's endpoints, as one Starlette application."""

from __future__ import annotations

import json
import signal
import sys
import tempfile
import traceback
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import anyio
import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rulecore import __version__
from rulecore._checks import AnyCheck, CrossRecordCheck
from rulecore._engine import Engine
from rulecore._findings import finding_json
from rulecore._i18n import _, ngettext
from rulecore._model import Record, decode_record
from rulecore._plugins import Registry
from rulecore._standards import StandardsInvalid, load_standards, unknown_check
from rulecore._yaml import SourceError
from rulecore.default_readers import explain_invalid_record

from ._audit import audit_endpoint
from ._config import ServiceConfig
from ._http import (
    BearerToken,
    Problem,
    RequestLog,
    TimeLimit,
    json_response,
    located,
    read_body,
    timed_out,
)
from ._openapi import openapi_document
from ._requests import parse_as_of, refuse_unknown_query, safe_file_name, service_of
from ._service import Service

_encode = msgspec.json.Encoder().encode


# ---------------------------------------------------------------------------------------------
# POST /v1/evaluate
# ---------------------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(
        _("{name} is not a JSON value (JSON has no NaN or Infinity)").format(name=name)
    )


def parse_record(body: bytes) -> Record:
    """One record from a request body; 400 when it is not JSON, 422 when it is not a record.

    The messages are the ones a rejected line of an audit gets, located in the JSON
    (``at $.events[0].at: ...``).
    """
    try:
        return decode_record(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        try:
            json.loads(body, parse_constant=_refuse_constant)
        except ValueError as parse_error:  # UnicodeDecodeError and JSONDecodeError too
            raise Problem(
                400, "invalid_json", _("not valid JSON: {why}").format(why=parse_error)
            ) from None
        except RecursionError:
            pass  # valid JSON, nested too deeply to read: explained below
        raise Problem(422, "invalid_record", explain_invalid_record(body, error)) from None


def evaluate_body(engine: Engine, body: bytes, as_of: datetime | None) -> bytes:
    """The answer to ``/v1/evaluate``: the record's id and every outcome, with evidence."""
    record = parse_record(body)
    findings = engine.evaluate(record, as_of)
    return b"".join(
        (
            b'{"record":',
            _encode(record.id),
            b',"findings":[',
            b",".join(finding_json(finding) for finding in findings),
            b"]}",
        )
    )


async def evaluate(request: Request) -> Response:
    service = service_of(request)
    refuse_unknown_query(request.query_params.keys(), ("as_of",))
    as_of = parse_as_of(request.query_params.get("as_of"))
    _identity_only(request)
    body = await read_body(request, service.config.max_body)
    answer = await service.in_thread(evaluate_body, service.engine, body, as_of)
    return Response(answer, media_type="application/json")


def _identity_only(request: Request) -> None:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise Problem(
            415,
            "unsupported_encoding",
            _("this endpoint reads plain bodies, not Content-Encoding {encoding!r}").format(
                encoding=encoding
            ),
        )


# ---------------------------------------------------------------------------------------------
# POST /v1/validate
# ---------------------------------------------------------------------------------------------


def validate_text(body: bytes, name: str, registry: Registry) -> dict[str, Any]:
    """What ``rulecore validate`` says of ``body`` as the file ``name``: counts, or errors."""
    with tempfile.TemporaryDirectory(prefix="rulecore-validate-") as folder:
        path = Path(folder) / safe_file_name(name, "standard.yaml")
        path.write_bytes(body)
        try:
            standards = load_standards([path], registry)
        except StandardsInvalid as invalid:
            rename = {str(path): name}
            errors = [located(error, rename) for error in invalid.errors]
            return {"valid": False, "errors": errors}
    rules = sum(len(standard.rules) for standard in standards)
    return {
        "valid": True,
        "standards": [standard.id for standard in standards],
        "rules": rules,
    }


async def validate(request: Request) -> Response:
    service = service_of(request)
    refuse_unknown_query(request.query_params.keys(), ("name",))
    name = request.query_params.get("name") or "standard.yaml"
    _identity_only(request)
    body = await read_body(request, service.config.max_body)
    result = await service.in_thread(validate_text, body, name, service.registry)
    if not result["valid"]:
        raise Problem(
            422,
            "invalid_standard",
            ngettext(
                "the standard is not valid: {count} problem",
                "the standard is not valid: {count} problems",
                len(result["errors"]),
            ).format(count=len(result["errors"])),
            result["errors"],
        )
    return json_response(result)


# ---------------------------------------------------------------------------------------------
# GET /v1/standards, /v1/checks, /v1/checks/{name}
# ---------------------------------------------------------------------------------------------


async def standards(request: Request) -> Response:
    service = service_of(request)
    served = [
        {
            "id": standard.id,
            "version": standard.version,
            "title": standard.title,
            "dimension": standard.dimension,
            "side": standard.side,
            "path": standard.path,
            "rules": [
                {
                    "id": rule.id,
                    "check": rule.check,
                    "plugin": rule.plugin,
                    "severity": rule.severity,
                    "cross_record": rule.cross_record,
                }
                for rule in standard.rules
            ],
        }
        for standard in service.engine.standards
    ]
    return json_response({**service.describe(), "standards": served})


def check_summary(name: str, plugin: str, check: AnyCheck) -> dict[str, Any]:
    return {
        "name": name,
        "plugin": plugin,
        "dimension": check.dimension,
        "unit": check.unit,
        "better": check.better,
        "cross_record": isinstance(check, CrossRecordCheck),
    }


async def checks(request: Request) -> Response:
    registry = service_of(request).registry
    listed = [check_summary(name, *entry) for name, entry in registry.checks.items()]
    return json_response({"checks": listed})


async def check(request: Request) -> Response:
    registry = service_of(request).registry
    name = request.path_params["name"]
    entry = registry.checks.get(name)
    if entry is None:
        raise Problem(404, "unknown_check", unknown_check(name, registry))
    plugin, found = entry
    return json_response(
        {
            **check_summary(name, plugin, found),
            "doc": found.doc,
            "default_thresholds": dict(found.default_thresholds),
            "params_schema": found.params_schema,
            "example": found.example,
        }
    )


# ---------------------------------------------------------------------------------------------
# POST /v1/reload, probes, the OpenAPI document
# ---------------------------------------------------------------------------------------------


async def reload(request: Request) -> Response:
    service = service_of(request)
    try:
        await service.reload()
    except StandardsInvalid as invalid:
        raise _reload_refused(invalid) from None
    except SourceError as error:
        raise _reload_refused(StandardsInvalid([error])) from None
    return json_response({"reloaded": True, **service.describe()})


def _reload_refused(invalid: StandardsInvalid) -> Problem:
    count = len(invalid.errors)
    message = ngettext(
        "the standards were not reloaded, and the ones loaded before still serve: {count} problem",
        "the standards were not reloaded, and the ones loaded before still serve: {count} problems",
        count,
    )
    return Problem(
        422,
        "invalid_standard",
        message.format(count=count),
        [located(error) for error in invalid.errors],
    )


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    return json_response({"status": "ready", **service_of(request).describe()})


async def openapi(request: Request) -> Response:
    return json_response(request.app.state.openapi)


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------


async def _problem(request: Request, problem: Exception) -> Response:
    assert isinstance(problem, Problem)
    return problem.response()


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    message = {
        404: _("no such endpoint: {path} (see /openapi.json)").format(path=request.url.path),
        405: _("{method} is not allowed on {path}").format(
            method=request.method, path=request.url.path
        ),
    }.get(error.status_code, str(error.detail))
    return Problem(error.status_code, code, message, headers=error.headers).response()


async def _timed_out(request: Request, error: Exception) -> Response:
    # TimeoutError raised inside a handler (the audit's own deadline): the time limit's 504.
    return timed_out(service_of(request).config.request_timeout).response()


async def _unexpected(request: Request, error: Exception) -> Response:
    traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    return Problem(500, "internal", _("the service failed; its log says why")).response()


# ---------------------------------------------------------------------------------------------
# the application
# ---------------------------------------------------------------------------------------------


def _reload_on_hangup(service: Service, task_group: anyio.abc.TaskGroup) -> Callable[[], None]:
    async def reload_and_log() -> None:
        try:
            await service.reload()
        except StandardsInvalid as invalid:
            errors = [str(error) for error in invalid.errors]
            _log({"event": "reload", "status": "refused", "errors": errors})
            return
        _log({"event": "reload", "status": "ok", **service.describe()})

    def on_hangup() -> None:
        task_group.start_soon(reload_and_log)

    return on_hangup


def _log(line: Mapping[str, Any]) -> None:
    sys.stderr.write(json.dumps(line, ensure_ascii=False) + "\n")
    sys.stderr.flush()


def create_app(
    config: ServiceConfig,
    registry: Registry,
    engine: Engine,
    log: IO[str] | None = None,
) -> Starlette:
    """The service as an ASGI application, serving ``engine`` (compiled from
    ``config.standards`` by ``registry``'s checks).  ``log`` receives the request log
    (stderr by default)."""
    service = Service(config, registry, engine)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.start()
        async with anyio.create_task_group() as task_group:
            hangup = _listen_for_hangup(_reload_on_hangup(service, task_group))
            try:
                yield
            finally:
                if hangup is not None:
                    hangup.remove_signal_handler(signal.SIGHUP)
                task_group.cancel_scope.cancel()

    routes = [
        Route("/v1/evaluate", evaluate, methods=["POST"]),
        Route("/v1/audit", audit_endpoint, methods=["POST"]),
        Route("/v1/validate", validate, methods=["POST"]),
        Route("/v1/standards", standards, methods=["GET"]),
        Route("/v1/checks", checks, methods=["GET"]),
        Route("/v1/checks/{name}", check, methods=["GET"]),
        Route("/v1/reload", reload, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    middleware = [
        Middleware(RequestLog, stream=log),
        Middleware(BearerToken, token=config.token),
        Middleware(TimeLimit, seconds=config.request_timeout),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            Problem: _problem,
            HTTPException: _http_error,
            TimeoutError: _timed_out,
            Exception: _unexpected,
        },
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.openapi = openapi_document(__version__)
    return app


def _listen_for_hangup(reload: Callable[[], None]) -> Any:
    """Reload on SIGHUP, where there is one and this is the main thread's loop (an app
    embedded in another server's thread goes without); the loop, to stop listening."""
    import asyncio

    if not hasattr(signal, "SIGHUP"):
        return None
    try:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, reload)
    except (RuntimeError, ValueError, NotImplementedError):
        return None
    return loop
