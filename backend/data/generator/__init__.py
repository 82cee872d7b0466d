"""Procedural sketch+extrude parts: ``generate_program(seed)`` and ``generate(seed)``.

A part is drawn in a local frame (nominal size 1): a prismatic base (plate, block, disc,
polygon, stadium, L/T/U/cross profile, often with fillet arcs and holes), then 0 to ~9
features placed on it (holes, counterbores, pockets, slots, bosses, ribs, walls, tabs,
side holes, rounded/chamfered edges, notches, rare intersections). The whole part is then
turned by a random axis rotation, normalised (bounding box centred, largest extent 1) and
canonicalised. Every number is written as a world coordinate and quantised once, so faces
that coincide before quantisation still coincide after it. The returned mesh is built on the
integer step grid (``exact_mesh``), where sums of plane heights and extents are exact.

Everything is deterministic per seed (``numpy.random.Generator``; a failed draw retries
with the sub-seed ``(seed, attempt)``).

Modules, in drawing order: ``grid`` (design grid, weighted draws), ``loops`` (loop shapes),
``part`` (the part being drawn, hole patterns, cuts from the top face), ``base``, ``features/``
(one module per family of features, each with its weights: adding a feature touches one file),
``normalise`` (bounds, normalised frame, exact mesh) and ``draw`` (one part per seed, retries).
"""

from backend.data.generator.draw import (
    MAX_ATTEMPTS,
    GenerationError,
    draw_local,
    generate,
    generate_program,
    raw_program,
)
from backend.data.generator.normalise import analytic_bounds, exact_mesh, normalise, to_normalised_frame

__all__ = [
    "MAX_ATTEMPTS",
    "GenerationError",
    "analytic_bounds",
    "draw_local",
    "exact_mesh",
    "generate",
    "generate_program",
    "normalise",
    "raw_program",
    "to_normalised_frame",
]
