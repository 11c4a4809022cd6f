"""Running the service: uvicorn, quiet but for the JSON request log."""

from __future__ import annotations

import ipaddress
import json
import socket
import sys

import uvicorn

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


def run_service(
    config: ServiceConfig, registry: Registry, engine: Engine, host: str, port: int
) -> None:
    """Serve ``engine`` at ``host:port`` until SIGINT or SIGTERM (SIGHUP reloads)."""
    listening = _listen(host, port)
    if not is_loopback(host) and config.token is None:
        sys.stderr.write(
            _(
                "warning: serving on {host} without {variable}: anyone who can reach this port "
                "can use the service; set {variable}, or serve on 127.0.0.1 behind a proxy"
            ).format(host=host, variable=TOKEN_ENV)
            + "\n"
        )
    app = create_app(config, registry, engine)
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
    server.run(sockets=[listening])


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
