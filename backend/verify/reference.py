"""IoU scoring of programs against one mesh, and the evaluation's section reference row: the best single
section extrusion, chosen by the verifier's rule (``rank.choose``) with 1 − IoU as the loss."""

from __future__ import annotations

from collections.abc import Sequence

import manifold3d
import numpy as np
import trimesh

from backend.cad.program import Program
from backend.geometry.convert import NotManifoldError, manifold_to_trimesh, trimesh_to_manifold
from backend.geometry.metrics import iou_with_method, occupancy
from backend.geometry.solid import GeometryError, build_manifold, program_to_mesh
from backend.verify.rank import choose

RANKING_VOXELS = 64  # voxel grid for ranking candidates of an open (non-manifold) mesh
IOU_TIE = 1e-6  # IoUs this close count as a tie (the compact program wins)


class NoSectionError(ValueError):
    """No axis-aligned section of the mesh gives a valid profile."""


class IouScorer:
    """IoU of programs against one mesh; exact (manifold booleans) when the mesh is closed, else a
    coarse voxel proxy fit for ranking only (``best_section_program`` reports the protocol IoU)."""

    def __init__(self, mesh: trimesh.Trimesh, exact: bool = True) -> None:
        """``exact=False``: voxel occupancy even for a closed mesh (a noisy scan is no exact truth)."""
        self.mesh = mesh
        try:
            if not exact or not isinstance(mesh, trimesh.Trimesh):
                raise NotManifoldError("voxels asked for")
            self.target: manifold3d.Manifold | None = trimesh_to_manifold(mesh)
            self.volume = self.target.volume()
        except NotManifoldError:
            self.target = None
            b = np.asarray(mesh.bounds)
            pad = 0.02 * float(np.max(b[1] - b[0]))
            self.lo, self.hi = b[0] - pad, b[1] + pad
            self.occ = _target_occupancy(mesh, self.lo, self.hi)

    @property
    def exact(self) -> bool:
        return self.target is not None

    def bound(self, solid: manifold3d.Manifold) -> float:
        """Cheap upper bound of the solid's IoU (volume ratio; 1 without an exact target)."""
        if self.target is None:
            return 1.0
        v = solid.volume()
        return min(v, self.volume) / max(v, self.volume)

    def iou(self, solid: manifold3d.Manifold) -> float:
        if self.target is not None:
            inter = (solid ^ self.target).volume()
            union = self.volume + solid.volume() - inter
            return float(inter / union) if union > 0 else 0.0
        occ = occupancy(manifold_to_trimesh(solid), self.lo, self.hi, RANKING_VOXELS)
        union = np.count_nonzero(occ | self.occ)
        return float(np.count_nonzero(occ & self.occ) / union) if union else 0.0

    def __call__(self, program: Program) -> float:
        try:
            return self.iou(build_manifold(program))
        except GeometryError:
            return 0.0


def _target_occupancy(
    mesh: trimesh.Trimesh | trimesh.PointCloud, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Crossing parity for a closed or clean mesh; the robust closed solid (``sections.slices``) of an open
    scan or a point cloud, where parity has no meaning."""
    from backend.sections.cloud import is_clean_mesh
    from backend.sections.slices import robust_occupancy

    if isinstance(mesh, trimesh.Trimesh) and (mesh.is_watertight or is_clean_mesh(mesh)):
        return occupancy(mesh, lo, hi, RANKING_VOXELS)
    return robust_occupancy(mesh, lo, hi, RANKING_VOXELS)


def _choose(scored: Sequence[tuple[Program, float]]) -> tuple[Program, float]:
    return choose(scored, lambda ps: 1.0 - ps[1], lambda ps: ps[0], tie_relative=0.0, tie_absolute=IOU_TIE)


def rank_programs(mesh: trimesh.Trimesh, programs: Sequence[Program]) -> list[tuple[Program, float]]:
    """(program, IoU), the rule's choice first, then by IoU."""
    scorer = IouScorer(mesh)
    scored = [(p, scorer(p)) for p in programs]
    if not scored:
        return []
    first = _choose(scored)
    rest = sorted((ps for ps in scored if ps is not first), key=lambda ps: -ps[1])
    return [first, *rest]


def best_program(mesh: trimesh.Trimesh, programs: Sequence[Program]) -> tuple[Program, float] | None:
    """The rule's choice by IoU, skipping programs whose volume bound cannot reach the tie band.

    The IoU returned is the protocol's (``metrics.iou_with_method``): exact for a closed mesh, else voxels.
    """
    scorer = IouScorer(mesh)
    built = []
    for p in programs:
        try:
            solid = build_manifold(p)
        except GeometryError:
            continue
        built.append((scorer.bound(solid), p, solid))
    built.sort(key=lambda b: -b[0])
    scored: list[tuple[Program, float]] = []
    for bound, p, solid in built:
        if scored and bound < max(s[1] for s in scored) - IOU_TIE:
            break
        scored.append((p, scorer.iou(solid)))
    if not scored:
        return None
    best = _choose(scored)
    if scorer.exact or not isinstance(mesh, trimesh.Trimesh):
        return best
    return best[0], iou_with_method(program_to_mesh(best[0]), mesh)[0]


def best_section_program(mesh_normalized: trimesh.Trimesh, quantize: bool = True) -> tuple[Program, float]:
    """The best single section extrusion and its protocol IoU against the mesh (the reference row).

    Raises ``NoSectionError`` when no section gives a valid program.
    """
    from backend.sections.candidates import section_candidates

    best = best_program(mesh_normalized, section_candidates(mesh_normalized, quantize=quantize))
    if best is None:
        raise NoSectionError("no axis-aligned section of the mesh gives a valid profile")
    return best
