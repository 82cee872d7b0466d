"""Issue 13, the server's front door, table-driven: what is refused before a body is read (rows 4, 5, 16),
bodies bounded while they stream (rows 4, 8), and connections (row 6: header and body deadlines, a
connection cap, rate-limited log lines) on a real uvicorn server in a thread."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.server.app import create_app
from backend.server.connections import RateLimit, guarded_protocol
from backend.server.guard import MAX_JSON_DEPTH, MAX_JSON_ITEMS, Guard, JsonDepth, host_name
from tests.server.fakes import FakeReconstructor

TOKEN = "t"
AUTH = {"authorization": f"Bearer {TOKEN}"}
LOCAL = "http://127.0.0.1"

# --- refused before one byte of the body is read --------------------------------------------------

BEFORE_BODY = [
    # (row, method, path, headers, status, words)
    ("5", "POST", "/v1/jobs", {"content-length": "199000000"}, 401, "bearer token"),
    ("5", "POST", "/v1/jobs", {"content-length": "199000000", "content-type": "text/plain"}, 401, "bearer"),
    ("5", "POST", "/v1/health", {"content-length": "199000000"}, 405, "takes GET only"),
    (
        "16",
        "GET",
        "/v1/health",
        {"host": "evil.example.com"},
        403,
        "'evil.example.com' is not a loopback name",
    ),
    ("16", "GET", "/v1/health", {"host": "127.0.0.1.nip.io:80"}, 403, "not a loopback name"),
    ("16", "GET", "/v1/health", {"host": ""}, 403, "not a loopback name"),
    ("16", "POST", "/v1/jobs", {**AUTH, "origin": "http://evil.example.com"}, 403, "cross-origin request"),
    (
        "4",
        "POST",
        "/v1/jobs",
        {**AUTH, "content-length": "300000000"},
        413,
        "Content-Length says 300,000,000",
    ),
    ("4", "POST", "/v1/jobs", {**AUTH, "content-length": "12x"}, 400, "bad Content-Length"),
    ("4", "POST", "/v1/jobs", {**AUTH, "content-length": "100", "x-full": "1"}, 429, "queue is full"),
]


def _asgi_call(guard: Guard, method: str, path: str, headers: dict[str, str]) -> tuple[int, bytes, bool]:
    """(status, body, whether the request body was read) of one request through ``guard``."""
    headers = {"host": "127.0.0.1:8080", **headers}
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    read, sent = [], []

    async def receive() -> dict:
        read.append(True)
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(guard(scope, receive, send))
    return sent[0]["status"], sent[1]["body"], bool(read)


def _guard() -> Guard:
    async def app(scope, receive, send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    full = lambda scope: (429, "the queue is full") if (b"x-full", b"1") in scope["headers"] else None  # noqa: E731
    return Guard(app, TOKEN, 1_000_000, public_paths={"/v1/health"}, admit=full)


@pytest.mark.parametrize(("row", "method", "path", "headers", "status", "words"), BEFORE_BODY)
def test_refused_before_the_body_is_read(row, method, path, headers, status, words):
    got, body, read = _asgi_call(_guard(), method, path, headers)
    assert (got, read) == (status, False), body
    assert words in body.decode()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:5000", "localhost:5000", "LOCALHOST", "[::1]:5000"])
def test_loopback_hosts_pass(host):
    assert host_name(host) in {"127.0.0.1", "localhost", "::1"}
    assert _asgi_call(_guard(), "GET", "/v1/health", {"host": host})[:2] == (200, b"ok")


# --- bounded while the body streams in (rows 4, 8) ---------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(FakeReconstructor(), TOKEN, max_queue=2), base_url=LOCAL) as c:
        c.headers.update(AUTH)
        yield c


STREAMED = [
    # (row, path, body, content type, status, words)
    (
        "8",
        "/v1/jobs",
        b"[" * 1500 + b"]" * 1500,
        "application/json",
        400,
        f"deeper than {MAX_JSON_DEPTH} levels",
    ),
    (
        "8",
        "/v1/jobs",
        b'{"a": "[[[[", "b": ' + b"[" * 40 + b"]" * 40 + b"}",
        "application/json",
        400,
        "deeper",
    ),
    ("8", "/v1/jobs", b"[" + b"0," * (MAX_JSON_ITEMS + 1) + b"0]", "application/json", 413, "items"),
    ("8", "/v1/export", b"{" + b'"a":{' * 100 + b"}" * 101, "application/json", 400, "deeper"),
    ("8", "/v1/jobs", b"[" * 1500 + b"]" * 1500, "", 400, "deeper"),
]


@pytest.mark.parametrize(
    ("row", "path", "body", "kind", "status", "words"), STREAMED, ids=[s[4] for s in STREAMED]
)
def test_streamed_body_limits(client, row, path, body, kind, status, words):
    headers = {"content-type": kind} if kind else {}
    r = client.post(path, content=body, headers=headers)
    assert r.status_code == status and words in r.json()["detail"], r.text


def test_options_field_nesting_is_refused_before_parsing(client):
    files = {"file": ("a.stl", b"solid a\nendsolid a\n", "model/stl")}
    r = client.post("/v1/jobs/upload", files=files, data={"options": "[" * 1500 + "]" * 1500})
    assert r.status_code == 400 and f"deeper than {MAX_JSON_DEPTH} levels" in r.json()["detail"], r.text


def test_json_depth_ignores_brackets_in_strings_and_escapes():
    scanner = JsonDepth()
    for piece in (b'{"a": "[[\\"[[", ', b'"b": [[1], ', b'"\\\\"]}'):
        scanner.feed(piece)
    assert (scanner.deepest, scanner.items, scanner.depth) == (3, 5, 0)  # { , [ [ ,


def test_queue_full_is_answered_before_the_body_is_parsed():
    with TestClient(create_app(FakeReconstructor(), TOKEN, max_queue=0), base_url=LOCAL) as c:
        r = c.post(
            "/v1/jobs", content=b"{not even json", headers={**AUTH, "content-type": "application/json"}
        )
        assert r.status_code == 429 and "queue is full" in r.json()["detail"] and r.headers["retry-after"]


# --- connections on a real server (row 6) ---------------------------------------------------------------


class Served:
    def __init__(self, app, max_connections: int, header_timeout_s: float) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        http = guarded_protocol(max_connections, header_timeout_s)
        config = uvicorn.Config(app, log_config=None, access_log=False, http=http, timeout_keep_alive=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    app = FastAPI()

    @app.get("/v1/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.post("/v1/echo")
    def echo(body: dict) -> dict:
        return {"keys": len(body)}

    app.add_middleware(
        Guard, token=TOKEN, max_body_bytes=10_000, public_paths={"/v1/health"}, body_timeout_s=0.5
    )
    s = Served(app, max_connections=4, header_timeout_s=0.5)
    yield s
    s.close()


def _closed_within(conn: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed ``conn`` (None if still open after ``seconds``)."""
    start = time.monotonic()
    conn.settimeout(seconds)
    try:
        while conn.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - start


def test_idle_and_slow_request_heads_are_closed(served):
    idle = served.connect()
    assert (_closed_within(idle, 3) or 9) < 1.5
    slow = served.connect()
    slow.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # the head never ends
    assert (_closed_within(slow, 3) or 9) < 1.5


def test_connection_cap(served):
    held = [served.connect() for _ in range(4)]
    time.sleep(0.1)
    extra = served.connect()
    assert (_closed_within(extra, 0.3) or 9) < 0.3  # refused at once while 4 are open
    for conn in held:
        conn.close()
    time.sleep(0.2)
    with served.connect() as conn:
        conn.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")


def test_lying_content_length_times_out(served):
    with served.connect() as conn:
        head = f"POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        conn.sendall((head + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{").encode())
        start = time.monotonic()
        answer = b""
        while chunk := conn.recv(4096):  # the server closes the connection after its answer
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408") and b"request body stalled" in answer
        assert time.monotonic() - start < 2.0


def test_log_lines_are_rate_limited():
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    handler.addFilter(RateLimit(burst=5, window_s=1.0))
    logger = logging.getLogger("tests.flood")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        start = time.monotonic()
        for _ in range(10_000):
            logger.error("socket.accept() out of system resource")
        assert time.monotonic() - start < 1.0
        time.sleep(1.05)
        logger.error("socket.accept() out of system resource")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert len(records) == 6 and "9995 similar lines dropped" in records[-1].getMessage()
