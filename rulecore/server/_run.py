"""Running the service: uvicorn, quiet but for the JSON request log."""

from __future__ import annotations

import ipaddress
import json
import sys

import uvicorn

from rulecore._engine import Engine
from rulecore._i18n import _
from rulecore._plugins import Registry

from ._app import create_app
from ._config import TOKEN_ENV, ServiceConfig


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
        "url": f"http://{host}:{port}",
        "standards": len(engine.standards),
        "token": config.token is not None,
        "max_body": config.max_body,
        "request_timeout": config.request_timeout,
    }
    sys.stderr.write(json.dumps(started) + "\n")
    sys.stderr.flush()
    server.run()
