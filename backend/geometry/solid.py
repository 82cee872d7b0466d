"""Program -> solid: each feature's profiles become a manifold3d CrossSection, extruded along the
sketch normal over ``Extent.interval()`` and placed with the plane frame, then combined with the
solid so far (new / join: union, cut: difference, intersect: intersection).

The plane frame used is orthonormal: the normal is normalised and ``x_dir`` is made exactly
perpendicular to it (validation already requires it to be nearly so) and normalised;
``y = normal × x``.
"""

from __future__ import annotations

import math

import manifold3d
import numpy as np
import trimesh

from backend.cad.program import Operation, Plane, Program
from backend.cad.validate import ProgramError, validated_polygons
from backend.geometry.convert import NotManifoldError, manifold_to_trimesh, trimesh_to_manifold
from backend.geometry.tessellate import signed_area

__all__ = [
    "GeometryError",
    "NotManifoldError",
    "build_manifold",
    "manifold_to_trimesh",
    "plane_basis",
    "program_to_mesh",
    "trimesh_to_manifold",
]

# manifold3d's CrossSection (Clipper2) snaps 2D coordinates to a 1e-8 grid; sketches are scaled up by a
# power of two (exact in floating point) before it and back down in the placement, so the snap is ~1e-14.
CROSS_SECTION_MAGNIFICATION_LOG2 = 20


class GeometryError(ValueError):
    """The program does not give a solid; the message says why."""


def plane_basis(plane: Plane) -> np.ndarray:
    """3x4 affine matrix [x | y | normal | origin] mapping sketch (u, v, w) to world coordinates."""
    n = np.asarray(plane.normal, dtype=np.float64)
    n = n / np.linalg.norm(n)
    x = np.asarray(plane.x_dir, dtype=np.float64)
    x = x - np.dot(x, n) * n
    x = x / np.linalg.norm(x)
    y = np.cross(n, x)
    return np.column_stack([x, y, n, np.asarray(plane.origin, dtype=np.float64)])


def _magnification(scale: float) -> float:
    return 2.0 ** (CROSS_SECTION_MAGNIFICATION_LOG2 - math.ceil(math.log2(max(scale, 1e-300))))


def _cross_section(profiles: list[list[np.ndarray]], k: float) -> manifold3d.CrossSection:
    sections = []
    for loops in profiles:
        contours = []
        for j, poly in enumerate(loops):
            ccw = signed_area(poly) > 0
            want_ccw = j == 0  # outer counter-clockwise, holes clockwise
            contours.append(k * (poly if ccw == want_ccw else poly[::-1]))
        sections.append(manifold3d.CrossSection(contours, manifold3d.FillRule.Positive))
    if len(sections) == 1:
        return sections[0]
    return manifold3d.CrossSection.batch_boolean(sections, manifold3d.OpType.Add)


def build_manifold(program: Program, scale: float = 1.0) -> manifold3d.Manifold:
    """The program's solid. ``scale`` is the part's size for the chord tolerance (1 in the normalised frame).

    Raises ``GeometryError`` for an invalid program or an empty result.
    """
    try:
        polygons = validated_polygons(program, scale)
    except ProgramError as exc:
        raise GeometryError(f"invalid program: {exc}") from exc
    k = _magnification(scale)
    shrink = np.diag([1.0 / k, 1.0 / k, 1.0])
    solid = manifold3d.Manifold()
    for i, (feature, profiles) in enumerate(zip(program.features, polygons)):
        section = _cross_section(profiles, k)
        if section.is_empty():
            raise GeometryError(f"feature {i}: the sketch encloses no area")
        lo, hi = feature.extent.interval()
        body = manifold3d.Manifold.extrude(section, hi - lo).translate((0.0, 0.0, lo))
        basis = plane_basis(feature.sketch.plane)
        basis[:, :3] = basis[:, :3] @ shrink
        body = body.transform(basis)
        op = feature.operation
        if op in (Operation.NEW, Operation.JOIN):
            solid = solid + body
        elif op is Operation.CUT:
            solid = solid - body
        else:
            solid = solid ^ body
    status = solid.status()
    if status != manifold3d.Error.NoError:
        raise GeometryError(f"solid construction failed ({status.name})")
    if solid.is_empty() or solid.volume() <= 0:
        raise GeometryError("empty result: the features leave no material")
    return solid


def program_to_mesh(program: Program, scale: float = 1.0) -> trimesh.Trimesh:
    """Watertight triangle mesh of the program's solid (see ``build_manifold``)."""
    return manifold_to_trimesh(build_manifold(program, scale))
