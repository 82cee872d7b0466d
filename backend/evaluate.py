"""The evaluation table (README, "Evaluation protocol"); its command is ``backend.cli.evaluate``.

Inputs: mesh files of a folder (``--meshes DIR``, optional ``INDEX.tsv`` with ``model``, ``bucket``
and ``n_extrudes`` columns for per-complexity tables and the design's feature count) or generator
parts for held-out seeds (``--synthetic N``; the design is the generator's program). The method rows
(pipeline, section-only pipeline, model only, section reference, bounding box) and their summaries
are described in ``backend.evaluate_report``; this module runs them part by part.

With a perturbation (``--perturb rotate|scan|points|turned-scan|turned-points``,
``backend.geometry.perturb``) every clean mesh is turned into the input people actually have,
deterministically per part (seed = CRC-32 of its name): the pipeline and the bounding box get the
perturbed input, and their results, mapped back by the
perturbation's inverse, are scored against the clean original (the section reference is skipped).

Per row: CD x1000 (strict and own-bbox; median and mean over valid parts), IoU (mean and median
over valid parts), invalidity ratio (no valid solid: error, empty or over TIMEOUT_S: wall seconds, or this
process's CPU seconds with budgets in work, --fixed-budgets), median seconds,
compactness (mean features and curves; circles / arcs / lines), feature count against the design,
cut usage and, for the pipeline, model wins. Writes results.json, results.md and sheet.png (input |
reconstruction for the best and worst parts by strict CD).
"""

from __future__ import annotations

import csv
import dataclasses
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from backend.cad.program import Arc, Circle, Line, Operation, Program
from backend.cad.quantize import QuantizationRangeError
from backend.evaluate_report import (  # noqa: F401  (re-exported: the evaluation's one import)
    BBOX,
    METHODS,
    MODEL_ONLY,
    PIPELINE,
    REFERENCE,
    SECTION_ONLY,
    TIMEOUT_S,
    build_buckets,
    build_summary,
    markdown,
    methods_of,
    summarize,
)

INDEX_FILE = "INDEX.tsv"
SHEET_PARTS = 4  # best and worst parts on the sheet


# --- inputs -----------------------------------------------------------------------------------------


@dataclass
class Part:
    name: str
    load: Callable[[], trimesh.Trimesh]
    bucket: str | None = None
    gt_program: Program | None = None
    n_extrudes: int | None = None  # the design's extrude count (INDEX.tsv, or the generator's program)


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def _read_index(folder: Path) -> dict[str, dict[str, str]]:
    """INDEX.tsv's rows by model name (columns model, bucket, n_sketches, n_extrudes, has_nurbs)."""
    path = folder / INDEX_FILE
    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        return {row["model"]: row for row in csv.DictReader(f, delimiter="\t")}


def mesh_parts(folder: str | Path, limit: int | None = None) -> list[Part]:
    from backend.geometry.mesh_io import load_mesh
    from backend.intake.files import collect_inputs

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    index = _read_index(folder)
    paths = collect_inputs([str(folder)])[:limit]
    parts = []
    for p in paths:
        entry = index.get(p.stem, {})
        bucket, n_extrudes = entry.get("bucket"), _int_or_none(entry.get("n_extrudes"))
        parts.append(Part(p.stem, (lambda p=p: load_mesh(p)), bucket, None, n_extrudes))
    return parts


def synthetic_parts(n: int, skip: int = 0) -> list[Part]:
    from backend.data.dataset import eval_seeds
    from backend.data.generator import generate

    parts = []
    for seed in eval_seeds(skip + n)[skip:]:
        program, mesh = generate(seed)
        parts.append(Part(f"seed_{seed}", (lambda m=mesh: m.copy()), None, program, len(program.features)))
    return parts


# --- per part ---------------------------------------------------------------------------------------


def curve_counts(program: Program) -> dict[str, int]:
    """Features, cut features and curves (circles / arcs / lines) of ``program``."""
    cuts = sum(f.operation is Operation.CUT for f in program.features)
    counts = {
        "features": len(program.features),
        "cuts": cuts,
        "curves": 0,
        "circles": 0,
        "arcs": 0,
        "lines": 0,
    }
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


def grid_text(program: Program) -> str:
    """``program`` on the token grid in canonical form: the same text is the same program."""
    from backend.cad.canonical import canonicalize
    from backend.cad.text import program_to_text

    return program_to_text(canonicalize(program, quantize=True))


def model_novelty(result: Any, section_only: Any = None) -> bool | None:
    """Whether the pipeline's winning model program is none of the section programs known (None: the
    winner is not the model's).

    Compared on the token grid (``grid_text``: model candidates are on the grid, section candidates are
    continuous). The model's program before refinement is the chosen one when the pipeline did not
    refine, else its lowest-CD model candidate (``best_by_source``: the chosen program before
    refinement is not kept). The section programs are the lowest-CD section candidates
    (``best_by_source``) of the pipeline and of the section-only run, and the section-only run's
    chosen program when it did not refine (both runs see the same section candidates).
    """
    from backend.reconstruct import SOURCE_MODEL, SOURCE_SECTION

    if result is None or result.source != SOURCE_MODEL:
        return None
    model = result.best_by_source.get(SOURCE_MODEL)
    won = result.program_normalized if not result.refined or model is None else model.program
    sections = [
        r.best_by_source[SOURCE_SECTION].program
        for r in (result, section_only)
        if r is not None and SOURCE_SECTION in r.best_by_source
    ]
    if section_only is not None and not section_only.refined and section_only.source == SOURCE_SECTION:
        sections.append(section_only.program_normalized)
    text = _grid_text_or_none(won)
    if text is None:  # a point off the token grid's range: no section program is the same
        return True
    return text not in {_grid_text_or_none(p) for p in sections}


def _grid_text_or_none(program: Program) -> str | None:
    try:
        return grid_text(program)
    except QuantizationRangeError:
        return None


def _decodes(reconstructor: Any, decoder: str) -> bool:
    """Whether ``decoder`` has a model to run (without one the pipeline is already sections only)."""
    return getattr(reconstructor, "unmask_model" if decoder == "unmask" else "model", None) is not None


def _run_pipeline(
    reconstructor: Any, given, mesh: trimesh.Trimesh, matrix: np.ndarray | None, options, perturb: str | None
) -> tuple[dict[str, Any], Any]:
    """One timed reconstruction of ``given``, scored against the clean ``mesh``: (row, result or None)."""
    from backend.reconstruct import Cancelled

    # With budgets in work (--fixed-budgets) the time limit is in this process's CPU seconds too: another
    # process's load must not time a part out (the result would depend on the load after all).
    clock = time.process_time if getattr(options, "fixed_budgets", False) else time.perf_counter
    start, used_from = time.perf_counter(), clock()
    deadline = used_from + TIMEOUT_S
    try:
        result = reconstructor.reconstruct(given, options, should_cancel=lambda: clock() > deadline)
    except Cancelled:
        return _invalid(f"timeout ({TIMEOUT_S:.0f} s)", time.perf_counter() - start), None
    except ValueError as exc:
        return _invalid(str(exc), time.perf_counter() - start), None
    seconds = time.perf_counter() - start
    row = {
        "valid": clock() - used_from <= TIMEOUT_S,
        "seconds": seconds,
        "source": result.source,
        "refined": result.refined,
        "candidates": {**result.stats.to_dict(), "section": result.n_section_candidates},
        "timings": result.timings,
        "input": result.input,
        **curve_counts(result.program_normalized),
        **_metrics(_back(result.mesh, matrix), mesh, None if perturb else result.scores),
    }
    return row, result


def evaluate_part(
    part: Part,
    reconstructor: Any,
    options: Any,
    reference: bool,
    perturb: str | None = None,
    section_only: bool = False,
) -> tuple[dict[str, Any], Any]:
    """Rows of one part (pipeline, section-only pipeline, model only, reference, bounding box) and the
    pipeline's result (or None). With ``perturb`` the pipeline reads the perturbed input and is scored
    against the clean mesh. ``section_only``: run the same Reconstructor again with ``candidates=0``
    (only when the pipeline has model candidates; otherwise the two runs are the same)."""
    from backend.reconstruct import SOURCE_MODEL

    row: dict[str, Any] = {"name": part.name, "bucket": part.bucket, "n_extrudes": part.n_extrudes}
    if part.gt_program is not None:
        row["ground_truth"] = curve_counts(part.gt_program)
    second = section_only and options.use_sections and options.candidates > 0
    second = second and _decodes(reconstructor, options.decoder)
    try:
        mesh = part.load()
        given, matrix = perturbed_input(mesh, part.name, perturb)
    except (OSError, ValueError) as exc:  # MeshError is a ValueError
        for method in (PIPELINE, MODEL_ONLY, REFERENCE, BBOX) + ((SECTION_ONLY,) if second else ()):
            row[method] = _invalid(f"input: {exc}")
        return row, None
    row[PIPELINE], result = _run_pipeline(reconstructor, given, mesh, matrix, options, perturb)
    if result is not None and options.use_sections and result.stats.candidates > 0:
        best_model = result.best_by_source.get(SOURCE_MODEL)  # no row without model candidates
        if best_model is None:
            row[MODEL_ONLY] = _invalid("no model candidate rebuilt")
        else:
            pred = _back(result.frame.invert_mesh(best_model.mesh), matrix)
            row[MODEL_ONLY] = {"valid": True, **curve_counts(best_model.program), **_metrics(pred, mesh)}
    sections_result = None
    if second:
        no_model = dataclasses.replace(options, candidates=0)
        row[SECTION_ONLY], sections_result = _run_pipeline(
            reconstructor, given, mesh, matrix, no_model, perturb
        )
    if result is not None and result.source == SOURCE_MODEL:
        row[PIPELINE]["model_novel"] = model_novelty(result, sections_result)
    if reference and perturb is None:
        row[REFERENCE] = _reference(mesh)
    row[BBOX] = _bbox(given, mesh, matrix)
    return row, result


def _bbox(given, mesh: trimesh.Trimesh, matrix: np.ndarray | None) -> dict[str, Any]:
    """The input's axis-aligned bounding box as a solid, scored against the clean mesh."""
    start = time.perf_counter()
    box = trimesh.creation.box(bounds=np.asarray(given.bounds))
    seconds = time.perf_counter() - start
    counts = {"features": 1, "cuts": 0, "curves": 4, "circles": 0, "arcs": 0, "lines": 4}
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
