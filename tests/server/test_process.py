"""The local server as a real process: ``python -m backend serve --port 0`` on loopback, tiny real model."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from backend.server.schema import MAX_QUEUE
from tests.server.test_app import box_mesh, check_done, job_body, make_tiny_checkpoint

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90.0  # importing torch on a busy 2-core machine


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    token_file: Path
    token: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.auth, timeout=30.0)


def start_server(checkpoint: Path, state_home: Path, log: Path) -> Server:
    env = {**os.environ, "XDG_STATE_HOME": str(state_home), "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "backend",
        "serve",
        "--port",
        "0",
        "--checkpoint",
        str(checkpoint),
        "--unmask-checkpoint",
        "none",
        "--device",
        "cpu",
    ]
    with log.open("wb") as err:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL
        )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT_S)
        line = proc.stdout.readline() if ready else b""
        if not line:
            raise RuntimeError(f"server printed nothing; exit {proc.poll()}; log:\n{log.read_text()[-3000:]}")
        info = json.loads(line)
        assert info["pid"] == proc.pid
        token_file = Path(info["token_file"])
        return Server(proc, int(info["port"]), token_file, token_file.read_text())
    except BaseException:
        stop(proc)
        raise


def stop(proc: subprocess.Popen) -> None:
    """Always leaves the process ended."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_checkpoint(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="module")
def server(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("server")
    srv = start_server(checkpoint, tmp / "state", tmp / "server.log")
    try:
        yield srv
    finally:
        stop(srv.proc)


def wait_done(client: httpx.Client, job_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/v1/jobs/{job_id}").json()
        if status["state"] in ("done", "failed", "cancelled"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not finished in {timeout} s: {status}")


def test_start_line_and_token_file(server: Server) -> None:
    assert server.token_file.parent.name == "mesh2cad" and server.token_file.parent.parent.name == "state"
    assert server.token_file.name == f"server-{server.proc.pid}-{server.port}.token"
    assert stat.S_IMODE(server.token_file.stat().st_mode) == 0o600 and len(server.token) >= 32
    health = httpx.get(f"{server.url}/v1/health", timeout=60).json()  # the first answer waits for start-up
    assert health["status"] == "ok" and health["model"] == "tiny-test" and health["decoders"] == ["ar"]
    assert httpx.post(f"{server.url}/v1/jobs", json=job_body(), timeout=10).status_code == 401
    addr = outward_address()
    if addr is not None:  # bound to loopback only: not reachable on the machine's other address
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{addr}:{server.port}/v1/health", timeout=2)


def outward_address() -> str | None:
    """This machine's non-loopback IPv4 address, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            addr = s.getsockname()[0]
        except OSError:
            return None
    return None if addr.startswith("127.") or addr == "0.0.0.0" else addr


def raw_request(port: int, head: str) -> tuple[int, dict]:
    """Send only a request head (no body); returns status and JSON answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head_text, _, body = data.partition(b"\r\n\r\n")
    return int(head_text.split()[1]), json.loads(body)


def test_bad_inputs_leave_it_serving(server: Server) -> None:
    token = server.token
    status, answer = raw_request(
        server.port,
        "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: 300000000\r\n\r\n",
    )
    assert status == 413 and "209,715,200 bytes" in answer["detail"]
    with server.client() as c:
        r = c.post("/v1/jobs", content=b"{nope", headers={"content-type": "application/json"})
        assert r.status_code == 400 and "malformed JSON" in r.json()["detail"]
        bad = job_body()
        bad["mesh"]["face_count"] += 1
        r = c.post("/v1/jobs", json=bad)
        assert r.status_code == 422 and "face_count" in r.json()["detail"]
        assert c.get("/v1/jobs/unknown").status_code == 404
        assert c.get("/v1/health").json()["status"] == "ok"
        r = c.post("/v1/jobs", json=job_body())
        assert r.status_code == 202
        check_done(wait_done(c, r.json()["id"]), box_mesh())


def test_concurrent_submissions(server: Server) -> None:
    """20 submissions from 20 threads: each is accepted (and ends done) or refused with 429."""
    answers: list[httpx.Response] = []
    lock = threading.Lock()
    go = threading.Barrier(20)

    def submit(seed: int) -> None:
        with server.client() as c:
            go.wait()
            r = c.post("/v1/jobs", json=job_body(seed=seed))
        with lock:
            answers.append(r)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 20
    assert {r.status_code for r in answers} <= {202, 429}
    ids = [r.json()["id"] for r in answers if r.status_code == 202]
    assert len(set(ids)) == len(ids) >= MAX_QUEUE
    assert all("queue is full" in r.json()["detail"] for r in answers if r.status_code == 429)
    with server.client() as c:
        states = [wait_done(c, i)["state"] for i in ids]
        assert states == ["done"] * len(ids)
        assert c.get("/v1/health").json()["queue"] == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly(checkpoint: Path, tmp_path: Path, sig: signal.Signals) -> None:
    srv = start_server(checkpoint, tmp_path / "state", tmp_path / "server.log")
    try:
        with srv.client() as c:
            job = c.post("/v1/jobs", json=job_body(candidates=16, refine=True)).json()["id"]
            while (state := c.get(f"/v1/jobs/{job}").json()["state"]) == "queued":
                time.sleep(0.05)
            assert state == "running"
        srv.proc.send_signal(sig)  # the running job is cancelled at its next check, then the process exits
        assert srv.proc.wait(120) == 0, (tmp_path / "server.log").read_text()[-3000:]
    finally:
        stop(srv.proc)
    assert not srv.token_file.exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{srv.url}/v1/health", timeout=2)
    with socket.socket() as s:  # the port is free again
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", srv.port))
