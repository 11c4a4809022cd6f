"""The service's HTTP plumbing: problems as JSON, bounded bodies, the token, the time limit
and the request log.

The three middlewares are plain ASGI, so that they see every byte and every status (a
streamed report included) and cost one function call each.
"""

from __future__ import annotations

import hmac
import json
import sys
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime, timezone
from typing import IO, Any

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rulecore._i18n import _
from rulecore._yaml import SourceError

#: Paths that answer without the token: a load balancer's probes carry no secret.
OPEN_PATHS = frozenset(("/healthz", "/readyz"))
#: Where the time limit's deadline (``time.monotonic()``) is kept in the request's scope.
DEADLINE = "rulecore.deadline"


class Problem(Exception):
    """A request the service cannot answer as asked: its status, a code, and what is wrong.

    ``errors`` lists located problems (a standard's ``file:line:column``), when there are any.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: Iterable[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = list(errors)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body

    def response(self) -> Response:
        return json_response(self.body(), self.status, self.headers)


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=None).encode("utf-8")
    return Response(body, status, dict(headers or {}), media_type="application/json")


def located(error: SourceError, rename: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A located problem as JSON: file, line, column, message, and the one line
    ``rulecore validate`` prints for it.  ``rename`` gives a temporary file its caller's name."""
    where = error.location
    path, message = where.path, error.message
    for temporary, name in (rename or {}).items():
        path = name if path == temporary else path
        message = message.replace(temporary, name)
    return {
        "file": path,
        "line": where.line,
        "column": where.column,
        "message": message,
        "text": f"{path}:{where.line}:{where.column}: {message}",
    }


# ---------------------------------------------------------------------------------------------
# bodies, bounded while they arrive
# ---------------------------------------------------------------------------------------------


def too_large(limit: int) -> Problem:
    return Problem(
        413,
        "body_too_large",
        _("the request body is larger than the service accepts ({limit} bytes; --max-body)").format(
            limit=limit
        ),
    )


def _declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise too_large(limit)  # refused before a byte of it is read


async def _chunks(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive, refused (413) as soon as more than ``limit`` bytes
    have, and 400 when the client goes away before the end of it."""
    _declared_length(request, limit)
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            yield chunk
    except ClientDisconnect:
        raise Problem(
            400,
            "incomplete_body",
            _("the client went away after {size} bytes, before the end of the body").format(
                size=size
            ),
        ) from None


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, bounded by ``limit`` as it arrives (:func:`_chunks`)."""
    return b"".join([chunk async for chunk in _chunks(request, limit)])


async def spool_body(request: Request, limit: int, handle: IO[bytes]) -> int:
    """Write the body to ``handle`` as it arrives, bounded by ``limit`` (:func:`_chunks`)."""
    size = 0
    async for chunk in _chunks(request, limit):
        size += len(chunk)
        handle.write(chunk)
    return size


def deadline_of(request: Request) -> float:
    """The moment (``time.monotonic()``) this request's time is up."""
    deadline: float = request.scope.get(DEADLINE, float("inf"))
    return deadline


# ---------------------------------------------------------------------------------------------
# middleware
# ---------------------------------------------------------------------------------------------


async def _send_problem(send: Send, problem: Problem) -> None:
    response = problem.response()
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        }
    )
    await send({"type": "http.response.body", "body": response.body})


class RequestLog:
    """One JSON line per request on stderr: when, method, path, status, duration and bytes."""

    def __init__(self, app: ASGIApp, stream: IO[str] | None = None) -> None:
        self.app = app
        self.stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        seen = {"status": 0, "bytes": 0, "bytes_in": 0}

        async def counting_receive() -> Message:
            message = await receive()
            seen["bytes_in"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        except BaseException:
            seen["status"] = seen["status"] or 500
            raise
        finally:
            self._write(scope, seen, started)

    def _write(self, scope: Scope, seen: Mapping[str, int], started: float) -> None:
        line = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "method": scope["method"],
            "path": scope["path"],
            "status": seen["status"],
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "bytes": seen["bytes"],
            "bytes_in": seen["bytes_in"],
        }
        stream = self.stream or sys.stderr
        stream.write(json.dumps(line) + "\n")
        stream.flush()


class BearerToken:
    """Every request but the probes must carry ``Authorization: Bearer <token>``, or gets 401.

    The token is compared in constant time, so the answer's timing tells nothing about it.
    """

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.expected = b"Bearer " + token.encode("utf-8") if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.expected is None or scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"authorization", b"")
        if hmac.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        problem = Problem(
            401,
            "unauthorized",
            _("this service needs the header 'Authorization: Bearer <token>' with its token"),
            headers={"WWW-Authenticate": 'Bearer realm="rulecore"'},
        )
        await _send_problem(send, problem)


class TimeLimit:
    """A request that takes longer than ``seconds`` (reading its body included) gets 504.

    A streamed answer that is cut by the limit ends without its last line (the summary).
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[DEADLINE] = time.monotonic() + self.seconds
        started = False

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            with anyio.fail_after(self.seconds):
                await self.app(scope, receive, watching_send)
        except TimeoutError:
            if not started:
                await _send_problem(send, timed_out(self.seconds))


def timed_out(seconds: float) -> Problem:
    return Problem(
        504,
        "timeout",
        _(
            "the request took longer than the service allows ({seconds:g} s; --request-timeout)"
        ).format(seconds=seconds),
    )
