"""How much work the pipeline's clock budgets buy on this machine: decoding steps in ``DECODE_BUDGET_S``
and refinement trials in ``REFINE_BUDGET_S`` (median over parts), to set ``--fixed-budgets``' constants
(``reconstruct.DECODE_BUDGET_STEPS``, ``verify.refine.REFINE_BUDGET_EVALS``).

    .venv/bin/python scripts/calibrate_budgets.py --meshes ../shared/realparts/fusion360 --limit 16

Run it alone on the machine (it measures speed).
"""

from __future__ import annotations

import argparse
import statistics
import time

import backend.reconstruct as pipeline
from backend.evaluate import mesh_parts
from backend.verify import refine as refine_module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--meshes", required=True)
    ap.add_argument("--limit", type=int, default=16)
    args = ap.parse_args()

    steps: list[int] = []
    evals: list[int] = []
    decoders = pipeline.DECODERS
    clock_decode = decoders["ar"]

    def counting_decode(*a, deadline=None, **kw):  # where the clock would have stopped the steps
        user = kw.pop("progress", None)
        start = time.perf_counter()
        marks: list[tuple[int, float]] = []

        def progress(step: int, total: int, finished: int) -> None:
            marks.append((step, time.perf_counter() - start))
            if user is not None:
                user(step, total, finished)

        results = clock_decode(*a, progress=progress, **kw)  # no deadline: how far it gets, and when
        past = [step for step, t in marks if t >= pipeline.DECODE_BUDGET_S]
        if deadline is not None and past:  # decoding that finishes sooner says nothing of the budget
            steps.append(past[0])
        return results

    clock_refine = refine_module.refine_candidate

    def counting_refine(best, target, budget_s, check, max_evals=None):
        calls = [0]

        def counted(mesh):
            calls[0] += 1
            return target(mesh)

        start = time.perf_counter()
        out = clock_refine(best, counted, budget_s, check, max_evals)
        spent = time.perf_counter() - start
        if spent >= 0.9 * budget_s:  # a search that converges sooner says nothing of the budget
            evals.append(calls[0])
        return out

    decoders["ar"] = counting_decode
    pipeline.refine_candidate = counting_refine
    reconstructor = pipeline.Reconstructor()
    for part in mesh_parts(args.meshes, args.limit):
        reconstructor.reconstruct(part.load(), pipeline.ReconstructOptions())
    for name, values, budget in (
        ("decoding steps", steps, pipeline.DECODE_BUDGET_S),
        ("refinement trials", evals, refine_module.REFINE_BUDGET_S),
    ):
        median = statistics.median(values) if values else float("nan")
        print(
            f"{name} in {budget:g} s: median {median:.0f} over {len(values)} parts that used it all {sorted(values)}"
        )


if __name__ == "__main__":
    main()
