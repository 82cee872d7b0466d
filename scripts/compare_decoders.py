"""Compare the autoregressive and the masked-diffusion (unmask) decoders on the same inputs.

    .venv/bin/python scripts/compare_decoders.py [--checkpoint AR] [--unmask-checkpoint UNMASK]
        [--synthetic 20] [--meshes ../shared/realparts --limit 20] [--out out/compare_decoders]

For each input set (held-out generator parts; a mesh folder when given) and each configuration —
``ar`` at N = 1 and 8 candidates, ``unmask`` at N = 1 and 8 and K in (4, 8, 16, 32) passes — it runs
``backend.evaluate.evaluate_part`` with one warm ``Reconstructor`` and summarises with
``backend.evaluate.summarize``. By default the section candidates and the refinement are off, so the
numbers are the decoder's own: a part is invalid when no model candidate rebuilds (the pipeline's
bounding-box fallback does not count). With ``--sections`` the "model only" row is used instead.
Writes ``results.md`` (the table) and ``results.json`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CANDIDATES = (1, 8)
STEPS = (4, 8, 16, 32)


def configurations(decoders: list[str], candidates: tuple[int, ...], steps: tuple[int, ...]) -> list[tuple]:
    """(decoder, N, K or None) to measure, AR first."""
    out: list[tuple[str, int, int | None]] = []
    if "ar" in decoders:
        out += [("ar", n, None) for n in candidates]
    if "unmask" in decoders:
        out += [("unmask", n, k) for n in candidates for k in steps]
    return out


def measure(parts: list, reconstructor, decoder: str, n: int, k: int | None, args) -> dict[str, Any]:
    """Summary (backend.evaluate.summarize) of one configuration, plus candidate parse/unfinished shares."""
    from backend.evaluate import MODEL_ONLY, PIPELINE, _invalid, evaluate_part, summarize
    from backend.reconstruct import SOURCE_MODEL, ReconstructOptions

    options = ReconstructOptions(
        candidates=n,
        temperature=args.temperature,
        seed=args.seed,
        decoder=decoder,
        steps=k,
        use_sections=args.sections,
        decode_budget_s=0.0,  # the decoders compared as they are, without the pipeline's time budget
        refine=args.refine,
    )
    rows, n_cand, n_parsed, n_unfinished = [], 0, 0, 0
    for part in parts:
        row, _ = evaluate_part(part, reconstructor, options, reference=False)
        p = row[PIPELINE]
        if args.sections:
            m = dict(row.get(MODEL_ONLY) or p)
        elif p.get("valid") and p.get("source") != SOURCE_MODEL:
            m = _invalid(f"no model candidate rebuilt (fell back to {p.get('source')})")
        else:
            m = dict(p)
        if "seconds" in p:
            m["seconds"] = p["seconds"]
        rows.append(m)
        c = p.get("candidates", {})
        n_cand += c.get("candidates", 0)
        n_parsed += c.get("parsed", 0)
        n_unfinished += c.get("unfinished", 0)
    summary = summarize(rows)
    summary |= {
        "decoder": decoder,
        "candidates": n,
        "steps": k,
        "parsed_share": n_parsed / n_cand if n_cand else None,
        "unfinished_share": n_unfinished / n_cand if n_cand else None,
    }
    return summary


def _f(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def markdown(results: dict[str, list[dict[str, Any]]], config: dict[str, Any]) -> str:
    lines = [
        "# Decoders: autoregressive vs masked diffusion (unmask)",
        "",
        f"AR model: {config['checkpoint']}; unmask model: {config['unmask_checkpoint']}; temperature"
        f" {config['temperature']}; sections {'on (model-only rows)' if config['sections'] else 'off'};"
        f" refinement {'on' if config['refine'] else 'off'}; {config['hardware']}.",
        "Invalid: no model candidate rebuilt (or error / timeout). CD: Chamfer distance x1000 (protocol,"
        " strict), median over valid parts; IoU mean over valid parts; seconds per part (warm process,"
        " whole pipeline call), median. Parsed / unfinished: shares of all decoded candidates.",
        "",
    ]
    for inputs, rows in results.items():
        lines += [
            f"## {inputs}",
            "",
            "| decoder | N | K | invalid | CD x1000 median | IoU mean | s/part median | parsed | unfinished |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for s in rows:
            lines.append(
                f"| {s['decoder']} | {s['candidates']} | {s['steps'] or '–'}"
                f" | {_f(None if s['invalid_ratio'] is None else 100 * s['invalid_ratio'], 1)} %"
                f" | {_f(s['cd_x1000_median'])} | {_f(s['iou_mean'])} | {_f(s['seconds_median'], 2)}"
                f" | {_f(None if s['parsed_share'] is None else 100 * s['parsed_share'], 0)} %"
                f" | {_f(None if s['unfinished_share'] is None else 100 * s['unfinished_share'], 0)} % |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=None, help="AR model folder (default: the shipped one)")
    p.add_argument("--unmask-checkpoint", default=None, help="unmask model folder (default: the shipped one)")
    p.add_argument("--synthetic", type=int, default=20, help="held-out generator parts (0: none)")
    p.add_argument("--skip", type=int, default=0, help="skip this many held-out seeds")
    p.add_argument("--meshes", default=None, help="also a folder of mesh files")
    p.add_argument("--limit", type=int, default=20, help="at most this many meshes")
    p.add_argument("--candidates", type=int, nargs="+", default=list(CANDIDATES))
    p.add_argument("--steps", type=int, nargs="+", default=list(STEPS), help="unmask passes K to try")
    p.add_argument("--decoders", nargs="+", default=["ar", "unmask"], choices=["ar", "unmask"])
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sections", action="store_true", help="pipeline with section candidates")
    p.add_argument("--refine", action="store_true", help="pipeline with the refinement stage")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default="out/compare_decoders")
    args = p.parse_args(argv)

    import torch
    from tqdm import tqdm

    from backend.evaluate import mesh_parts, synthetic_parts
    from backend.reconstruct import Reconstructor
    from backend.train import hardware

    reconstructor = Reconstructor(
        args.checkpoint, device=args.device, unmask_checkpoint=args.unmask_checkpoint
    )
    decoders = [
        d for d in args.decoders if d in reconstructor.decoders and (d != "ar" or reconstructor.has_model)
    ]
    missing = sorted(set(args.decoders) - set(decoders))
    if missing:
        print(f"note: no model for {', '.join(missing)}: skipped")
    sets: dict[str, list] = {}
    if args.synthetic > 0:
        sets[f"synthetic held-out parts ({args.synthetic})"] = synthetic_parts(args.synthetic, args.skip)
    if args.meshes:
        parts = mesh_parts(args.meshes, args.limit)
        sets[f"meshes: {args.meshes} ({len(parts)})"] = parts
    configs = configurations(decoders, tuple(args.candidates), tuple(args.steps))
    if not sets or not configs:
        print("nothing to compare")
        return 1
    results: dict[str, list[dict[str, Any]]] = {}
    bar = tqdm(total=len(sets) * len(configs), desc="configurations")
    for name, parts in sets.items():
        results[name] = []
        for decoder, n, k in configs:
            s = measure(parts, reconstructor, decoder, n, k, args)
            results[name].append(s)
            bar.write(
                f"{name} | {decoder} N={n} K={k}: invalid {s['invalid_ratio']:.2f}"
                f" CD {_f(s['cd_x1000_median'])} IoU {_f(s['iou_mean'])} {_f(s['seconds_median'], 2)} s"
            )
            bar.update(1)
    bar.close()
    config = {
        "checkpoint": str(reconstructor.checkpoint) if reconstructor.has_model else "none",
        "unmask_checkpoint": str(reconstructor.unmask_checkpoint) if reconstructor.unmask_model else "none",
        "temperature": args.temperature,
        "sections": args.sections,
        "refine": args.refine,
        "hardware": hardware(torch.device(args.device)).split(",")[0]
        + f", decoding on {reconstructor.threads or torch.get_num_threads()} thread(s))",
    }
    md = markdown(results, config)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(md)
    (out / "results.json").write_text(json.dumps({"config": config, "results": results}, indent=1))
    print(md)
    print(f"wrote {out / 'results.md'} and {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
