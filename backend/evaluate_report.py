"""Summaries and the markdown of the evaluation table (``backend.evaluate`` runs the parts).

Method rows, in table order:

- ``pipeline``: the full Reconstructor (model candidates + section candidates, verified, refined);
- ``section-only pipeline``: the same Reconstructor and options with ``candidates=0`` (no model
  candidates), so the model's contribution is the difference between this row and ``pipeline``;
- ``model only``: the best rebuilt model candidate of the pipeline's run (no sections, no refinement);
- ``section reference``: ``backend.verify.reference.best_section_program`` on the same inputs;
- ``bounding box``: the input's axis-aligned bounding box as a solid.

Besides fidelity and compactness, each method's summary has (over its valid parts):

- feature count against the design (``n_extrudes`` of INDEX.tsv, or the generator's program):
  ``features_within_1`` (share of parts with a known design whose output has n_extrudes ± 1 features)
  and ``features_abs_diff_mean`` (mean |features - n_extrudes|), over ``n_design`` parts;
- cut usage: ``cut_share`` (share of parts whose output has at least one cut feature) and ``cuts_mean``;
- for a run with model candidates: ``model_won_ratio`` (the chosen result came from the model) and
  ``model_won_novel_ratio`` (it came from the model and is not a section candidate's program on the
  token grid; see ``backend.evaluate.model_novelty``).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

TIMEOUT_S = 60.0  # a part that takes longer counts as invalid (protocol)
PIPELINE, SECTION_ONLY, MODEL_ONLY = "pipeline", "section-only pipeline", "model only"
REFERENCE, BBOX = "section reference", "bounding box"
METHODS = (PIPELINE, SECTION_ONLY, MODEL_ONLY, REFERENCE, BBOX)
GROUND_TRUTH = "ground truth"
SOURCE_MODEL = "model"  # ReconstructResult.source of a model candidate (backend.verify.SOURCE_MODEL)


def _stat(values: list[float], fn: Callable[[list[float]], float]) -> float | None:
    return float(fn(values)) if values else None


def design_stats(features: list[int], designs: list[int | None]) -> dict[str, Any]:
    """Output feature counts against the designs' extrude counts (parts without a design are skipped)."""
    diffs = [abs(f - d) for f, d in zip(features, designs, strict=True) if d is not None]
    return {
        "n_design": len(diffs),
        "features_within_1": _stat([float(d <= 1) for d in diffs], statistics.fmean),
        "features_abs_diff_mean": _stat([float(d) for d in diffs], statistics.fmean),
    }


def cut_stats(cuts: list[int]) -> dict[str, Any]:
    """Share of outputs with at least one cut feature, and cut features per output."""
    return {
        "cut_share": _stat([float(c > 0) for c in cuts], statistics.fmean),
        "cuts_mean": _stat([float(c) for c in cuts], statistics.fmean),
    }


def summarize(rows: list[dict[str, Any]], designs: list[int | None] | None = None) -> dict[str, Any]:
    """Summary of one method's rows (dicts with "valid" and metrics); ``designs[i]`` is the extrude count
    of row i's design (None: unknown)."""
    designs = designs if designs is not None else [None] * len(rows)
    valid = [r for r in rows if r.get("valid")]
    valid_designs = [d for r, d in zip(rows, designs, strict=True) if r.get("valid")]
    cd = [r["cd"] * 1000 for r in valid]
    cd_own = [r["cd_own"] * 1000 for r in valid]
    iou = [r["iou"] for r in valid]
    secs = [r["seconds"] for r in rows if "seconds" in r]
    out = {
        "n": len(rows),
        "valid": len(valid),
        "invalid_ratio": (1 - len(valid) / len(rows)) if rows else None,
        "cd_x1000_median": _stat(cd, statistics.median),
        "cd_x1000_mean": _stat(cd, statistics.fmean),
        "cd_own_x1000_median": _stat(cd_own, statistics.median),
        "cd_own_x1000_mean": _stat(cd_own, statistics.fmean),
        "iou_mean": _stat(iou, statistics.fmean),
        "iou_median": _stat(iou, statistics.median),
        # over all parts, a part without a valid solid scoring 0: a method that fails on the hard parts
        # cannot look better than one that tries them
        "iou_mean_all": _stat([r["iou"] if r.get("valid") else 0.0 for r in rows], statistics.fmean),
        "seconds_median": _stat(secs, statistics.median),
    }
    for key in ("features", "curves"):
        out[f"{key}_mean"] = _stat([r[key] for r in valid], statistics.fmean)
    for key in ("circles", "arcs", "lines"):
        out[key] = sum(r[key] for r in valid)
    out.update(design_stats([r["features"] for r in valid], valid_designs))
    out.update(cut_stats([r.get("cuts", 0) for r in valid]))
    stats = [r["candidates"] for r in rows if r.get("candidates")]
    decoded = sum(s.get("candidates", 0) for s in stats)
    if decoded:  # model candidates over all parts: how many parse, and how many of those fail to rebuild
        parsed = sum(s.get("parsed", 0) for s in stats)
        out["candidates_parsed_ratio"] = parsed / decoded
        out["candidates_unfinished_ratio"] = sum(s.get("unfinished", 0) for s in stats) / decoded
        out["candidates_out_of_time_ratio"] = sum(s.get("out_of_time", 0) for s in stats) / decoded
        out["parsed_failed_rebuild_ratio"] = sum(s.get("failed_rebuild", 0) for s in stats) / max(parsed, 1)
        won = [r for r in valid if r.get("source") == SOURCE_MODEL]
        out["model_won_ratio"] = len(won) / max(len(valid), 1)
        out["model_won_novel_ratio"] = sum(bool(r.get("model_novel")) for r in won) / max(len(valid), 1)
    return out


def methods_of(parts: list[dict[str, Any]]) -> list[str]:
    return [m for m in METHODS if any(m in p for p in parts)]


def _summaries(parts: list[dict[str, Any]], methods: list[str]) -> dict[str, Any]:
    return {
        m: summarize([p[m] for p in parts if m in p], [p.get("n_extrudes") for p in parts if m in p])
        for m in methods
    }


def build_summary(parts: list[dict[str, Any]]) -> dict[str, Any]:
    summary = _summaries(parts, methods_of(parts))
    gt = [p["ground_truth"] for p in parts if "ground_truth" in p]
    if gt:
        summary[GROUND_TRUTH] = {
            "n": len(gt),
            **{f"{k}_mean": statistics.fmean(g[k] for g in gt) for k in ("features", "curves")},
            **{k: sum(g[k] for g in gt) for k in ("circles", "arcs", "lines")},
            **cut_stats([g.get("cuts", 0) for g in gt]),
        }
    return summary


def build_buckets(parts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    buckets = sorted({p["bucket"] for p in parts if p.get("bucket")})
    methods = methods_of(parts)
    return {b: _summaries([p for p in parts if p.get("bucket") == b], methods) for b in buckets}


# --- markdown ---------------------------------------------------------------------------------------


def _f(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f} %"


def _main_table(summary: dict[str, Any]) -> list[str]:
    lines = [
        "| method | n | CD median | CD mean | CD own median | CD own mean | IoU mean | IoU median"
        " | IoU mean, invalid = 0 | invalid | s/part median | features | curves | circles / arcs / lines |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m, s in summary.items():
        if m == GROUND_TRUTH:
            continue
        lines.append(
            f"| {m} | {s['n']} | {_f(s['cd_x1000_median'])} | {_f(s['cd_x1000_mean'])}"
            f" | {_f(s['cd_own_x1000_median'])} | {_f(s['cd_own_x1000_mean'])} | {_f(s['iou_mean'])}"
            f" | {_f(s['iou_median'])} | {_f(s['iou_mean_all'])} | {_pct(s['invalid_ratio'])} | {_f(s['seconds_median'], 2)}"
            f" | {_f(s['features_mean'], 2)} | {_f(s['curves_mean'], 1)}"
            f" | {s['circles']} / {s['arcs']} / {s['lines']} |"
        )
    if GROUND_TRUTH in summary:
        g = summary[GROUND_TRUTH]
        lines.append(
            f"| ground truth | {g['n']} | | | | | | | | | | {_f(g['features_mean'], 2)} | {_f(g['curves_mean'], 1)}"
            f" | {g['circles']} / {g['arcs']} / {g['lines']} |"
        )
    return lines


def _design_table(summary: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "Feature count against the design (n_extrudes) and cut usage, over valid parts; model wins: the"
        " chosen result came from the model (novel: and it is no section candidate's program on the token grid).",
        "",
        "| method | n with design | features within ±1 | mean abs(features − n_extrudes) | parts with a cut"
        " | cuts / part | model wins | model wins, novel |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m, s in summary.items():
        if m == GROUND_TRUTH:
            lines.append(
                f"| ground truth | | | | {_pct(s.get('cut_share'))} | {_f(s.get('cuts_mean'), 2)} | | |"
            )
            continue
        lines.append(
            f"| {m} | {s['n_design']} | {_pct(s['features_within_1'])} | {_f(s['features_abs_diff_mean'], 2)}"
            f" | {_pct(s['cut_share'])} | {_f(s['cuts_mean'], 2)} | {_pct(s.get('model_won_ratio'))}"
            f" | {_pct(s.get('model_won_novel_ratio'))} |"
        )
    return lines


def _bucket_tables(buckets: dict[str, Any]) -> list[str]:
    methods = list(next(iter(buckets.values())))
    lines = ["", "## By complexity bucket", "", "CD x1000 median / IoU mean / invalid count per method.", ""]
    lines.append("| bucket | n | " + " | ".join(methods) + " |")
    lines.append("|---|---|" + "---|" * len(methods))
    for b, per in buckets.items():
        cells = [
            f"{_f(per[m]['cd_x1000_median'])} / {_f(per[m]['iou_mean'])} / {per[m]['n'] - per[m]['valid']}"
            for m in methods
        ]
        lines.append(f"| {b} | {per[methods[0]]['n']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Features within ±1 of n_extrudes per method; model wins (all / novel) of the pipeline.",
        "",
    ]
    lines.append(
        "| bucket | " + " | ".join(f"{m} ±1" for m in methods) + " | model wins | model wins, novel |"
    )
    lines.append("|---|" + "---|" * (len(methods) + 2))
    for b, per in buckets.items():
        pipe = per.get(PIPELINE, {})
        cells = [_pct(per[m]["features_within_1"]) for m in methods]
        cells += [_pct(pipe.get("model_won_ratio")), _pct(pipe.get("model_won_novel_ratio"))]
        lines.append(f"| {b} | " + " | ".join(cells) + " |")
    return lines


def markdown(summary: dict[str, Any], buckets: dict[str, Any], config: dict[str, Any]) -> str:
    lines = [
        "# Evaluation",
        "",
        f"Inputs: {config['inputs']} ({config['n_parts']} parts); candidates {config['candidates']},"
        f" temperature {config['temperature']}, sections {'on' if config['sections'] else 'off'},"
        f" decoder {config.get('decoder', 'ar')}"
        + (f" ({config['steps']} steps)" if config.get("steps") else "")
        + f", model: {config['model']}.",
        "CD: Chamfer distance x1000 (8,192 samples, squared, two-way) over valid parts; strict = the input's"
        " normalisation, own = the prediction's own bbox. IoU over valid parts (invalid = 0: over all parts, one"
        " without a valid solid scoring 0). Invalid: no valid solid"
        f" (error, empty, > {TIMEOUT_S:.0f} s).",
        "",
        *_main_table(summary),
        *_design_table(summary),
    ]
    pipe = summary.get(PIPELINE, {})
    if "candidates_parsed_ratio" in pipe:
        lines += [
            "",
            f"Model candidates: {_pct(pipe['candidates_parsed_ratio'])} parse (grammar-masked),"
            f" {_pct(pipe['candidates_unfinished_ratio'])} unfinished"
            f" ({_pct(pipe.get('candidates_out_of_time_ratio', 0.0))} of all stopped by the decoding"
            " budget, the others at the token limit);"
            f" {_pct(pipe['parsed_failed_rebuild_ratio'])} of the parsed ones fail to rebuild;"
            f" the model's candidate won on {_pct(pipe['model_won_ratio'])} of the parts,"
            f" with a program no section candidate has on {_pct(pipe['model_won_novel_ratio'])}.",
        ]
    if buckets:
        lines += _bucket_tables(buckets)
    return "\n".join(lines) + "\n"
