"""``rulecore serve``: ``POST /v1/evaluate`` under load, beside ``Engine.evaluate`` in-process.

Starts ``rulecore serve -s STANDARDS`` on a free loopback port (never another address), and
sends it the records of ``examples/records`` (those that are records), one per request, from
``--connections`` keep-alive connections of a small raw asyncio HTTP/1.1 client (lighter than
any client library, so that the client takes as little of the machine as it can), for
``--requests`` requests or ``--max-seconds``, whichever ends first.  Beside it, in this process,
the same records go through the Python API: ``decode_record`` then ``Engine.evaluate``, one at a
time.  The two alternate ``--repeat`` times; the medians are reported, with the ratio of the
service's requests/s to the API's records/s.

    .venv/bin/python bench/serve.py --requests 3000 --connections 4 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def load_records(folder: Path) -> list[bytes]:
    """Every line of the folder's JSON-lines files that is a record (the rest are left out)."""
    import msgspec

    from rulecore import decode_record

    lines = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            try:
                decode_record(line)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue  # the example files hold rejects on purpose
            lines.append(line)
    return lines


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_service(standards: str, port: int) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if key != "RULECORE_TOKEN"}
    command = [sys.executable, "-m", "rulecore", "serve", "-s", standards]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("rulecore serve did not answer within a minute")


# ---------------------------------------------------------------------------------------------
# the client
# ---------------------------------------------------------------------------------------------


async def _post(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int, body: bytes
) -> int:
    writer.write(
        b"POST /v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (port, len(body), body)
    )
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def load(
    port: int,
    service_pid: int,
    records: list[bytes],
    requests: int,
    connections: int,
    max_seconds: float,
) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0
    sent = 0
    stop_at = time.perf_counter() + max_seconds

    async def connection() -> None:
        nonlocal sent, failures
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while sent < requests and time.perf_counter() < stop_at:
                body = records[sent % len(records)]
                sent += 1
                started = time.perf_counter()
                status = await _post(reader, writer, port, body)
                latencies.append(time.perf_counter() - started)
                failures += status != 200
        finally:
            writer.close()

    cpu_before = service_cpu_seconds(service_pid)
    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    wall = time.perf_counter() - started
    cpu = service_cpu_seconds(service_pid) - cpu_before
    return _figures(latencies, wall, cpu) | {"failures": failures}


def service_cpu_seconds(pid: int) -> float:
    """The processor time (user and system) the service process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _figures(latencies: list[float], wall: float, cpu: float) -> dict[str, Any]:
    """Throughput by the clock and by processor time (on a shared machine the clock measures
    the neighbours too; processor time is what one request costs), and latency."""
    ordered = sorted(latencies)
    return {
        "count": len(ordered),
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "per_second": round(len(ordered) / wall, 1),
        "per_cpu_second": round(len(ordered) / max(cpu, 1e-9), 1),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
    }


def in_process(
    engine: Any, records: list[bytes], count: int, max_seconds: float, encode: bool = False
) -> dict[str, Any]:
    """The same records through the Python API, one at a time, in this process; with
    ``encode``, each record's findings are also written as JSON, as the service answers."""
    from rulecore import decode_record
    from rulecore._findings import finding_json

    latencies = []
    stop_at = time.perf_counter() + max_seconds
    started = time.perf_counter()
    cpu_before = time.process_time()
    for index in range(count):
        if time.perf_counter() > stop_at:
            break
        began = time.perf_counter()
        findings = engine.evaluate(decode_record(records[index % len(records)]))
        if encode:
            b",".join(finding_json(finding) for finding in findings)
        latencies.append(time.perf_counter() - began)
    return _figures(latencies, time.perf_counter() - started, time.process_time() - cpu_before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per run (bounded)")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=60.0, help="cap on each run")
    parser.add_argument("--standards", default="standards")
    parser.add_argument("--records", default=str(ROOT / "examples" / "records"))
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "serve.json"))
    args = parser.parse_args()
    records = load_records(Path(args.records))
    port = free_port()
    service = start_service(args.standards, port)
    runs: dict[str, list[dict[str, Any]]] = {"http": [], "api": [], "api_json": []}
    try:
        # Both compiled once and warmed with the same records, as a long-running host would be.
        from rulecore import Engine

        engine = Engine.from_paths([args.standards])
        in_process(engine, records, 200, 10, encode=True)
        asyncio.run(load(port, service.pid, records, 200, args.connections, 10))
        for round_ in range(args.repeat):
            runs["api"].append(in_process(engine, records, args.requests, args.max_seconds))
            runs["api_json"].append(
                in_process(engine, records, args.requests, args.max_seconds, encode=True)
            )
            runs["http"].append(
                asyncio.run(
                    load(
                        port,
                        service.pid,
                        records,
                        args.requests,
                        args.connections,
                        args.max_seconds,
                    )
                )
            )
            print(
                f"round {round_ + 1}: api {runs['api'][-1]['per_second']}/s, "
                f"http {runs['http'][-1]['per_second']}/s",
                file=sys.stderr,
            )
    finally:
        service.terminate()
        service.wait(timeout=30)
    keys = ("per_second", "per_cpu_second", "p50_ms", "p99_ms")
    median = {
        side: {key: statistics.median(run[key] for run in measured) for key in keys}
        for side, measured in runs.items()
    }
    ratios = {
        f"{base}{suffix}": round(median["http"][key] / median[base][key], 3)
        for base in ("api", "api_json")
        for key, suffix in (("per_second", ""), ("per_cpu_second", "_by_cpu"))
    }
    result = {
        "records": len(records),
        "requests_per_run": args.requests,
        "connections": args.connections,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "median": median,
        "http_to": ratios,
        "runs": runs,
        "failures": sum(run["failures"] for run in runs["http"]),
    }
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print("| path | per second | per CPU second | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for side, label in (
        ("api", "`Engine.evaluate` in-process"),
        ("api_json", "`Engine.evaluate` in-process, findings written as JSON"),
        ("http", f"`POST /v1/evaluate`, {args.connections} connections"),
    ):
        figures = median[side]
        print(
            f"| {label} | {figures['per_second']:.0f} | {figures['per_cpu_second']:.0f} "
            f"| {figures['p50_ms']:.2f} | {figures['p99_ms']:.2f} |"
        )
    print(f"\nservice / API: {json.dumps(ratios)}; failed requests: {result['failures']}")


if __name__ == "__main__":
    main()
