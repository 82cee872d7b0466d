"""Hostile and huge inputs against the real server (issue 13): health latency and cancel time during a
2 M-triangle job, and the server process's peak RSS for the GLB bombs and the large bodies.

    python scripts/benchmark_hostile.py [--triangles 2000000] [--checkpoint DIR] [--json OUT]

Starts ``python -m backend serve`` (the shipped checkpoint unless --checkpoint), then:
1. uploads/bodies while idle: GLB chain (200 nodes), GLB instancing bomb (200 x 20k triangles), a binary
   STL whose header declares 4 M triangles (200 MB), a 122 MB JSON body over the triangle limit; for each
   the status, seconds and the server process's peak RSS above its RSS before (``/proc``: VmHWM after
   clear_refs);
2. a closed cylinder of --triangles triangles as a JSON job: submit time, job time, /v1/health latency
   (median, max) polled every 50 ms while it runs;
3. the same job again, cancelled once its worker is busy: seconds from DELETE to "cancelled", health
   latency meanwhile; with the queue then filled, a 122 MB body is answered 429 before it is read.
Linux only (peak RSS from /proc).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.server.mesh import encode_arrays  # noqa: E402
from scripts.benchmark_server import start  # noqa: E402
from tests.hardening import crafted  # noqa: E402


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def peak_above_start(pid: int, action) -> tuple[object, float]:
    """(action(), MB of peak RSS above the RSS before it) for process ``pid``."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = rss_kb(pid, "VmRSS")
    out = action()
    return out, (rss_kb(pid, "VmHWM") - before) / 1024


class HealthProbe:
    """Polls /v1/health every ``interval`` s in a thread; ``latencies`` in seconds."""

    def __init__(self, url: str, interval: float = 0.05) -> None:
        self.url, self.interval, self.latencies = url, interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as c:
            while not self._stop.is_set():
                start = time.perf_counter()
                c.get("/v1/health").raise_for_status()
                self.latencies.append(time.perf_counter() - start)
                self._stop.wait(self.interval)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        xs = self.latencies or [float("nan")]
        return {"n": len(self.latencies), "median_ms": 1000 * statistics.median(xs), "max_ms": 1000 * max(xs)}


def over_limit_json() -> bytes:
    """A JSON job body of about 122 MB whose face_count is over the limit (a 422 once parsed)."""
    f = np.arange(3 * 2_600_000, dtype="<i4").reshape(-1, 3)
    v = np.zeros((5_000_000, 3), "<f4")
    return json.dumps({"mesh": encode_arrays(v, f)}).encode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--triangles", type=int, default=2_000_000)
    ap.add_argument("--checkpoint", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        proc, url, auth = start(args.checkpoint, "cpu", tmp_path)
        client = httpx.Client(base_url=url, headers=auth, timeout=600)
        try:
            pid = proc.pid
            warm = client.post(
                "/v1/jobs", json={"mesh": encode_arrays(*_tiny()), "options": {"candidates": 1}}
            )
            while client.get(f"/v1/jobs/{warm.json()['id']}").json()["state"] not in ("done", "failed"):
                time.sleep(0.2)  # the worker process is up and has run a job
            uploads = {
                "glb_chain_200": ("chain.glb", crafted.glb_chain(tmp_path / "chain.glb", 200).read_bytes()),
                "glb_bomb_200x20k": (
                    "bomb.glb",
                    crafted.glb_instancing_bomb(tmp_path / "bomb.glb").read_bytes(),
                ),
                "stl_header_4M_200MB": (
                    "big.stl",
                    b"\0" * 80 + (4_000_000).to_bytes(4, "little") + bytes(200_000_000),
                ),
            }
            for name, (filename, data) in uploads.items():
                t0 = time.perf_counter()
                r, mb = peak_above_start(
                    pid, lambda f=filename, d=data: client.post("/v1/jobs/upload", files={"file": (f, d)})
                )
                report[name] = {
                    "status": r.status_code,
                    "seconds": time.perf_counter() - t0,
                    "peak_rss_mb": mb,
                    "bytes": len(data),
                    "detail": r.json()["detail"][:120],
                }
                print(name, report[name], flush=True)
            big = over_limit_json()
            t0 = time.perf_counter()
            r, mb = peak_above_start(
                pid,
                lambda: client.post("/v1/jobs", content=big, headers={"content-type": "application/json"}),
            )
            report["json_122MB_over_limit"] = {
                "status": r.status_code,
                "seconds": time.perf_counter() - t0,
                "peak_rss_mb": mb,
                "bytes": len(big),
                "detail": r.json()["detail"][:120],
            }
            print("json_122MB_over_limit", report["json_122MB_over_limit"], flush=True)
            report["server_rss_after_mb"] = rss_kb(pid, "VmRSS") / 1024

            mesh = crafted.cylinder(args.triangles)
            body = json.dumps({"mesh": encode_arrays(mesh.vertices, mesh.faces), "options": {}}).encode()
            report["job_body_mb"] = len(body) / 1e6
            for phase in ("complete", "cancel"):
                with HealthProbe(url) as during_submit:
                    t0 = time.perf_counter()
                    r, mb = peak_above_start(
                        pid,
                        lambda: client.post(
                            "/v1/jobs", content=body, headers={"content-type": "application/json"}
                        ),
                    )
                    submit_s = time.perf_counter() - t0
                job = r.json()["id"]
                with HealthProbe(url) as probe:
                    t0 = time.perf_counter()
                    status = client.get(f"/v1/jobs/{job}").json()
                    if phase == "cancel":
                        while status["state"] != "running" or status["stage"] in (
                            "starting",
                            "starting worker",
                        ):
                            time.sleep(0.05)
                            status = client.get(f"/v1/jobs/{job}").json()
                        time.sleep(1.0)  # inside the first stage (validation of the 2 M triangles)
                        fillers = [
                            client.post("/v1/jobs", json={"mesh": encode_arrays(*_tiny()), "options": {}})
                            for _ in range(8)
                        ]
                        r429, mb429 = peak_above_start(
                            pid,
                            lambda: client.post(
                                "/v1/jobs", content=big, headers={"content-type": "application/json"}
                            ),
                        )
                        report["json_122MB_queue_full"] = {"status": r429.status_code, "peak_rss_mb": mb429}
                        print("json_122MB_queue_full", report["json_122MB_queue_full"], flush=True)
                        stage = client.get(f"/v1/jobs/{job}").json()["stage"]
                        t_cancel = time.perf_counter()
                        client.delete(f"/v1/jobs/{job}")
                        for f in fillers:
                            client.delete(f"/v1/jobs/{f.json()['id']}")
                    while status["state"] not in ("done", "failed", "cancelled"):
                        time.sleep(0.02)
                        status = client.get(f"/v1/jobs/{job}").json()
                    end = time.perf_counter()
                entry = {
                    "submit_s": submit_s,
                    "submit_peak_rss_mb": mb,
                    "health_during_submit": during_submit.summary(),
                    "state": status["state"],
                    "health_during_job": probe.summary(),
                }
                if phase == "complete":
                    entry["job_s"] = end - t0
                    entry["timings"] = (status.get("result") or {}).get("timings")
                    entry["input_note"] = ((status.get("result") or {}).get("scores") or {}).get("input_note")
                else:
                    entry["cancel_s"] = end - t_cancel
                    entry["cancelled_in_stage"] = stage
                report[f"job_{phase}"] = entry
                print(f"job_{phase}", json.dumps(entry, indent=1), flush=True)
        finally:
            client.close()
            proc.terminate()
            proc.wait(30)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


def _tiny():
    import trimesh

    box = trimesh.creation.box((1.0, 2.0, 3.0))
    return box.vertices, box.faces


if __name__ == "__main__":
    raise SystemExit(main())
