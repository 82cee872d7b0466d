"""Evaluation metrics, exactly as the protocol in the README ("Evaluation protocol").

- Chamfer distance: ``CD_SAMPLES`` area-uniform surface samples on each mesh; mean squared
  nearest-neighbour distance pred -> gt plus the same gt -> pred. Raw value; reports multiply by 1000.
- IoU: exact volumes through manifold3d booleans when both meshes are closed manifolds,
  otherwise voxel occupancy on a ``VOXEL_RESOLUTION``³ grid over the union bounding box
  (inside = odd number of surface crossings along +z through the voxel centre; for a consistently
  oriented mesh, a non-zero winding number instead, which overlapping shells cannot fool).
  Inputs that would break volumes are repaired first and the repair is reported (``iou_note``):
  duplicated faces are dropped, overlapping closed shells of one mesh are united; exact volumes
  that still disagree (intersection above either volume) fall back to voxels. IoU is never above 1.
- ``evaluate_pair``: gt is normalised (bbox centre -> origin, largest extent -> 1); the prediction
  goes through the same transform (strict) or through its own bounding box (published variant).
"""

from __future__ import annotations

from typing import Any

import manifold3d
import numpy as np
import trimesh
from scipy.spatial import cKDTree

from backend.geometry.convert import NotManifoldError, trimesh_to_manifold
from backend.geometry.normalize import normalizing_frame
from backend.geometry.sampling import sample_surface

CD_SAMPLES = 8192
VOXEL_RESOLUTION = 128
EXACT, VOXEL = "exact", "voxel"
PARITY, WINDING = "parity", "winding"
_RAY_JITTER = (1.234567e-6, 2.345678e-6)  # fraction of a voxel: keeps column rays off mesh edges


def chamfer_distance(pred: trimesh.Trimesh, gt: trimesh.Trimesh, n: int = CD_SAMPLES, seed: int = 0) -> float:
    """Mean squared NN distance pred -> gt + mean squared NN distance gt -> pred, on ``n`` samples each."""
    seq_pred, seq_gt = np.random.SeedSequence(seed).spawn(2)
    p, _ = sample_surface(pred, n, np.random.default_rng(seq_pred))
    g, _ = sample_surface(gt, n, np.random.default_rng(seq_gt))
    return two_way_squared(p.astype(np.float64), g.astype(np.float64))


def two_way_squared(p: np.ndarray, g: np.ndarray) -> float:
    """Mean squared nearest-neighbour distance p -> g plus the same g -> p (point sets (n, 3))."""
    d_pg, _ = cKDTree(g).query(p, k=1)
    d_gp, _ = cKDTree(p).query(g, k=1)
    return float(np.mean(d_pg**2) + np.mean(d_gp**2))


def iou_details(pred: trimesh.Trimesh, gt: trimesh.Trimesh, method: str = "auto") -> tuple[float, str, str]:
    """(IoU, "exact" | "voxel", note); the note names repairs made to score the meshes ("" if none)."""
    if method not in ("auto", EXACT, VOXEL):
        raise ValueError(f"method must be auto, exact or voxel, got {method!r}")
    pred, dropped_p = drop_duplicate_faces(pred)
    gt, dropped_g = drop_duplicate_faces(gt)
    notes = [
        f"{who}: {n} duplicate faces dropped" for who, n in (("pred", dropped_p), ("gt", dropped_g)) if n
    ]
    if method != VOXEL:
        try:
            (a, united_a), (b, united_b) = _solid(pred), _solid(gt)
        except NotManifoldError:
            if method == EXACT:
                raise
        else:
            notes += [
                f"{who}: {n} overlapping shells united"
                for who, n in (("pred", united_a), ("gt", united_b))
                if n
            ]
            va, vb, inter = a.volume(), b.volume(), (a ^ b).volume()
            union = va + vb - inter
            if inter <= min(va, vb) * (1 + 1e-9) or method == EXACT:
                return (min(1.0, float(inter / union)) if union > 0 else 0.0), EXACT, "; ".join(notes)
            notes.append("exact volumes inconsistent (self-intersecting mesh?): voxel winding numbers used")
    return _voxel_iou(pred, gt, VOXEL_RESOLUTION), VOXEL, "; ".join(notes)


def iou_with_method(pred: trimesh.Trimesh, gt: trimesh.Trimesh, method: str = "auto") -> tuple[float, str]:
    """(IoU, "exact" | "voxel"); ``method="auto"``: exact when both meshes are closed manifolds."""
    value, used, _ = iou_details(pred, gt, method)
    return value, used


def drop_duplicate_faces(mesh: trimesh.Trimesh) -> tuple[trimesh.Trimesh, int]:
    """(mesh without repeated faces (same three vertices, any order), how many were dropped)."""
    faces = np.asarray(mesh.faces)
    if len(faces) == 0:
        return mesh, 0
    s = np.sort(faces, axis=1).astype(np.int64)
    order = np.lexsort((s[:, 2], s[:, 1], s[:, 0]))
    repeated = np.all(s[order[1:]] == s[order[:-1]], axis=1)
    if not repeated.any():
        return mesh, 0
    keep = np.sort(np.delete(order, np.flatnonzero(repeated) + 1))
    return trimesh.Trimesh(np.asarray(mesh.vertices), faces[keep], process=False), len(faces) - len(keep)


def _solid(mesh: trimesh.Trimesh) -> tuple[manifold3d.Manifold, int]:
    """(manifold of a closed mesh, shells united): overlapping outward shells are united, so a region
    two shells cover counts once; a mesh with an inner (inverted) shell is a hollow part, kept as is."""
    m = trimesh_to_manifold(mesh)
    parts = m.decompose()
    if len(parts) < 2 or any(p.volume() <= 0 for p in parts):
        return m, 0
    united = manifold3d.Manifold.batch_boolean(parts, manifold3d.OpType.Add)
    if united.volume() < m.volume() * (1 - 1e-9):
        return united, len(parts)
    return m, 0


def iou(pred: trimesh.Trimesh, gt: trimesh.Trimesh) -> float:
    """Intersection over union of the enclosed volumes (see ``iou_with_method``)."""
    return iou_with_method(pred, gt)[0]


def evaluate_pair(
    pred: trimesh.Trimesh, gt: trimesh.Trimesh, strict: bool = True, n: int = CD_SAMPLES, seed: int = 0
) -> dict[str, Any]:
    """Protocol metrics of a prediction (in the input's frame) against the input mesh.

    Returns {"cd": raw Chamfer distance, "iou": float, "iou_method": "exact" | "voxel",
    "iou_note": repairs made to score the meshes, "" if none}.
    The meshes passed in are not modified.
    """
    frame = normalizing_frame(gt)
    gt_n = frame.apply_to_mesh(gt)
    pred_frame = frame if strict else normalizing_frame(pred)
    pred_n = pred_frame.apply_to_mesh(pred)
    value, method, note = iou_details(pred_n, gt_n)
    cd = chamfer_distance(pred_n, gt_n, n=n, seed=seed)
    return {"cd": cd, "iou": value, "iou_method": method, "iou_note": note}


# --- voxel occupancy ------------------------------------------------------------------------------


def _voxel_iou(a: trimesh.Trimesh, b: trimesh.Trimesh, res: int) -> float:
    lo = np.minimum(a.bounds[0], b.bounds[0])
    hi = np.maximum(a.bounds[1], b.bounds[1])
    occ_a, occ_b = occupancy(a, lo, hi, res, _rule(a)), occupancy(b, lo, hi, res, _rule(b))
    union = np.count_nonzero(occ_a | occ_b)
    return float(np.count_nonzero(occ_a & occ_b) / union) if union else 0.0


def _rule(mesh: trimesh.Trimesh) -> str:
    """Winding numbers for a consistently oriented mesh that encloses volume, else crossing parity."""
    try:
        return WINDING if mesh.is_winding_consistent and abs(mesh.volume) > 0 else PARITY
    except Exception:  # trimesh's edge checks on very odd soups
        return PARITY


def occupancy(
    mesh: trimesh.Trimesh, lo: np.ndarray, hi: np.ndarray, res: int, rule: str = "parity"
) -> np.ndarray:
    """(res, res, res) bool grid over [lo, hi]: voxel centres inside the mesh along +z rays.

    ``rule="parity"``: an odd number of crossings below; ``"winding"``: a non-zero sum of signed
    crossings (overlapping or repeated shells count once).
    """
    size = np.maximum(np.asarray(hi, float) - np.asarray(lo, float), 1e-12)
    step = size / res
    tri = (np.asarray(mesh.vertices, dtype=np.float64)[np.asarray(mesh.faces)] - lo) / step - 0.5  # voxel idx
    tri[:, :, 0] -= _RAY_JITTER[0]
    tri[:, :, 1] -= _RAY_JITTER[1]
    xy = tri[:, :, :2]
    i0 = np.clip(np.ceil(xy[:, :, 0].min(1)), 0, res).astype(np.int64)
    i1 = np.clip(np.floor(xy[:, :, 0].max(1)), -1, res - 1).astype(np.int64)
    j0 = np.clip(np.ceil(xy[:, :, 1].min(1)), 0, res).astype(np.int64)
    j1 = np.clip(np.floor(xy[:, :, 1].max(1)), -1, res - 1).astype(np.int64)
    ni, nj = np.maximum(i1 - i0 + 1, 0), np.maximum(j1 - j0 + 1, 0)
    count = ni * nj
    t = np.repeat(np.arange(len(tri)), count)
    local = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    ci = i0[t] + local // nj[t]
    cj = j0[t] + local % nj[t]
    p0, p1, p2 = tri[t, 0], tri[t, 1], tri[t, 2]
    e1, e2 = p1 - p0, p2 - p0
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    dx, dy = ci - p0[:, 0], cj - p0[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (dx * e2[:, 1] - dy * e2[:, 0]) / det
        v = (e1[:, 0] * dy - e1[:, 1] * dx) / det
        hit = (det != 0) & (u >= 0) & (v >= 0) & (u + v <= 1)
    z = p0[hit, 2] + u[hit] * e1[hit, 2] + v[hit] * e2[hit, 2]
    k = np.clip(np.ceil(z), 0, res).astype(np.int64)  # first voxel centre above the crossing
    toggles = np.zeros((res, res, res + 1), dtype=np.int32)
    weight = -np.sign(det[hit]).astype(np.int32) if rule == WINDING else 1  # entering from below: +1
    np.add.at(toggles, (ci[hit], cj[hit], k), weight)
    crossings = np.cumsum(toggles, axis=2)[:, :, :res]
    return crossings != 0 if rule == WINDING else (crossings % 2).astype(bool)


def evaluate_against_points(
    pred: trimesh.Trimesh, points: np.ndarray, n: int = CD_SAMPLES, seed: int = 0
) -> dict[str, Any]:
    """Metrics of a prediction against a point-cloud input (no surface, no volume): the Chamfer distance
    between ``n`` samples of the prediction and the points (at most ``n``, drawn deterministically), both
    through the points' normalising frame; IoU is not defined (None, method "none")."""
    pts = np.asarray(points, dtype=np.float64)
    frame = normalizing_frame(np.stack([pts.min(axis=0), pts.max(axis=0)]))
    g = frame.apply(pts)
    rng = np.random.default_rng(seed)
    if len(g) > n:
        g = g[rng.choice(len(g), size=n, replace=False)]
    cd = two_way_squared(frame.apply(sample_surface(pred, n, rng)[0]), g)
    return {
        "cd": cd,
        "iou": None,
        "iou_method": "none",
        "iou_note": "point-cloud input: no volume to compare",
    }
