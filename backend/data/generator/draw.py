"""One part per seed: a base, a random number of features picked by weight, a random axis rotation,
then the normalised canonical program and its mesh; a draw that fails retries with a sub-seed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import trimesh

from backend.cad.program import Plane, Program
from backend.cad.quantize import QuantizationRangeError
from backend.cad.tessellate import TessellationError
from backend.cad.validate import ProgramError
from backend.data.generator.base import make_base
from backend.data.generator.features import FEATURES
from backend.data.generator.grid import pick
from backend.data.generator.normalise import analytic_bounds, exact_mesh, is_normalised, normalise
from backend.geometry.solid import GeometryError

MAX_ATTEMPTS = 32
MAX_FEATURES = 10


class GenerationError(RuntimeError):
    """No valid part after MAX_ATTEMPTS draws (should not happen)."""


def n_features(rng: np.random.Generator) -> int:
    """Target feature count: 1 with p 0.52, else 1 + geometric (mean ~2.1, 90th percentile ~4)."""
    if rng.random() < 0.52:
        return 1
    return int(min(MAX_FEATURES, 1 + rng.geometric(0.45)))


def draw_local(rng: np.random.Generator) -> Program:
    """A raw part in its local frame (nominal size 1, not normalised, not canonical)."""
    part = make_base(rng)
    target = n_features(rng)
    for _ in range(4 * target):
        if len(part.feats) >= target:
            break
        fn = pick(rng, FEATURES)
        new = fn(part)
        if new and len(part.feats) + len(new) <= MAX_FEATURES:
            part.feats.extend(new)
    return Program(tuple(part.feats))


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A signed permutation matrix with determinant +1; local Z goes to world Z half the time."""
    up = int(pick(rng, {2: 50, 0: 25, 1: 25}))
    others = [a for a in range(3) if a != up]
    if rng.random() < 0.5:
        others.reverse()
    m = np.zeros((3, 3))
    for local, world in zip((0, 1, 2), (*others, up)):
        m[world, local] = rng.choice([-1.0, 1.0])
    if np.linalg.det(m) < 0:
        m[:, 0] *= -1
    return m


def rotate(program: Program, m: np.ndarray) -> Program:
    def rot(v: tuple[float, float, float]) -> tuple[float, float, float]:
        return tuple(float(x) + 0.0 for x in m @ np.asarray(v))

    feats = []
    for f in program.features:
        pl = f.sketch.plane
        feats.append(
            replace(f, sketch=replace(f.sketch, plane=Plane(rot(pl.origin), rot(pl.x_dir), rot(pl.normal))))
        )
    return Program(tuple(feats))


def raw_program(rng: np.random.Generator) -> Program:
    """A raw (un-normalised, un-canonicalised) randomly rotated part."""
    return rotate(draw_local(rng), random_rotation(rng))


def _attempt(rng: np.random.Generator) -> tuple[Program, trimesh.Trimesh]:
    raw = raw_program(rng)
    bounds = analytic_bounds(raw)
    program = normalise(raw, bounds)
    mesh, solid = exact_mesh(program)
    if bounds is not None and not is_normalised(mesh.bounds):  # a cut removed an extreme face: measure it
        program = normalise(raw)
        mesh, solid = exact_mesh(program)
    if solid.volume() < 1e-4:
        raise GeometryError("degenerate solid")
    if len(solid.decompose()) > 1:  # a cut split the part
        raise GeometryError("several bodies")
    return program, mesh


def generate(seed: int) -> tuple[Program, trimesh.Trimesh]:
    """A valid canonical program in the normalised frame and its watertight mesh, deterministic per seed."""
    for attempt in range(MAX_ATTEMPTS):
        rng = np.random.default_rng([seed, attempt] if attempt else seed)
        try:
            return _attempt(rng)
        except (GeometryError, ProgramError, QuantizationRangeError, TessellationError, ValueError):
            continue
    raise GenerationError(f"seed {seed}: no valid part in {MAX_ATTEMPTS} attempts")


def generate_program(seed: int) -> Program:
    return generate(seed)[0]
