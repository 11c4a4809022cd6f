"""``rulecore serve``: the HTTP service, started for real (a subprocess on a free loopback port)
and driven with httpx, as a system that embeds rulecore over HTTP would.

Two services start once for this module: ``guarded`` (a token, the default limits, a copy of
the shipped standards that the reload tests change) and ``tight`` (no token, a 64 KB body
limit, a one-second time limit, and the ServiceNow example's standards and field mapping).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

pytest.importorskip(
    "starlette", reason="the HTTP service needs the server extra: pip install -e '.[server]'"
)
httpx = pytest.importorskip("httpx", reason="the service's tests need httpx (the dev extra)")

from click.testing import CliRunner  # noqa: E402

from rulecore import Engine, decode_record  # noqa: E402
from rulecore.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "examples" / "records"
SERVICENOW = ROOT / "examples" / "servicenow"
TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

HANDOFFS = """\
id: served-handoffs
version: 1
title: Cases stay with one team
dimension: flow
rules:
  - id: one-team
    check: handoffs
    thresholds: {max: 1}
"""


class Server(NamedTuple):
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    standards: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start(folder: Path, standards: Path, *options: str, token: str | None = None) -> Server:
    port = _free_port()
    log = folder / "service.log"
    env = {key: value for key, value in os.environ.items() if key != "RULECORE_TOKEN"}
    if token is not None:
        env["RULECORE_TOKEN"] = token
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rulecore",
                "serve",
                "-s",
                str(standards),
                "--port",
                str(port),
                *options,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"rulecore serve exited {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(url, process, log, standards)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"rulecore serve did not answer within a minute: {log.read_text()}")


def _stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("guarded")
    standards = folder / "standards"
    shutil.copytree(ROOT / "standards", standards)
    server = _start(folder, standards, token=TOKEN)
    yield server
    _stop(server)


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("tight")
    server = _start(
        folder,
        SERVICENOW,
        *("--mapping", str(SERVICENOW / "servicenow.mapping.yaml")),
        *("--max-body", "64KB", "--request-timeout", "1"),
    )
    yield server
    _stop(server)


@pytest.fixture(scope="module")
def client(guarded: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=guarded.url, headers=AUTH, timeout=60) as session:
        yield session


def _cli(*args: str) -> bytes:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in (0, 1), result.output
    return result.stdout_bytes


# ---------------------------------------------------------------------------------------------
# starting
# ---------------------------------------------------------------------------------------------


def test_without_the_server_extra_serve_says_how_to_install_it() -> None:
    script = (
        "import sys; sys.modules['starlette'] = sys.modules['uvicorn'] = None\n"
        "from rulecore.cli import main; main(['serve', '-s', 'standards'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        "rulecore serve needs the server extra: pip install 'rulecore[server]' (missing: uvicorn)"
    )


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "-s", "standards", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}: address already in use" in result.stderr
    assert "listening" not in result.stderr


# ---------------------------------------------------------------------------------------------
# the token
# ---------------------------------------------------------------------------------------------


def test_the_probes_answer_without_the_token(guarded: Server) -> None:
    assert httpx.get(f"{guarded.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{guarded.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/standards"),
        ("GET", "/v1/checks"),
        ("GET", "/v1/checks/elapsed"),
        ("GET", "/openapi.json"),
        ("POST", "/v1/evaluate"),
        ("POST", "/v1/audit"),
        ("POST", "/v1/validate"),
        ("POST", "/v1/reload"),
    ],
)
def test_everything_else_needs_the_token(guarded: Server, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        answer = httpx.request(method, guarded.url + path, headers=headers, content=b"{}")
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert answer.json()["error"] == "unauthorized"


def test_without_a_token_set_the_service_is_open(tight: Server) -> None:
    assert httpx.get(f"{tight.url}/v1/checks").status_code == 200


# ---------------------------------------------------------------------------------------------
# /v1/evaluate
# ---------------------------------------------------------------------------------------------


def test_evaluate_gives_what_the_python_api_gives(client: httpx.Client) -> None:
    engine = Engine.from_paths([ROOT / "standards"])
    lines = (RECORDS / "promises-and-channels.jsonl").read_bytes().splitlines()
    for line in lines[:4]:
        answer = client.post("/v1/evaluate", content=line)
        assert answer.status_code == 200, answer.text
        record = decode_record(line)
        expected = [finding.to_dict() for finding in engine.evaluate(record)]
        assert answer.json() == {"record": record.id, "findings": expected}
        assert any(finding["evidence"] for finding in expected)  # evidence comes along


def test_evaluate_judges_open_cases_as_of_a_moment(client: httpx.Client) -> None:
    record = {
        "id": "OPEN-1",
        "attributes": {"channel": "email", "priority": "high"},
        "events": [{"at": "2026-03-02T09:00:00Z", "type": "opened", "actor": "customer"}],
    }
    engine = Engine.from_paths([ROOT / "standards"])
    moment = "2026-03-09T09:00:00+00:00"
    answer = client.post("/v1/evaluate", params={"as_of": moment}, json=record)
    assert answer.status_code == 200
    from datetime import datetime

    expected = engine.evaluate(decode_record(json.dumps(record)), datetime.fromisoformat(moment))
    assert answer.json()["findings"] == [finding.to_dict() for finding in expected]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b'{"id": "X", "events": [', 400, "not valid JSON: Expecting value: line 1 column 24"),
        (b"", 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not valid JSON"),
        (b'{"id": "X", "events": [NaN]}', 400, "NaN is not a JSON value"),
        (b"[1, 2]", 422, "not a valid record: at $: [1, 2] is not of type 'object'"),
        (b'{"id": 7, "events": []}', 422, "at $.id: 7 is not of type 'string'"),
        (
            b'{"id": "X", "events": [{"at": "2026-04-01 10:00", "type": "opened"}]}',
            422,
            "at $.events[0].at: '2026-04-01 10:00' is not a timestamp with a UTC offset",
        ),
        (
            b'{"id": "X", "events": [{"at": "1066-10-14T09:00:00Z", "type": "opened"}]}',
            422,
            "1066-10-14",
        ),
        (b"[" * 5000 + b"]" * 5000, 422, "not a valid record"),
    ],
)
def test_evaluate_locates_what_is_wrong_with_a_body(
    client: httpx.Client, body: bytes, status: int, words: str
) -> None:
    answer = client.post("/v1/evaluate", content=body)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["message"]
    assert answer.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"as_of": "yesterday"}, "is not an ISO 8601 timestamp"),
        ({"as_of": "2026-03-01T10:00:00"}, "needs a UTC offset"),
        ({"as_of": "2999-01-01T00:00:00Z"}, "outside the dates rulecore audits"),
    ],
)
def test_a_wrong_query_is_400_in_words(
    client: httpx.Client, query: dict[str, str], words: str
) -> None:
    line = (RECORDS / "promises-and-channels.jsonl").read_bytes().splitlines()[0]
    answer = client.post("/v1/evaluate", params=query, content=line)
    assert answer.status_code == 400
    assert words in answer.json()["message"]


@pytest.mark.parametrize(
    ("path", "query", "words"),
    [
        ("/v1/audit", {"as-of": "2026-03-01T10:00:00Z"}, "'as-of'; did you mean 'as_of'?"),
        ("/v1/audit", {"all_outcome": "true"}, "reads source, all_outcomes, as_of, by"),
        ("/v1/evaluate", {"asof": "2026-03-01T10:00:00Z"}, "did you mean 'as_of'?"),
        ("/v1/validate", {"file": "x.yaml"}, "unknown query parameter 'file'"),
    ],
)
def test_a_query_parameter_the_endpoint_does_not_read_is_400_not_ignored(
    client: httpx.Client, path: str, query: dict[str, str], words: str
) -> None:
    line = (RECORDS / "promises-and-channels.jsonl").read_bytes().splitlines()[0]
    answer = client.post(path, params=query, content=line)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "bad_query"
    assert words in answer.json()["message"]


# ---------------------------------------------------------------------------------------------
# /v1/audit
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "options", "query"),
    [
        ("imported-with-errors.jsonl", [], {}),
        (
            "promises-and-channels.jsonl",
            ["--by", "team", "--all-outcomes"],
            {"by": "team", "all_outcomes": "true"},
        ),
        (
            "service-desk.jsonl",
            ["--as-of", "2026-04-01T00:00:00Z"],
            {"as_of": "2026-04-01T00:00:00Z"},
        ),
    ],
)
def test_the_json_report_is_byte_for_byte_the_cli_report(
    client: httpx.Client, name: str, options: list[str], query: dict[str, str]
) -> None:
    path = RECORDS / name
    source = f"examples/records/{name}"
    expected = _cli("audit", str(path), "-s", "standards", "--format", "json", *options)
    expected = expected.replace(str(path).encode(), source.encode())
    answer = client.post("/v1/audit", params={"source": source, **query}, content=path.read_bytes())
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.content == expected


def test_a_gzip_body_gives_the_same_report(client: httpx.Client) -> None:
    path = RECORDS / "imported-with-errors.jsonl"
    plain = client.post("/v1/audit", params={"source": "x.jsonl"}, content=path.read_bytes())
    packed = gzip.compress(path.read_bytes())
    said = client.post(
        "/v1/audit",
        params={"source": "x.jsonl"},
        content=packed,
        headers={"Content-Encoding": "gzip"},
    )
    unsaid = client.post("/v1/audit", params={"source": "x.jsonl"}, content=packed)
    assert plain.status_code == said.status_code == unsaid.status_code == 200
    assert plain.content == said.content == unsaid.content
    assert b'"source":"x.jsonl"' in plain.content


def test_the_report_streams_as_json_lines_when_asked(client: httpx.Client) -> None:
    path = RECORDS / "imported-with-errors.jsonl"
    expected = _cli("audit", str(path), "-s", "standards", "--format", "jsonl")
    expected = expected.replace(str(path).encode(), b"body")
    headers = {"Accept": "application/x-ndjson"}
    with client.stream("POST", "/v1/audit", content=path.read_bytes(), headers=headers) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/x-ndjson")
        streamed = b"".join(answer.iter_bytes())
    assert streamed == expected
    assert json.loads(streamed.splitlines()[-1])["type"] == "summary"


@pytest.mark.parametrize(
    ("body", "headers", "status", "words"),
    [
        (b"", {}, 422, "no input records found in body: the file is empty or blank"),
        (b"\n  \n", {}, 422, "empty or blank"),
        (b'{"id": "A"}\n', {"Content-Encoding": "gzip"}, 400, "does not start as gzip does"),
        (b'{"id": "A"}\n', {"Content-Encoding": "br"}, 415, "not Content-Encoding 'br'"),
    ],
)
def test_an_audit_body_that_cannot_be_audited_is_refused_in_words(
    client: httpx.Client, body: bytes, headers: dict[str, str], status: int, words: str
) -> None:
    answer = client.post("/v1/audit", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["message"]


def test_a_long_audit_does_not_hold_up_other_requests(
    guarded: Server, client: httpx.Client
) -> None:
    lines = (RECORDS / "service-desk.jsonl").read_bytes().splitlines()
    body = b"\n".join(
        line.replace(b'"id":"T-', f'"id":"R{copy}-'.encode(), 1)
        for copy in range(6)
        for line in lines
    )
    finished: dict[str, float] = {}

    def audit() -> None:
        answer = client.post("/v1/audit", content=body)
        assert answer.status_code == 200
        assert json.loads(answer.content)["summary"]["records"]["evaluated"] == len(lines) * 6
        finished["audit"] = time.monotonic()

    worker = threading.Thread(target=audit)
    worker.start()
    time.sleep(0.3)  # the body is sent and the audit under way
    answered = httpx.get(f"{guarded.url}/healthz")
    finished["probe"] = time.monotonic()
    worker.join()
    assert answered.status_code == 200
    assert finished["probe"] < finished["audit"]


# ---------------------------------------------------------------------------------------------
# /v1/validate, /v1/standards, /v1/checks
# ---------------------------------------------------------------------------------------------


def test_validate_says_what_rulecore_validate_says(client: httpx.Client, tmp_path: Path) -> None:
    good = (ROOT / "standards" / "flow-handoffs.yaml").read_bytes()
    answer = client.post("/v1/validate", content=good)
    assert answer.status_code == 200
    assert answer.json() == {"valid": True, "standards": ["flow-handoffs"], "rules": 1}

    broken = HANDOFFS.replace("check: handoffs", "check: handofs")
    (tmp_path / "team.yaml").write_text(broken)
    cli = CliRunner().invoke(main, ["validate", str(tmp_path / "team.yaml")])
    assert cli.exit_code == 2
    said = [
        line.removeprefix("Error: ").replace(str(tmp_path / "team.yaml"), "team.yaml")
        for line in cli.stderr.splitlines()
    ]
    answer = client.post("/v1/validate", params={"name": "team.yaml"}, content=broken.encode())
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert [error["text"] for error in errors] == said
    assert errors[0]["file"] == "team.yaml"
    assert (errors[0]["line"], errors[0]["column"]) == (7, 12)
    assert "did you mean 'handoffs'?" in errors[0]["message"]


def test_the_standards_served_are_listed(client: httpx.Client) -> None:
    engine = Engine.from_paths([ROOT / "standards"])
    listed = client.get("/v1/standards").json()
    assert [entry["id"] for entry in listed["standards"]] == [s.id for s in engine.standards]
    first = listed["standards"][0]
    assert [rule["id"] for rule in first["rules"]] == [r.id for r in engine.standards[0].rules]


def test_checks_are_listed_and_explained(client: httpx.Client) -> None:
    engine = Engine.from_paths([ROOT / "standards"])
    names = [entry["name"] for entry in client.get("/v1/checks").json()["checks"]]
    assert names == list(engine.registry.checks)
    elapsed = client.get("/v1/checks/elapsed").json()
    plugin, check = engine.registry.checks["elapsed"]
    assert elapsed["plugin"] == plugin
    assert elapsed["doc"] == check.doc
    assert elapsed["params_schema"] == json.loads(json.dumps(check.params_schema))
    missing = client.get("/v1/checks/elapse")
    assert missing.status_code == 404
    assert "did you mean 'elapsed'?" in missing.json()["message"]


def test_an_unknown_path_or_method_answers_in_json(client: httpx.Client) -> None:
    assert client.get("/v2/nothing").status_code == 404
    wrong = client.get("/v1/evaluate")
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "method_not_allowed"


# ---------------------------------------------------------------------------------------------
# reload, SIGHUP
# ---------------------------------------------------------------------------------------------


def _served(client: httpx.Client) -> dict[str, Any]:
    answer: dict[str, Any] = client.get("/v1/standards").json()
    return answer


def test_a_broken_reload_keeps_the_old_standards_serving(
    guarded: Server, client: httpx.Client
) -> None:
    before = _served(client)
    line = (RECORDS / "promises-and-channels.jsonl").read_bytes().splitlines()[0]
    findings_before = client.post("/v1/evaluate", content=line).json()
    broken = guarded.standards / "zz-broken.yaml"
    broken.write_text(HANDOFFS.replace("check: handoffs", "check: handofs"))
    try:
        answer = client.post("/v1/reload")
        assert answer.status_code == 422
        (error,) = answer.json()["errors"]
        assert error["file"] == str(broken)
        assert error["line"] == 7
        assert "unknown check 'handofs'" in error["message"]
        assert _served(client) == before
        assert client.post("/v1/evaluate", content=line).json() == findings_before
    finally:
        broken.unlink()


def test_a_good_reload_swaps_the_standards_in(guarded: Server, client: httpx.Client) -> None:
    before = _served(client)
    added = guarded.standards / "zz-served.yaml"
    added.write_text(HANDOFFS)
    try:
        answer = client.post("/v1/reload")
        assert answer.status_code == 200, answer.text
        assert answer.json()["generation"] == before["generation"] + 1
        after = _served(client)
        assert "served-handoffs" in [entry["id"] for entry in after["standards"]]
        line = (RECORDS / "promises-and-channels.jsonl").read_bytes().splitlines()[0]
        rules = {
            f["standard"] for f in client.post("/v1/evaluate", content=line).json()["findings"]
        }
        assert "served-handoffs" in rules
    finally:
        added.unlink()
        assert client.post("/v1/reload").status_code == 200


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="SIGHUP is a POSIX signal")
def test_sighup_reloads_the_standards(guarded: Server, client: httpx.Client) -> None:
    before = _served(client)["generation"]
    added = guarded.standards / "zz-hangup.yaml"
    added.write_text(HANDOFFS.replace("served-handoffs", "hangup-handoffs"))
    try:
        guarded.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while _served(client)["generation"] == before and time.monotonic() < deadline:
            time.sleep(0.1)
        served = _served(client)
        assert served["generation"] == before + 1
        assert "hangup-handoffs" in [entry["id"] for entry in served["standards"]]
        logged = [json.loads(line) for line in guarded.log.read_text().splitlines()]
        assert any(line.get("event") == "reload" and line["status"] == "ok" for line in logged)
    finally:
        added.unlink()
        assert client.post("/v1/reload").status_code == 200


# ---------------------------------------------------------------------------------------------
# limits and the log
# ---------------------------------------------------------------------------------------------


def test_an_export_read_through_the_mapping_gives_the_cli_report(tight: Server) -> None:
    export = SERVICENOW / "incidents-slice.csv.gz"
    source = "incidents-slice.csv.gz"
    mapping = SERVICENOW / "servicenow.mapping.yaml"
    expected = _cli(
        "audit", str(export), "-s", str(SERVICENOW), "--mapping", str(mapping), "--format", "json"
    )
    answer = httpx.post(
        f"{tight.url}/v1/audit", params={"source": source}, content=export.read_bytes(), timeout=60
    )
    assert answer.status_code == 200, answer.text
    assert json.loads(answer.content)["summary"]["records"]["evaluated"] > 0
    assert answer.content == expected.replace(str(export).encode(), source.encode())


def test_an_export_the_mapping_cannot_read_is_422_located(tight: Server) -> None:
    answer = httpx.post(
        f"{tight.url}/v1/audit", params={"source": "wrong.csv"}, content=b"a,b\n1,2\n"
    )
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["error"] == "unreadable_input"
    first = problem["errors"][0]
    assert (first["file"], first["line"]) == (str(SERVICENOW / "servicenow.mapping.yaml"), 19)
    assert (
        first["message"] == "column 'number' is not in the header of wrong.csv (its columns: a, b)"
    )
    assert all("header of wrong.csv" in error["message"] for error in problem["errors"])
    assert "rulecore-audit-" not in answer.text  # the temporary file's name never shows


def test_a_declared_body_over_the_limit_is_refused_413(tight: Server) -> None:
    answer = httpx.post(f"{tight.url}/v1/evaluate", content=b" " * (64 * 1024 + 1))
    assert answer.status_code == 413
    assert "65536 bytes" in answer.json()["message"]
    assert httpx.post(f"{tight.url}/v1/audit", content=b"\n" * 70_000).status_code == 413


def _raw(server: Server, head: bytes, body_parts: list[bytes]) -> bytes:
    """Send a request by hand, part of a body at a time, and read what comes back."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head)
        for part in body_parts:
            connection.sendall(part)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def test_a_streamed_body_is_cut_off_as_soon_as_it_passes_the_limit(tight: Server) -> None:
    # Chunked, so no length is declared; 80 KB are sent and the body never ends, yet the
    # answer comes: the limit is enforced while the body arrives, not once it is all read.
    chunk = b"%x\r\n%s\r\n" % (8192, b"x" * 8192)
    head = b"POST /v1/audit HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = _raw(tight, head, [chunk] * 10)
    assert answer.startswith(b"HTTP/1.1 413")


def test_a_request_past_its_time_limit_gets_504(tight: Server) -> None:
    # A client that sends half its body and stalls holds nothing past the time limit.
    head = b"POST /v1/evaluate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n"
    started = time.monotonic()
    answer = _raw(tight, head, [b'{"id": "slow"'])
    assert answer.startswith(b"HTTP/1.1 504")
    assert time.monotonic() - started < 20


def test_a_client_that_goes_away_mid_body_is_a_400_not_a_500(tight: Server) -> None:
    host, port = tight.url.removeprefix("http://").split(":")
    head = b"POST /v1/audit?source=gone HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head + b'{"id": "gone-7"')
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in tight.log.read_text().splitlines() if line.strip()]
        gone = [
            line for line in lines if line.get("path") == "/v1/audit" and line["bytes_in"] == 15
        ]
        if gone:
            assert gone[-1]["status"] == 400
            assert "Traceback" not in tight.log.read_text()
            return
        time.sleep(0.1)
    pytest.fail("the request of a client that went away was not logged")


def test_every_request_is_one_json_line_in_the_log(tight: Server) -> None:
    httpx.get(f"{tight.url}/v1/checks/elapsed")
    httpx.post(f"{tight.url}/v1/evaluate", content=b"{")
    lines = [json.loads(line) for line in tight.log.read_text().splitlines() if line.strip()]
    requests = [line for line in lines if "path" in line]
    last_two = requests[-2:]
    assert [(r["method"], r["path"], r["status"]) for r in last_two] == [
        ("GET", "/v1/checks/elapsed", 200),
        ("POST", "/v1/evaluate", 400),
    ]
    for line in last_two:
        assert set(line) >= {"time", "method", "path", "status", "duration_ms", "bytes"}
        assert line["duration_ms"] >= 0
    assert last_two[0]["bytes"] > 100
    assert last_two[1]["bytes_in"] == 1


# ---------------------------------------------------------------------------------------------
# the OpenAPI document
# ---------------------------------------------------------------------------------------------


def test_the_openapi_document_includes_the_published_schemas(client: httpx.Client) -> None:
    from rulecore.server._openapi import published_form

    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    schemas = document["components"]["schemas"]
    published = ROOT / "rulecore" / "schemas"
    for component, name in (("Record", "record"), ("Report", "report"), ("Standard", "standard")):
        text = (published / f"{name}.schema.json").read_text(encoding="utf-8")
        schema = json.loads(text)
        assert published_form(schemas[component], component, schema) == schema
        assert "$id" not in schemas[component]
    assert set(document["paths"]) == {
        "/v1/evaluate",
        "/v1/audit",
        "/v1/validate",
        "/v1/reload",
        "/v1/standards",
        "/v1/checks",
        "/v1/checks/{name}",
        "/healthz",
        "/readyz",
        "/openapi.json",
    }


def _validator(document: dict[str, Any], pointer: str) -> Any:
    """A validator for the schema at ``pointer`` in the OpenAPI document, its references
    resolved as JSON pointers into the document."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    base = "urn:openapi"
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resources([(base, resource)])
    return jsonschema.Draft202012Validator({"$ref": f"{base}{pointer}"}, registry=registry)


def test_answers_match_the_openapi_document(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    evaluate = "#/paths/~1v1~1evaluate/post/responses/200/content/application~1json/schema"
    line = (RECORDS / "promises-and-channels.jsonl").read_bytes().splitlines()[0]
    answer = client.post("/v1/evaluate", content=line).json()
    assert answer["findings"]
    _validator(document, evaluate).validate(answer)
    report = client.post("/v1/audit", content=(RECORDS / "imported-with-errors.jsonl").read_bytes())
    _validator(document, "#/components/schemas/Report").validate(report.json())
    problem = client.post("/v1/evaluate", content=b"{").json()
    _validator(document, "#/components/schemas/Error").validate(problem)


# ---------------------------------------------------------------------------------------------
# no input, however made, gets a 500
# ---------------------------------------------------------------------------------------------


def test_no_input_drawn_from_the_openapi_document_gets_a_500(
    guarded: Server, client: httpx.Client
) -> None:
    """Schemathesis draws requests for every operation from /openapi.json (bodies from the
    published record schema included), valid and not, and none may get a 500."""
    schemathesis = pytest.importorskip("schemathesis", reason="needs schemathesis (dev extra)")
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @schemathesis.serializer("application/x-ndjson")
    def _json_lines(context: Any, value: Any) -> bytes:
        items = value if isinstance(value, list) else [value]
        return b"".join(json.dumps(item).encode() + b"\n" for item in items)

    @schemathesis.serializer("application/gzip")
    def _gzip(context: Any, value: Any) -> bytes:
        return gzip.compress(value if isinstance(value, bytes) else str(value).encode())

    document = client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if result.ok().label != "POST /v1/reload"  # reads no input; the reload tests cover it
    ]
    statuses: dict[tuple[str, int], int] = {}

    from schemathesis import GenerationMode

    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    cases = [op.as_strategy(generation_mode=mode) for op in operations for mode in modes]

    @settings(
        max_examples=250,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(cases))
    def probe(case: Any) -> None:
        answer = case.call(base_url=guarded.url, headers=AUTH, timeout=60)
        key = (case.operation.label, answer.status_code)
        statuses[key] = statuses.get(key, 0) + 1
        assert answer.status_code < 500, (case.operation.label, case.body, answer.text)

    probe()
    assert {label for label, _status in statuses} == {op.label for op in operations}
    assert ("POST /v1/evaluate", 200) in statuses  # records the schema allows were evaluated


def test_the_counts_in_the_service_docs_are_those_of_the_shipped_standards() -> None:
    engine = Engine.from_paths([ROOT / "standards"])
    shipped = {
        "standards": str(len(engine.standards)),
        "rules": str(sum(len(standard.rules) for standard in engine.standards)),
    }
    lines = (ROOT / "docs" / "service.md").read_text(encoding="utf-8").splitlines()
    served = "\n".join(line for line in lines if '"generation"' in line or "listening" in line)
    for key, count in shipped.items():
        written = set(re.findall(rf'"{key}": (\d+)[,}}]', served))
        assert written == {count}, f"docs/service.md gives {key} {written}; shipped: {count}"


def test_sigterm_stops_the_service_cleanly_with_exit_0_and_says_so(tmp_path: Path) -> None:
    standards = tmp_path / "standards"
    standards.mkdir()
    (standards / "handoffs.yaml").write_text(HANDOFFS)
    server = _start(tmp_path, standards)  # its last /healthz poll is answered: one request
    for _ in range(2):
        assert httpx.get(f"{server.url}/v1/standards", timeout=10).status_code == 200
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        raise
    last = server.log.read_text(encoding="utf-8").splitlines()[-1]
    stopped = re.fullmatch(r"rulecore serve: stopped by SIGTERM after (\d+) requests", last)
    assert (code, bool(stopped)) == (0, True), last
    assert stopped is not None
    assert int(stopped.group(1)) >= 3  # the two above and the last /healthz poll
