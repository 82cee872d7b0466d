"""The evaluation table (README, "Evaluation protocol"); its command is ``backend.cli.evaluate``.

Inputs: mesh files of a folder (``--meshes DIR``, optional ``INDEX.tsv`` with ``model`` and
``bucket`` columns for per-complexity tables) or generator parts for held-out seeds
(``--synthetic N``). Rows:

- ``pipeline``: the full Reconstructor (model candidates + section candidates, verified, refined);
- ``model only``: the best rebuilt model candidate of the same run (no sections, no refinement;
  no extra decoding), shown when sections are on, so the model's own contribution is visible;
- ``section reference``: ``backend.verify.reference.best_section_program`` on the same inputs;
- ``bounding box``: the input's axis-aligned bounding box as a solid (doing nothing clever).

With a perturbation (``--perturb rotate|scan|points``, ``backend.geometry.perturb``) every clean mesh is
turned into the input people actually have, deterministically per part (seed = CRC-32 of its name):
the pipeline and the bounding box get the perturbed input, and their results, mapped back by the
perturbation's inverse, are scored against the clean original (the section reference is skipped).

Per row: CD x1000 (strict and own-bbox; median and mean over valid parts), IoU (mean and median
over valid parts), invalidity ratio (no valid solid: error, empty or over TIMEOUT_S), median seconds,
compactness (mean features and curves; circles / arcs / lines). Writes results.json, results.md and
sheet.png (input | reconstruction for the best and worst parts by strict CD).
"""

from __future__ import annotations

import csv
import statistics
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from backend.cad.program import Arc, Circle, Line, Program

TIMEOUT_S = 60.0  # a part that takes longer counts as invalid (protocol)
PIPELINE, MODEL_ONLY, REFERENCE, BBOX = "pipeline", "model only", "section reference", "bounding box"
INDEX_FILE = "INDEX.tsv"
SHEET_PARTS = 4  # best and worst parts on the sheet


# --- inputs -----------------------------------------------------------------------------------------


@dataclass
class Part:
    name: str
    load: Callable[[], trimesh.Trimesh]
    bucket: str | None = None
    gt_program: Program | None = None


def _read_index(folder: Path) -> dict[str, str]:
    path = folder / INDEX_FILE
    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        return {row["model"]: row.get("bucket", "") for row in csv.DictReader(f, delimiter="\t")}


def mesh_parts(folder: str | Path, limit: int | None = None) -> list[Part]:
    from backend.geometry.mesh_io import load_mesh
    from backend.intake.files import collect_inputs

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    index = _read_index(folder)
    paths = collect_inputs([str(folder)])[:limit]
    return [Part(p.stem, (lambda p=p: load_mesh(p)), index.get(p.stem)) for p in paths]


def synthetic_parts(n: int, skip: int = 0) -> list[Part]:
    from backend.data.dataset import eval_seeds
    from backend.data.generator import generate

    parts = []
    for seed in eval_seeds(skip + n)[skip:]:
        program, mesh = generate(seed)
        parts.append(Part(f"seed_{seed}", (lambda m=mesh: m.copy()), None, program))
    return parts


# --- per part ---------------------------------------------------------------------------------------


def curve_counts(program: Program) -> dict[str, int]:
    counts = {"features": len(program.features), "curves": 0, "circles": 0, "arcs": 0, "lines": 0}
    for f in program.features:
        for p in f.sketch.profiles:
            for loop in p.loops:
                for c in loop.curves:
                    counts["curves"] += 1
                    key = {Circle: "circles", Arc: "arcs", Line: "lines"}[type(c)]
                    counts[key] += 1
    return counts


def _metrics(pred: trimesh.Trimesh, gt: trimesh.Trimesh, strict: dict | None = None) -> dict[str, Any]:
    from backend.geometry.metrics import evaluate_pair

    s = strict or evaluate_pair(pred, gt, strict=True)
    own = evaluate_pair(pred, gt, strict=False)
    return {"cd": s["cd"], "cd_own": own["cd"], "iou": s["iou"], "iou_method": s["iou_method"]}


def _invalid(error: str, seconds: float | None = None) -> dict[str, Any]:
    return {"valid": False, "error": error, **({} if seconds is None else {"seconds": seconds})}


def perturbed_input(mesh: trimesh.Trimesh, name: str, perturb: str | None):
    """(what the pipeline gets, 4x4 matrix from the clean mesh's coordinates to the input's)."""
    if perturb is None:
        return mesh, None
    from backend.geometry.perturb import PERTURBATIONS

    if perturb not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {perturb!r}; choose from {', '.join(PERTURBATIONS)}")
    geometry, matrix = PERTURBATIONS[perturb](mesh, zlib.crc32(name.encode()))
    return geometry, (None if np.allclose(matrix, np.eye(4)) else matrix)


def _back(pred: trimesh.Trimesh, matrix: np.ndarray | None) -> trimesh.Trimesh:
    """A prediction in the perturbed input's coordinates mapped back to the clean mesh's."""
    if matrix is None:
        return pred
    return trimesh.Trimesh(
        np.asarray(pred.vertices) @ np.linalg.inv(matrix)[:3, :3].T, np.asarray(pred.faces), process=False
    )


def evaluate_part(
    part: Part, reconstructor, options, reference: bool, perturb: str | None = None
) -> tuple[dict[str, Any], Any]:
    """Rows of one part (pipeline, model only, reference, bounding box) and the pipeline's result (or
    None). With ``perturb`` the pipeline reads the perturbed input and is scored against the clean mesh."""
    from backend.reconstruct import SOURCE_MODEL, Cancelled

    row: dict[str, Any] = {"name": part.name, "bucket": part.bucket}
    if part.gt_program is not None:
        row["ground_truth"] = curve_counts(part.gt_program)
    try:
        mesh = part.load()
        given, matrix = perturbed_input(mesh, part.name, perturb)
    except (OSError, ValueError) as exc:  # MeshError is a ValueError
        row[PIPELINE] = row[MODEL_ONLY] = row[REFERENCE] = row[BBOX] = _invalid(f"input: {exc}")
        return row, None
    start = time.perf_counter()
    deadline = start + TIMEOUT_S
    result = None
    try:
        result = reconstructor.reconstruct(
            given, options, should_cancel=lambda: time.perf_counter() > deadline
        )
    except Cancelled:
        row[PIPELINE] = _invalid(f"timeout ({TIMEOUT_S:.0f} s)", time.perf_counter() - start)
    except ValueError as exc:
        row[PIPELINE] = _invalid(str(exc), time.perf_counter() - start)
    if result is not None:
        seconds = time.perf_counter() - start
        row[PIPELINE] = {
            "valid": seconds <= TIMEOUT_S,
            "seconds": seconds,
            "source": result.source,
            "refined": result.refined,
            "candidates": {**result.stats.to_dict(), "section": result.n_section_candidates},
            "timings": result.timings,
            "input": result.input,
            **curve_counts(result.program_normalized),
            **_metrics(_back(result.mesh, matrix), mesh, None if perturb else result.scores),
        }
        if options.use_sections and result.stats.candidates > 0:  # no row without model candidates
            best_model = result.best_by_source.get(SOURCE_MODEL)
            if best_model is None:
                row[MODEL_ONLY] = _invalid("no model candidate rebuilt")
            else:
                pred = _back(result.frame.invert_mesh(best_model.mesh), matrix)
                row[MODEL_ONLY] = {"valid": True, **curve_counts(best_model.program), **_metrics(pred, mesh)}
    if reference and perturb is None:
        row[REFERENCE] = _reference(mesh)
    row[BBOX] = _bbox(given, mesh, matrix)
    return row, result


def _bbox(given, mesh: trimesh.Trimesh, matrix: np.ndarray | None) -> dict[str, Any]:
    """The input's axis-aligned bounding box as a solid, scored against the clean mesh."""
    start = time.perf_counter()
    box = trimesh.creation.box(bounds=np.asarray(given.bounds))
    seconds = time.perf_counter() - start
    counts = {"features": 1, "curves": 4, "circles": 0, "arcs": 0, "lines": 4}
    return {"valid": True, "seconds": seconds, **counts, **_metrics(_back(box, matrix), mesh)}


def _reference(mesh: trimesh.Trimesh) -> dict[str, Any]:
    from backend.geometry.normalize import normalize_mesh
    from backend.geometry.solid import program_to_mesh
    from backend.verify.reference import best_section_program

    start = time.perf_counter()
    try:
        mesh_n, frame = normalize_mesh(mesh)
        program, _ = best_section_program(mesh_n, quantize=False)
        pred = frame.invert_mesh(program_to_mesh(program))
    except ValueError as exc:
        return _invalid(str(exc), time.perf_counter() - start)
    seconds = time.perf_counter() - start
    return {"valid": True, "seconds": seconds, **curve_counts(program), **_metrics(pred, mesh)}


# --- summaries --------------------------------------------------------------------------------------


def _stat(values: list[float], fn) -> float | None:
    return float(fn(values)) if values else None


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Summary of one method's rows (dicts with "valid" and metrics)."""
    valid = [r for r in rows if r.get("valid")]
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
        "seconds_median": _stat(secs, statistics.median),
    }
    for key in ("features", "curves"):
        out[f"{key}_mean"] = _stat([r[key] for r in valid], statistics.fmean)
    for key in ("circles", "arcs", "lines"):
        out[key] = sum(r[key] for r in valid)
    stats = [r["candidates"] for r in rows if r.get("candidates")]
    decoded = sum(s.get("candidates", 0) for s in stats)
    if decoded:  # model candidates over all parts: how many parse, and how many of those fail to rebuild
        parsed = sum(s.get("parsed", 0) for s in stats)
        out["candidates_parsed_ratio"] = parsed / decoded
        out["candidates_unfinished_ratio"] = sum(s.get("unfinished", 0) for s in stats) / decoded
        out["parsed_failed_rebuild_ratio"] = sum(s.get("failed_rebuild", 0) for s in stats) / max(parsed, 1)
        out["model_won_ratio"] = sum(r.get("source") == "model" for r in valid) / max(len(valid), 1)
    return out


def methods_of(parts: list[dict[str, Any]]) -> list[str]:
    return [m for m in (PIPELINE, MODEL_ONLY, REFERENCE, BBOX) if any(m in p for p in parts)]


def build_summary(parts: list[dict[str, Any]]) -> dict[str, Any]:
    summary = {m: summarize([p[m] for p in parts if m in p]) for m in methods_of(parts)}
    gt = [p["ground_truth"] for p in parts if "ground_truth" in p]
    if gt:
        summary["ground truth"] = {
            "n": len(gt),
            **{f"{k}_mean": statistics.fmean(g[k] for g in gt) for k in ("features", "curves")},
            **{k: sum(g[k] for g in gt) for k in ("circles", "arcs", "lines")},
        }
    return summary


def build_buckets(parts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    buckets = sorted({p["bucket"] for p in parts if p.get("bucket")})
    return {
        b: {m: summarize([p[m] for p in parts if p.get("bucket") == b and m in p]) for m in methods_of(parts)}
        for b in buckets
    }


def _f(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


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
        " normalisation, own = the prediction's own bbox. IoU over valid parts. Invalid: no valid solid"
        f" (error, empty, > {TIMEOUT_S:.0f} s).",
        "",
        "| method | n | CD median | CD mean | CD own median | CD own mean | IoU mean | IoU median"
        " | invalid | s/part median | features | curves | circles / arcs / lines |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m, s in summary.items():
        if m == "ground truth":
            continue
        lines.append(
            f"| {m} | {s['n']} | {_f(s['cd_x1000_median'])} | {_f(s['cd_x1000_mean'])}"
            f" | {_f(s['cd_own_x1000_median'])} | {_f(s['cd_own_x1000_mean'])} | {_f(s['iou_mean'])}"
            f" | {_f(s['iou_median'])} | {_f(100 * s['invalid_ratio'], 1)} % | {_f(s['seconds_median'], 2)}"
            f" | {_f(s['features_mean'], 2)} | {_f(s['curves_mean'], 1)}"
            f" | {s['circles']} / {s['arcs']} / {s['lines']} |"
        )
    if "ground truth" in summary:
        g = summary["ground truth"]
        lines.append(
            f"| ground truth | {g['n']} | | | | | | | | | {_f(g['features_mean'], 2)} | {_f(g['curves_mean'], 1)}"
            f" | {g['circles']} / {g['arcs']} / {g['lines']} |"
        )
    pipe = summary.get(PIPELINE, {})
    if "candidates_parsed_ratio" in pipe:
        lines += [
            "",
            f"Model candidates: {_f(100 * pipe['candidates_parsed_ratio'], 1)} % parse (grammar-masked),"
            f" {_f(100 * pipe['candidates_unfinished_ratio'], 1)} % unfinished at the token limit;"
            f" {_f(100 * pipe['parsed_failed_rebuild_ratio'], 1)} % of the parsed ones fail to rebuild;"
            f" the model's candidate won on {_f(100 * pipe['model_won_ratio'], 1)} % of the parts.",
        ]
    if buckets:
        methods = list(next(iter(buckets.values())))
        lines += [
            "",
            "## By complexity bucket",
            "",
            "CD x1000 median / IoU mean / invalid count per method.",
            "",
        ]
        lines.append("| bucket | n | " + " | ".join(methods) + " |")
        lines.append("|---|---|" + "---|" * len(methods))
        for b, per in buckets.items():
            cells = [
                f"{_f(per[m]['cd_x1000_median'])} / {_f(per[m]['iou_mean'])} / {per[m]['n'] - per[m]['valid']}"
                for m in methods
            ]
            lines.append(f"| {b} | {per[methods[0]]['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_sheet(
    parts: list[Part], rows: list[dict[str, Any]], meshes: dict[str, trimesh.Trimesh], path: Path
) -> bool:
    """input | reconstruction for the SHEET_PARTS best and worst parts by strict CD."""
    from backend.geometry.render import contact_sheet, render_mesh

    ranked = sorted(
        (r for r in rows if r[PIPELINE].get("valid") and r["name"] in meshes), key=lambda r: r[PIPELINE]["cd"]
    )
    chosen = ranked[:SHEET_PARTS] + ranked[max(SHEET_PARTS, len(ranked) - SHEET_PARTS) :]
    if not chosen:
        return False
    by_name = {p.name: p for p in parts}
    images, labels = [], []
    for r in chosen:
        images += [render_mesh(by_name[r["name"]].load(), size=192), render_mesh(meshes[r["name"]], size=192)]
        cd = r[PIPELINE]["cd"] * 1000
        labels += [f"{r['name'][:24]} input", f"CD {cd:.3f} IoU {r[PIPELINE]['iou']:.2f}"]
    contact_sheet(images, columns=4, labels=labels).save(path)
    return True
