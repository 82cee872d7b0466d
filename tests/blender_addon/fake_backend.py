"""A stand-in for ``python -m backend serve`` (stdlib only) implementing the server's HTTP API.

Run as ``fake_backend.py [-m backend serve] [--port N] [--checkpoint P]``: prints the one JSON
line, writes the token file, then serves. Every job finishes after two polls with the program
in $FAKE_PROGRAM (a JSON file), except jobs with seed 999, which run until cancelled.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = secrets.token_hex(8)
JOBS: dict[str, dict] = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output quiet
        pass

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            return True
        self._send(401, {"detail": "bad token"})
        return False

    def do_GET(self) -> None:
        if self.path == "/v1/health":
            return self._send(
                200,
                {
                    "status": "ok",
                    "model": "fake",
                    "version": "0",
                    "decoders": ["ar", "unmask"],
                    "queue": len(JOBS),
                },
            )
        if not self._authorized():
            return None
        job_id = self.path.rsplit("/", 1)[-1]
        with LOCK:
            job = JOBS.get(job_id)
            if job is None:
                return self._send(404, {"detail": f"no job {job_id}"})
            job["polls"] += 1
            if job["state"] == "running" and job["polls"] >= 2 and job["seed"] != 999:
                with open(os.environ["FAKE_PROGRAM"]) as fh:
                    program = json.load(fh)
                job.update(
                    state="done",
                    progress=1.0,
                    stage="done",
                    result={
                        "program": program,
                        "scores": {"cd": 0.00123, "iou": 0.987},
                        "timings": {"total": 1.5},
                        "mesh": None,
                    },
                )
            body = {k: job[k] for k in ("id", "state", "progress", "stage", "error", "result")}
        return self._send(200, body)

    def do_POST(self) -> None:
        if not self._authorized():
            return None
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/v1/export":  # the real exporter: this runs in the backend's venv
            from backend.server.export import ExportRequest, export_program

            return self._send(200, export_program(ExportRequest.model_validate(body)).model_dump())
        mesh = body.get("mesh", {})
        if not mesh.get("face_count"):
            return self._send(422, {"detail": "mesh has no faces"})
        with LOCK:
            job_id = f"job{len(JOBS) + 1}"
            JOBS[job_id] = {
                "id": job_id,
                "state": "running",
                "progress": 0.5,
                "stage": "decoding",
                "error": None,
                "result": None,
                "polls": 0,
                "seed": body.get("options", {}).get("seed"),
            }
        return self._send(202, {"id": job_id})

    def do_DELETE(self) -> None:
        if not self._authorized():
            return None
        with LOCK:
            job = JOBS.get(self.path.rsplit("/", 1)[-1])
            if job is None:
                return self._send(404, {"detail": "no such job"})
            job.update(state="cancelled", stage="cancelled")
            marker = os.environ.get("FAKE_CANCEL_MARKER")
            if marker:
                open(marker, "w").close()
        return self._send(200, {"id": job["id"], "state": "cancelled"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-m")
    parser.add_argument("command", nargs="?")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--checkpoint", default="")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    fd, token_file = tempfile.mkstemp(prefix="fake-backend-token-")
    with os.fdopen(fd, "w") as fh:
        fh.write(TOKEN)
    print("starting fake backend", file=sys.stderr)
    print(
        json.dumps({"port": server.server_address[1], "pid": os.getpid(), "token_file": token_file}),
        flush=True,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        os.unlink(token_file)


if __name__ == "__main__":
    main()
