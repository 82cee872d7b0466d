"""The pipeline: mesh in -> verified CAD program out (used by the CLI, the server and the evaluation).

Stages (the names passed to ``progress``)::

    validate   clear InputMeshError for meshes that cannot be reconstructed; a mesh over the work budget
               (``intake.budget.WORK_TRIANGLES``) is decimated on a copy, a mesh with holes gets them filled
               on a copy (a clean CAD mesh's exactly, ``intake.repair``; a scan's across each rim's plane,
               ``intake.scan_holes``), a point cloud's stray samples are left out
               (``intake.strays``) and a cloud over ``intake.budget.WORK_POINTS`` samples is subsampled, both
               on a copy, and ``scores["input_note"]`` says so (a triangle mesh, or a point cloud: vertices
               without faces)
    frame      the part's own axes (``intake.orient``: flat-face normals, PCA fallback; an aligned input
               keeps the identity), normalise (bbox centre -> origin, largest extent 1), observe the
               surface (points + normals, estimated for a point cloud; ``intake.prepare``)
    sections   slice the normalised input (exact route for a clean mesh, robust for scans and clouds,
               which measures their noise): the section candidates, and the observation tokens a
               conditioned model reads
    encode     sample points + normals of the normalised input, encode (with the observation tokens)
    decode k/N grammar-constrained decoding of N model candidates (k finished so far); a LoRA checkpoint
               (base-model vocabulary) decodes greedy text instead, one point sample per candidate, parsed
    verify     the model's programs, each also snapped to the mesh (``verify.snap``: extents onto flat
               levels, loops onto the section's loops), and the section candidates are rebuilt, measured
               against the input and chosen by the verifier's one rule (``backend.verify``: fidelity first,
               then compactness)
    refine     the verifier's coordinate search on extrude distances and plane offsets of the winner
    intent     the winner written as a person would model it when the rule prefers that and the solid is
               the same (``verify.candidates.written_as_designed``: holes and notches as cuts, cuts through
               one depth as one, islands as features)
    score      protocol metrics (metrics.evaluate_pair) of the result against the input

The result is mapped back to the input frame exactly (turned planes; the program stays editable). Cancellation (``should_cancel``) is honoured between
stages, every 16 decoding steps, between candidates and between refinement trials. Without a
checkpoint only section candidates are used (and a bounding-box solid when nothing else rebuilds);
``ReconstructResult.source`` says where the winner came from.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import trimesh

from backend.cad.program import Program
from backend.cad.serialize import program_to_dict
from backend.decode import DECODERS, DecodeResult, DecodeStats
from backend.geometry.metrics import evaluate_against_points, evaluate_pair
from backend.geometry.normalize import Frame
from backend.intake.check import FLAT_TOLERANCE, MAX_TRIANGLES, InputMeshError, check_input_mesh
from backend.intake.clouds import cloud_for_fitting
from backend.intake.meshes import mesh_for_fitting
from backend.intake.options import check_options
from backend.intake.prepare import Prepared, prepare
from backend.model.checkpoint import (
    CONFIG_FILE,
    DEFAULT_CHECKPOINT,
    DEFAULT_UNMASK_CHECKPOINT,
    load_checkpoint,
)
from backend.model.lora import decode_text_candidates
from backend.model.runtime import SINGLE_THREAD_PARAMETERS, pick_device, torch_threads
from backend.sections.candidates import slicer_for
from backend.sections.observe import observation_ids
from backend.sections.slices import RobustSlicer
from backend.verify import SOURCE_BBOX, SOURCE_MODEL, SOURCE_SECTION, Candidate, ChamferTarget
from backend.verify.candidates import (
    bbox_candidate,
    frame_section_programs,
    on_flat_levels,
    score_programs,
    snapped_programs,
    with_derived_candidates,
    written_as_designed,
)
from backend.verify.levels import with_level_search
from backend.verify.reference import IouScorer
from backend.verify.refine import (
    REFINE_BUDGET_EVALS,
    REFINE_BUDGET_S,
    accept_refinement,
    pick_keeping_volume,
    refine_candidate,
    volume_reference,
)
from backend.verify.scanned_holes import AxisHole, carved, gathered_holes, holes_shown, with_hole_cuts
from backend.verify.snap import Snapper

log = logging.getLogger(__name__)

DECODE_BUDGET_S = 2.0  # wall-clock budget of autoregressive decoding (after a ~300-token prefix)
# the same in work, for runs that must not depend on the machine's load (``fixed_budgets``): decoding
# steps of the 8 candidates together, what DECODE_BUDGET_S allows on the reference 2-core machine alone
# (median, ``scripts/calibrate_budgets.py``; seen every 16 steps, so up to 8 steps over the clock's stop)
DECODE_BUDGET_STEPS = 176

__all__ = [  # the pipeline's names, and the intake / verifier names its callers use through it
    "FLAT_TOLERANCE",
    "MAX_TRIANGLES",
    "SOURCE_BBOX",
    "SOURCE_MODEL",
    "SOURCE_SECTION",
    "Cancelled",
    "InputMeshError",
    "ReconstructOptions",
    "ReconstructResult",
    "Reconstructor",
]

Progress = Callable[[float, str], None]
ShouldCancel = Callable[[], bool]


class Cancelled(Exception):
    """The caller asked to stop (``should_cancel`` returned True)."""


@dataclass
class ReconstructOptions:
    candidates: int = 8
    temperature: float = 0.8
    top_p: float = 0.95
    seed: int = 0
    decoder: str = "ar"
    steps: int | None = None  # model passes of the "unmask" decoder (default: its DEFAULT_STEPS)
    use_sections: bool = True
    refine: bool = True
    n_points: int | None = None  # points for the encoder (default: the model's config, ModelConfig.n_points)
    max_tokens: int | None = None  # default: the model's config (LoRA models: base-tokenizer tokens)
    refine_budget_s: float = REFINE_BUDGET_S
    decode_budget_s: float = DECODE_BUDGET_S  # autoregressive candidates still decoding then are dropped
    # budgets in work instead of seconds: the decoding steps and refinement trials the two budgets' seconds
    # buy on the reference 2-core machine (DECODE_BUDGET_STEPS for DECODE_BUDGET_S, refine.REFINE_BUDGET_EVALS
    # for REFINE_BUDGET_S): the same result under any load, for evaluations compared side by side; 0 s
    # still means no budget
    fixed_budgets: bool = False
    level_search: bool = True  # the model's best programs searched over the mesh's levels (verify.levels)
    orient: bool = True  # find the part's own axes (False: reconstruct in the input's axes as given)
    # the part was scanned standing on a table: a point cloud's face on the lowest level of its own z axis,
    # and its faces turned downwards above it, have no samples and are closed with some
    # (``intake.underside``); meshes are read as they are
    underside_unseen: bool = False


@dataclass
class ReconstructResult:
    program: Program  # input frame
    program_normalized: Program
    frame: Frame
    mesh: trimesh.Trimesh  # rebuilt solid, input frame
    scores: dict[str, Any]  # cd (protocol, raw), iou, iou_method, rank_cd
    source: str  # "model" | "section" | "bbox"
    n_features: int
    n_curves: int
    stats: DecodeStats
    n_section_candidates: int = 0
    refined: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    best_by_source: dict[str, Candidate] = field(default_factory=dict)  # normalised frame, before refine
    input: dict[str, Any] = field(default_factory=dict)  # kind (mesh | points), orientation, noise

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (program in the input frame, cadprog/1 layout)."""
        return {
            "program": program_to_dict(self.program),
            "frame": self.frame.to_dict(),
            "scores": dict(self.scores),
            "source": self.source,
            "n_features": self.n_features,
            "n_curves": self.n_curves,
            "candidates": {**self.stats.to_dict(), "section": self.n_section_candidates},
            "refined": self.refined,
            "timings": dict(self.timings),
            "input": dict(self.input),
        }


# --- the pipeline -----------------------------------------------------------------------------------


class Reconstructor:
    """Loads the model once; ``reconstruct`` turns meshes into verified programs.

    ``checkpoint=None`` uses the shipped default, or no model (section candidates only) when it is
    missing; an explicit path that does not hold a model raises ``FileNotFoundError``. The same holds
    for ``unmask_checkpoint`` (default ``DEFAULT_UNMASK_CHECKPOINT``; "none": do not load one), the
    masked-diffusion model of the "unmask" decoder, which is in ``decoders`` only when it is loaded.
    ``threads``: torch CPU threads while encoding and decoding (default: 1 for small models on CPU,
    else unchanged).
    """

    def __init__(
        self,
        checkpoint: str | Path | None = None,
        device: str | torch.device = "auto",
        threads: int | None = None,
        unmask_checkpoint: str | Path | None = None,
    ) -> None:
        self.device = pick_device(device)
        self.model = self.tokenizer = None
        self.unmask_model = self.unmask_tokenizer = None
        self.meta: dict[str, Any] = {}
        self.unmask_meta: dict[str, Any] = {}
        self.threads = threads
        upath = Path(unmask_checkpoint) if unmask_checkpoint is not None else DEFAULT_UNMASK_CHECKPOINT
        self.unmask_checkpoint = upath
        off = unmask_checkpoint is not None and str(unmask_checkpoint).lower() == "none"
        if not off and (unmask_checkpoint is not None or (upath / CONFIG_FILE).is_file()):
            self.unmask_model, self.unmask_tokenizer, self.unmask_meta = load_checkpoint(upath, self.device)
            self._check_objective(self.unmask_model, "unmask", upath)
            self._single_thread_if_small(self.unmask_model, threads)
        path = Path(checkpoint) if checkpoint is not None else DEFAULT_CHECKPOINT
        self.checkpoint = path
        if checkpoint is None and not (path / CONFIG_FILE).is_file():
            log.warning("no model checkpoint at %s: reconstructing with section candidates only", path)
            return
        self.model, self.tokenizer, self.meta = load_checkpoint(path, self.device)
        self._check_objective(self.model, "ar", path)
        self._single_thread_if_small(self.model, threads)

    @staticmethod
    def _check_objective(model, objective: str, path: Path) -> None:
        if model.config.objective != objective:
            flag = "--unmask-checkpoint" if model.config.objective == "unmask" else "--checkpoint"
            raise ValueError(
                f"{path} holds a model trained with objective {model.config.objective!r}, not {objective!r};"
                f" pass it with {flag}"
            )

    def _single_thread_if_small(self, model, threads: int | None) -> None:
        small = model.num_parameters() < SINGLE_THREAD_PARAMETERS
        if threads is None and self.device.type == "cpu" and small:
            self.threads = 1

    @property
    def has_model(self) -> bool:
        return self.model is not None

    @property
    def is_lora(self) -> bool:
        """The "ar" model is a LoRA model over a base LM: its decoder uses the base model's vocabulary,
        so it decodes unconstrained text (``LoraCadModel.decode_programs``), not grammar-masked CAD ids."""
        return self.model is not None and bool(getattr(self.model.config, "base_model", None))

    @property
    def decoders(self) -> list[str]:
        """Names accepted by ``ReconstructOptions.decoder`` ("unmask" only with its model loaded)."""
        return [d for d in DECODERS if d != "unmask" or self.unmask_model is not None]

    def _model_for(self, decoder: str):
        """(model, tokenizer) that ``decoder`` runs on (either may be None: no model)."""
        if decoder == "unmask":
            return self.unmask_model, self.unmask_tokenizer
        return self.model, self.tokenizer

    def reconstruct(
        self,
        mesh: trimesh.Trimesh,
        options: ReconstructOptions | None = None,
        progress: Progress | None = None,
        should_cancel: ShouldCancel | None = None,
    ) -> ReconstructResult:
        """Reconstruct ``mesh`` (input frame, never modified); raises InputMeshError or Cancelled."""
        opt = options or ReconstructOptions()
        if opt.decoder not in self.decoders:
            hint = " (no unmask checkpoint loaded)" if opt.decoder in DECODERS else ""
            raise ValueError(f"unknown decoder {opt.decoder!r}{hint}; available: {', '.join(self.decoders)}")
        check_options(opt)  # ranges that cannot make sampling fail (backend.intake.options)
        timings: dict[str, float] = {}
        clock = [time.perf_counter()]

        def check() -> None:
            if should_cancel is not None and should_cancel():
                raise Cancelled("reconstruction cancelled")

        last = [0.0]

        def stage(fraction: float, name: str) -> None:
            check()
            last[0] = max(last[0], round(fraction, 4))  # never goes back
            if progress is not None:
                progress(last[0], name)

        def lap(name: str) -> None:
            now = time.perf_counter()
            timings[name] = timings.get(name, 0.0) + now - clock[0]
            clock[0] = now

        stage(0.0, "validate")
        checked, reduced, holes_filled, strays = check_input_mesh(mesh), "", 0, 0
        if isinstance(checked, trimesh.PointCloud):  # strays out, the budget, the underside on request
            checked, strays, reduced = cloud_for_fitting(checked, opt.underside_unseen)
        if isinstance(checked, trimesh.Trimesh):  # holes filled, the budget
            checked, holes_filled, reduced = mesh_for_fitting(checked, opt.underside_unseen)
        lap("validate")

        stage(0.01, "frame")
        prep = prepare(checked, orient=opt.orient)
        mesh_n, frame = prep.geometry, prep.frame
        if prep.is_cloud:
            target = ChamferTarget.from_points(prep.points, seed=opt.seed)
        else:
            target = ChamferTarget(mesh_n, seed=opt.seed)
        lap("frame")

        stage(0.015, "sections")
        slicer = _slicer(prep)
        sections = frame_section_programs(prep, slicer) if opt.use_sections and slicer is not None else []
        lap("sections")

        stage(0.02, "encode")
        with torch_threads(self.threads):
            if opt.decoder == "ar" and self.is_lora:
                lap("encode")  # the text decoder encodes its own point samples
                results = self._decode_text(prep, opt, stage)
            else:
                encoded = self._encode(prep, opt, slicer)
                lap("encode")
                results = self._decode(encoded, opt, stage) if encoded is not None else []
        stats = DecodeStats.from_results(results)
        lap("decode")

        stage(0.6, "verify")
        candidates, n_sections, holes = self._verify(
            results, sections, slicer, prep, target, stats, stage, lap, check, opt.level_search
        )
        # built once for both picks; the found holes carved out of a scan's sealed solid
        reference = carved(volume_reference(mesh_n, prep.volume_truth), holes) if holes else None
        best = pick_keeping_volume(candidates, mesh_n, prep.volume_truth, reference=reference)
        if holes:  # the rule's choice with the holes it lacks, and of the tied, those that show most first
            candidates = with_hole_cuts(candidates, holes, target, bases=[best])
            shown = holes_shown(holes)
            best = pick_keeping_volume(
                candidates, mesh_n, prep.volume_truth, holes_shown=shown, reference=reference
            )
        best_by_source = {c.source: c for c in sorted(candidates, key=lambda c: -c.rank_cd)}  # lowest last
        lap("verify")

        refined = False
        if opt.refine and opt.refine_budget_s > 0:
            stage(0.85, "refine")
            evals = (
                round(REFINE_BUDGET_EVALS * opt.refine_budget_s / REFINE_BUDGET_S)
                if opt.fixed_budgets
                else None
            )
            better = refine_candidate(best, target, opt.refine_budget_s, check, evals)
            if accept_refinement(better, best, mesh_n, prep.volume_truth):
                best, refined = better, True
            lap("refine")

        if isinstance(slicer, RobustSlicer):  # a scan or a point cloud: faces on the measured faces
            best = on_flat_levels(best, Snapper(slicer), target)
            lap("levels")

        stage(0.93, "intent")
        best = written_as_designed(best, target)
        lap("intent")

        stage(0.95, "score")
        program_in = frame.program_to_input(best.program)
        mesh_in = frame.invert_mesh(best.mesh)
        if prep.is_cloud:
            measured = evaluate_against_points(mesh_in, checked.vertices)
        else:
            measured = evaluate_pair(mesh_in, checked)
        scores = {**measured, "rank_cd": best.rank_cd, "input_note": reduced}
        lap("score")
        timings["total"] = sum(timings.values())
        if progress is not None:
            progress(1.0, "done")
        log.info(
            "reconstructed: source=%s cd=%.5f iou=%.3f features=%d in %.2f s",
            best.source,
            scores["cd"],
            scores["iou"],
            len(best.program.features),
            timings["total"],
        )
        return ReconstructResult(
            program=program_in,
            program_normalized=best.program,
            frame=frame,
            mesh=mesh_in,
            scores=scores,
            source=best.source,
            n_features=len(best.program.features),
            n_curves=best.program.curve_count,
            stats=stats,
            n_section_candidates=n_sections,
            refined=refined,
            timings=timings,
            best_by_source=best_by_source,
            input={
                "kind": "points" if prep.is_cloud else "mesh",
                "orientation": prep.orientation.method,
                "planar_share": round(prep.orientation.planar_share, 4),
                "noise": _measured_noise(slicer),
                "volume_truth": prep.volume_truth is not None,
                "holes_filled": holes_filled,
                "strays_left_out": strays,
            },
        )

    # --- stages ---------------------------------------------------------------------------------------

    def _points(self, prep: Prepared, n: int, seed: int) -> torch.Tensor:
        """(n, 6) surface points + normals of the normalised input, on the model's device."""
        pts, normals = prep.sample(n, seed)
        return torch.from_numpy(np.concatenate([pts, normals], axis=1)).to(self.device)

    def _encode(self, prep: Prepared, opt: ReconstructOptions, slicer):
        """(the decoders' prefix: encoded points, then the observation tokens for a conditioned model;
        its observed-number logit bias or None), or None without a model."""
        model, tokenizer = self._model_for(opt.decoder)
        if model is None or opt.candidates < 1:
            return None
        points = self._points(prep, opt.n_points or model.config.n_points, opt.seed)[None]
        obs = None
        if model.observes:
            ids = [tokenizer.bos_id, tokenizer.eos_id]  # nothing observed when slicing failed
            if slicer is not None:
                ids = observation_ids(slicer, tokenizer, model.config.n_obs_tokens)
            obs = torch.tensor([ids], device=self.device)
        with torch.inference_mode():
            bias = model.observed_bias(obs)
            return model.condition(points, obs)[0], None if bias is None else bias[0]

    def _decode_text(self, prep: Prepared, opt: ReconstructOptions, stage) -> list[DecodeResult]:
        """LoRA model: greedy unconstrained text, parsed (``lora.decode_text_candidates``); candidate k
        reads its own point sample (seed + k). Cancellation is checked before and after."""
        if opt.candidates < 1:
            return []
        n_points = opt.n_points or self.model.config.n_points
        points = torch.stack([self._points(prep, n_points, opt.seed + k) for k in range(opt.candidates)])
        stage(0.05, f"decode 0/{opt.candidates}")
        results = decode_text_candidates(self.model, points, opt.max_tokens)
        stage(0.6, f"decode {sum(r.finished for r in results)}/{opt.candidates}")
        return results

    def _decode(self, encoded, opt: ReconstructOptions, stage) -> list[DecodeResult]:
        n = opt.candidates

        def on_step(step: int, total: int, finished: int) -> None:
            stage(0.05 + 0.55 * step / max(total, 1), f"decode {finished}/{n}")

        model, tokenizer = self._model_for(opt.decoder)
        extra = {"steps": opt.steps} if opt.decoder == "unmask" and opt.steps is not None else {}
        if opt.decoder == "ar" and opt.decode_budget_s > 0:
            if opt.fixed_budgets:  # the steps these seconds buy on the reference machine
                extra["step_budget"] = round(DECODE_BUDGET_STEPS * opt.decode_budget_s / DECODE_BUDGET_S)
            else:
                extra["deadline"] = time.perf_counter() + opt.decode_budget_s
        return DECODERS[opt.decoder](
            model,
            tokenizer,
            n_candidates=n,
            temperature=opt.temperature,
            top_p=opt.top_p,
            seed=opt.seed,
            max_tokens=opt.max_tokens,
            prefix=encoded[0],
            logit_bias=encoded[1],
            progress=on_step,
            **extra,
        )

    def _verify(
        self, results, sections, slicer, prep: Prepared, target, stats, stage, lap, check, level_search
    ) -> tuple[list[Candidate], int, list[AxisHole]]:
        """The scored candidates, how many came from the sections, and the round holes a scan's or a point
        cloud's sections found (``verify.scanned_holes``; none for a clean mesh)."""
        programs: list[tuple[Program, str]] = []
        seen: set[tuple[int, ...]] = set()
        for r in results:
            if r.program is None:
                continue
            key = tuple(r.tokens)
            if key in seen:
                stats.duplicates += 1
                continue
            seen.add(key)
            programs.append((r.program, SOURCE_MODEL))
        n_raw = len(programs)
        snapper = Snapper(slicer) if slicer is not None else None  # one cache of levels and sections
        if snapper is not None and programs:  # the model's structure, the mesh's numbers
            programs += [(p, SOURCE_MODEL) for p in snapped_programs([p for p, _ in programs], snapper)]
        n_model = len(programs)
        stats.snapped = n_model - n_raw
        lap("verify")
        programs += [(p, SOURCE_SECTION) for p in sections]

        def on_candidate(k: int, n: int) -> None:
            stage(0.6 + 0.25 * k / max(n, 1), "verify")

        candidates, failed = score_programs(programs, target, on_candidate)
        volume = IouScorer(prep.volume_truth) if prep.volume_truth is not None else None  # one per part
        if snapper is not None and level_search:  # the model's best, their ends searched over the levels
            candidates = with_level_search(
                candidates, snapper, target, SOURCE_MODEL, check=check, volume=volume
            )
        holes = gathered_holes(slicer) if isinstance(slicer, RobustSlicer) else []
        if holes:  # a scan or a point cloud: the holes its sections found, cut
            candidates = with_hole_cuts(candidates, holes, target)
        truth = prep.volume_truth if sections else None  # no residual features without the section route
        candidates = with_derived_candidates(  # other axes; holes as cuts, islands
            candidates, truth, target, volume if truth is not None else None
        )
        stats.failed_rebuild += sum(k < n_raw for k, _, _ in failed)  # the model's own programs
        stats.failed_snapped += sum(n_raw <= k < n_model for k, _, _ in failed)
        if not candidates:
            log.warning(
                "no candidate rebuilt (%d model, %d section): using the bounding box", n_model, len(sections)
            )
            candidates.append(bbox_candidate(prep.geometry, target))
        return candidates, len(sections), holes


def _measured_noise(slicer) -> float | None:
    """The surface noise the sections measured and fitted with (a scan's or a point cloud's sigma,
    normalised units); 0 for a clean mesh, whose sections are exact; None when slicing failed (not
    measured)."""
    if slicer is None:
        return None
    return float(slicer.surface.noise) if isinstance(slicer, RobustSlicer) else 0.0


def _slicer(prep: Prepared):
    """The input's slicer (``sections.candidates.slicer_for``), or None when slicing fails (logged)."""
    try:
        return slicer_for(prep.geometry)
    except Exception as exc:  # the model and the bounding box still work without sections
        log.warning("slicing failed: %s: %s", type(exc).__name__, exc)
        return None
