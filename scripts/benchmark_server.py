"""Latency of the local server as a real process: GET /v1/health and submit-to-done of small parts.

    python scripts/benchmark_server.py [--checkpoint DIR] [--health 200] [--jobs 10] [--candidates 8]

Uses the shipped checkpoint (backend/model/checkpoint.DEFAULT_CHECKPOINT) unless --checkpoint is
given; without either the server runs on section candidates only, and says so in health.
Parts are procedural (backend.data.generator), one seed per job; jobs run one after another.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.data.generator import generate  # noqa: E402
from backend.model.checkpoint import CONFIG_FILE, DEFAULT_CHECKPOINT  # noqa: E402
from backend.server.mesh import encode_arrays  # noqa: E402


def start(checkpoint: Path | None, device: str, state: Path) -> tuple[subprocess.Popen, str, dict[str, str]]:
    cmd = [sys.executable, "-m", "backend", "serve", "--port", "0", "--device", device]
    if checkpoint is not None:
        cmd += ["--checkpoint", str(checkpoint)]
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    ready, _, _ = select.select([proc.stdout], [], [], 180)
    line = proc.stdout.readline() if ready else b""
    if not line:
        proc.kill()
        raise SystemExit(f"server did not start (exit {proc.poll()})")
    info = json.loads(line)
    token = Path(info["token_file"]).read_text()
    return proc, f"http://127.0.0.1:{info['port']}", {"Authorization": f"Bearer {token}"}


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", type=Path, default=None, help="model folder (default: the shipped one)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--health", type=int, default=200, help="GET /v1/health requests (default 200)")
    ap.add_argument("--jobs", type=int, default=10, help="jobs, one after another (default 10)")
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1000, help="first procedural part seed")
    args = ap.parse_args()
    checkpoint = args.checkpoint
    if checkpoint is None and (DEFAULT_CHECKPOINT / CONFIG_FILE).is_file():
        checkpoint = DEFAULT_CHECKPOINT

    with tempfile.TemporaryDirectory() as state:
        t0 = time.perf_counter()
        proc, url, auth = start(checkpoint, args.device, Path(state))
        startup = time.perf_counter() - t0
        try:
            with httpx.Client(base_url=url, headers=auth, timeout=120) as c:
                health = c.get("/v1/health").json()
                lat = []
                for _ in range(args.health):
                    t = time.perf_counter()
                    c.get("/v1/health").raise_for_status()
                    lat.append(time.perf_counter() - t)
                totals, server_totals, sources = [], [], []
                for k in range(args.jobs):
                    _, mesh = generate(args.seed + k)
                    body = {
                        "mesh": encode_arrays(mesh.vertices, mesh.faces),
                        "options": {"candidates": args.candidates},
                    }
                    t = time.perf_counter()
                    r = c.post("/v1/jobs", json=body)
                    r.raise_for_status()
                    while (s := c.get(f"/v1/jobs/{r.json()['id']}").json())["state"] in ("queued", "running"):
                        time.sleep(0.01)
                    totals.append(time.perf_counter() - t)
                    if s["state"] != "done":
                        raise SystemExit(f"job {k} ended {s['state']}: {s['error']}")
                    server_totals.append(s["result"]["timings"].get("total") or 0.0)
                    sources.append(s["result"]["source"])
        finally:
            proc.terminate()
            code = proc.wait(30)
    report = {
        "model": health["model"],
        "version": health["version"],
        "startup_s": round(startup, 2),
        "health_median_ms": round(1000 * statistics.median(lat), 3),
        "health_p95_ms": round(1000 * percentile(lat, 0.95), 3),
        "job_median_s": round(statistics.median(totals), 3),
        "job_max_s": round(max(totals), 3),
        "pipeline_median_s": round(statistics.median(server_totals), 3),
        "candidates": args.candidates,
        "jobs": args.jobs,
        "sources": {s: sources.count(s) for s in sorted(set(sources))},
        "exit_code": code,
    }
    print(
        f"model {report['model']} ({checkpoint or 'none: section candidates only'}), startup {startup:.1f} s"
    )
    print(
        f"GET /v1/health: median {report['health_median_ms']} ms, p95 {report['health_p95_ms']} ms ({args.health} requests)"
    )
    print(
        f"submit -> done: median {report['job_median_s']} s, max {report['job_max_s']} s "
        f"({args.jobs} parts, {args.candidates} candidates; pipeline itself {report['pipeline_median_s']} s)"
    )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
