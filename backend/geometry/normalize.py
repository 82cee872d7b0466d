"""The normalised frame: the part's bounding-box centre at the origin, its largest extent 1, and (when
the part was found turned in space) its own axes along the world axes.

A ``Frame`` maps between the two frames, with ``R`` the optional rotation into the part's own axes
(``intake.orient``; the identity when absent)::

    normalised = (R @ input - translation) / scale        input = R.T @ (scale * normalised + translation)

with ``translation`` the bounding-box centre and ``scale`` the largest extent, both of the rotated input.
Programs map back exactly: planes are general, so a program written in the normalised frame is the same
program (origins, x directions and normals turned; sketch coordinates and distances scaled) in the input's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import trimesh

from backend.cad.program import Program, Vec3

Matrix3 = tuple[Vec3, Vec3, Vec3]


@dataclass(frozen=True)
class Frame:
    scale: float
    translation: Vec3
    rotation: Matrix3 | None = None  # rows: the part's axes in input coordinates; None = identity

    def __post_init__(self) -> None:
        if self.rotation is not None:
            r = np.asarray(self.rotation, dtype=np.float64)
            if r.shape != (3, 3) or not np.allclose(r @ r.T, np.eye(3), atol=1e-9) or np.linalg.det(r) < 0:
                raise ValueError(f"frame rotation must be a proper 3x3 rotation, got {self.rotation}")
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"frame scale must be a positive finite number, got {self.scale}")
        if len(self.translation) != 3 or not np.all(np.isfinite(self.translation)):
            raise ValueError(f"frame translation must be 3 finite numbers, got {self.translation}")

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Input frame -> normalised frame (new array)."""
        p = np.asarray(points, dtype=np.float64)
        if self.rotation is not None:
            p = p @ np.asarray(self.rotation).T
        return (p - np.asarray(self.translation)) / self.scale

    def invert(self, points: np.ndarray) -> np.ndarray:
        """Normalised frame -> input frame (new array)."""
        p = np.asarray(points, dtype=np.float64) * self.scale + np.asarray(self.translation)
        return p @ np.asarray(self.rotation) if self.rotation is not None else p

    def apply_to_mesh(
        self, mesh: trimesh.Trimesh | trimesh.PointCloud
    ) -> trimesh.Trimesh | trimesh.PointCloud:
        """A normalised copy of ``mesh`` or point cloud (the input is not modified)."""
        return _with_vertices(mesh, self.apply(mesh.vertices))

    def invert_mesh(self, mesh: trimesh.Trimesh) -> trimesh.Trimesh:
        """A copy of a normalised-frame ``mesh`` in the input frame."""
        return _with_vertices(mesh, self.invert(mesh.vertices))

    def program_to_input(self, program: Program) -> Program:
        """A program written in the normalised frame, mapped to the input frame."""
        moved = program.transformed(self.scale, self.translation)
        return rotate_program(moved, np.asarray(self.rotation).T) if self.rotation is not None else moved

    def program_to_normalized(self, program: Program) -> Program:
        """A program written in the input frame, mapped to the normalised frame."""
        if self.rotation is not None:
            program = rotate_program(program, np.asarray(self.rotation))
        s, t = self.scale, self.translation
        return program.transformed(1.0 / s, (-t[0] / s, -t[1] / s, -t[2] / s))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scale": float(self.scale),
            "translation": [float(x) for x in self.translation],
        }
        if self.rotation is not None:
            out["rotation"] = [[float(x) for x in row] for row in self.rotation]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Frame:
        t = data["translation"]
        r = data.get("rotation")
        rotation = tuple(tuple(float(x) for x in row) for row in r) if r is not None else None
        return cls(float(data["scale"]), (float(t[0]), float(t[1]), float(t[2])), rotation)


IDENTITY = Frame(1.0, (0.0, 0.0, 0.0))


def rotate_program(program: Program, matrix: np.ndarray) -> Program:
    """The program turned by ``matrix`` (3x3 proper rotation, column vectors): plane origins, x directions
    and normals turn; sketch coordinates, radii and distances stay."""
    m = np.asarray(matrix, dtype=np.float64)

    def turn(v: Vec3) -> Vec3:
        x, y, z = (float(c) for c in m @ np.asarray(v, dtype=np.float64))
        return (x, y, z)

    feats = []
    for f in program.features:
        pl = f.sketch.plane
        plane = replace(pl, origin=turn(pl.origin), x_dir=turn(pl.x_dir), normal=turn(pl.normal))
        feats.append(replace(f, sketch=replace(f.sketch, plane=plane)))
    return Program(tuple(feats))


def normalizing_frame(
    mesh_or_bounds: trimesh.Trimesh | trimesh.PointCloud | np.ndarray, rotation: np.ndarray | None = None
) -> Frame:
    """Frame of a mesh or point cloud (or a (2, 3) [min, max] bounds array): bbox centre -> origin,
    largest extent -> 1; with ``rotation`` (part = rotation @ input), the bbox of the turned points."""
    if rotation is not None:
        if isinstance(mesh_or_bounds, np.ndarray):
            raise ValueError("a rotated frame needs the points, not bounds")
        turned = np.asarray(mesh_or_bounds.vertices, dtype=np.float64) @ np.asarray(rotation).T
        base = normalizing_frame(np.stack([turned.min(axis=0), turned.max(axis=0)]))
        rot = tuple(tuple(float(x) for x in row) for row in np.asarray(rotation))
        return Frame(base.scale, base.translation, rot)
    is_geometry = isinstance(mesh_or_bounds, (trimesh.Trimesh, trimesh.PointCloud))
    bounds = mesh_or_bounds.bounds if is_geometry else mesh_or_bounds
    b = np.asarray(bounds, dtype=np.float64)
    if b.shape != (2, 3) or not np.all(np.isfinite(b)):
        raise ValueError(f"bounds must be a finite (2, 3) array, got {b!r}")
    extent = float(np.max(b[1] - b[0]))
    if not extent > 0:
        raise ValueError("cannot normalise: the bounding box has zero size")
    center = (b[0] + b[1]) / 2.0
    return Frame(extent, (float(center[0]), float(center[1]), float(center[2])))


def normalize_mesh(mesh: trimesh.Trimesh) -> tuple[trimesh.Trimesh, Frame]:
    """(normalised copy of ``mesh``, its frame)."""
    frame = normalizing_frame(mesh)
    return frame.apply_to_mesh(mesh), frame


def _with_vertices(mesh: trimesh.Trimesh | trimesh.PointCloud, vertices: np.ndarray):
    if isinstance(mesh, trimesh.PointCloud):
        return trimesh.PointCloud(vertices)
    return trimesh.Trimesh(vertices=vertices, faces=np.array(mesh.faces, copy=True), process=False)
