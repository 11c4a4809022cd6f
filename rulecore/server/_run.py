"""Running the service: uvicorn, quiet but for the JSON request log."""

from __future__ import annotations

import ipaddress
import json
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from rulecore._engine import Engine
from rulecore._i18n import _
from rulecore._plugins import Registry

from ._app import create_app
from ._config import TOKEN_ENV, CannotListen, ServiceConfig


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Stopped:
    """How the service ended: the signal that stopped it (None if it ended of itself), and
    how many requests it answered."""

    signal: signal.Signals | None
    requests: int


class _Counting:
    """The requests answered, counted for the line said when the service stops."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                self.requests += 1


@contextmanager
def _signals_noted(noted: list[signal.Signals]) -> Iterator[None]:
    """SIGINT and SIGTERM noted rather than raised, around uvicorn's own handling.

    uvicorn answers them with a graceful shutdown and then raises the signal again, for the
    handler that was there before; this one notes it, so that a service stopped that way ends
    as a service (it says so, and SIGTERM exits 0) and not as an interrupted command.
    """
    handled = (signal.SIGINT, signal.SIGTERM)

    def note(signum: int, frame: object) -> None:
        noted.append(signal.Signals(signum))

    previous = {which: signal.signal(which, note) for which in handled}
    try:
        yield
    finally:
        for which, handler in previous.items():
            signal.signal(which, handler)


def run_service(
    config: ServiceConfig, registry: Registry, engine: Engine, host: str, port: int
) -> Stopped:
    """Serve ``engine`` at ``host:port`` until SIGINT or SIGTERM (SIGHUP reloads).

    Returns once the requests in progress have ended, with the signal that stopped it.
    """
    listening = _listen(host, port)
    if not is_loopback(host) and config.token is None:
        sys.stderr.write(
            _(
                "warning: serving on {host} without {variable}: anyone who can reach this port "
                "can use the service; set {variable}, or serve on 127.0.0.1 behind a proxy"
            ).format(host=host, variable=TOKEN_ENV)
            + "\n"
        )
    app = _Counting(create_app(config, registry, engine))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,  # the service writes its own log line per request
            server_header=False,
            lifespan="on",
        )
    )
    started = {
        "event": "listening",
        "url": f"http://{host if ':' not in host else f'[{host}]'}:{port}",
        "standards": len(engine.standards),
        "token": config.token is not None,
        "max_body": config.max_body,
        "request_timeout": config.request_timeout,
    }
    sys.stderr.write(json.dumps(started) + "\n")
    sys.stderr.flush()
    noted: list[signal.Signals] = []
    with _signals_noted(noted):
        server.run(sockets=[listening])
    return Stopped(noted[-1] if noted else None, app.requests)  # the first one, raised last


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening, or :class:`CannotListen` in words.

    Bound here, before uvicorn starts, so that "listening" is only said once it is true.
    """
    try:
        family, kind, protocol, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
        listening = socket.socket(family, kind, protocol)
    except OSError as error:
        raise CannotListen(
            _("cannot listen on {host}:{port}: {why}").format(
                host=host, port=port, why=error.strerror or error
            )
        ) from None
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
        listening.listen(2048)
    except OSError as error:
        listening.close()
        raise CannotListen(
            _("cannot listen on {host}:{port}: {why}; choose another --port or --host").format(
                host=host, port=port, why=(error.strerror or str(error)).lower()
            )
        ) from None
    return listening
