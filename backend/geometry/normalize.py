"""The normalised frame: the input's bounding-box centre at the origin, its largest extent 1.

A ``Frame`` maps between the two frames::

    input = scale * normalised + translation        normalised = (input - translation) / scale

with ``translation`` the input bounding-box centre and ``scale`` its largest extent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import trimesh

from backend.cad.program import Program, Vec3


@dataclass(frozen=True)
class Frame:
    scale: float
    translation: Vec3

    def __post_init__(self) -> None:
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"frame scale must be a positive finite number, got {self.scale}")
        if len(self.translation) != 3 or not np.all(np.isfinite(self.translation)):
            raise ValueError(f"frame translation must be 3 finite numbers, got {self.translation}")

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Input frame -> normalised frame (new array)."""
        return (np.asarray(points, dtype=np.float64) - np.asarray(self.translation)) / self.scale

    def invert(self, points: np.ndarray) -> np.ndarray:
        """Normalised frame -> input frame (new array)."""
        return np.asarray(points, dtype=np.float64) * self.scale + np.asarray(self.translation)

    def apply_to_mesh(self, mesh: trimesh.Trimesh) -> trimesh.Trimesh:
        """A normalised copy of ``mesh`` (the input is not modified)."""
        return _with_vertices(mesh, self.apply(mesh.vertices))

    def invert_mesh(self, mesh: trimesh.Trimesh) -> trimesh.Trimesh:
        """A copy of a normalised-frame ``mesh`` in the input frame."""
        return _with_vertices(mesh, self.invert(mesh.vertices))

    def program_to_input(self, program: Program) -> Program:
        """A program written in the normalised frame, mapped to the input frame."""
        return program.transformed(self.scale, self.translation)

    def program_to_normalized(self, program: Program) -> Program:
        """A program written in the input frame, mapped to the normalised frame."""
        s, t = self.scale, self.translation
        return program.transformed(1.0 / s, (-t[0] / s, -t[1] / s, -t[2] / s))

    def to_dict(self) -> dict[str, Any]:
        return {"scale": float(self.scale), "translation": [float(x) for x in self.translation]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Frame:
        t = data["translation"]
        return cls(float(data["scale"]), (float(t[0]), float(t[1]), float(t[2])))


IDENTITY = Frame(1.0, (0.0, 0.0, 0.0))


def normalizing_frame(mesh_or_bounds: trimesh.Trimesh | np.ndarray) -> Frame:
    """Frame of a mesh (or a (2, 3) [min, max] bounds array): bbox centre -> origin, largest extent -> 1."""
    bounds = mesh_or_bounds.bounds if isinstance(mesh_or_bounds, trimesh.Trimesh) else mesh_or_bounds
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


def _with_vertices(mesh: trimesh.Trimesh, vertices: np.ndarray) -> trimesh.Trimesh:
    return trimesh.Trimesh(vertices=vertices, faces=np.array(mesh.faces, copy=True), process=False)
