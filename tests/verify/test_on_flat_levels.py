"""Derived candidates: the chosen program of a scan with its faces on the levels the samples measure."""

from __future__ import annotations

import pytest

from backend.cad.program import Extent, ExtentKind, Extrude, Plane, Profile, Program, Sketch
from backend.geometry.perturb import scan
from backend.geometry.solid import program_to_mesh
from backend.sections.candidates import slicer_for
from backend.verify.candidates import on_flat_levels
from backend.verify.rank import Candidate
from backend.verify.snap import Snapper
from backend.verify.target import ChamferTarget
from tests.cad.programs import rect

THICKNESS = 0.03  # a plate 3 % of its length thick: the noise (0.2 %) is a few % of its thickness


def plate(bottom: float, top: float, right: float = 0.5) -> Program:
    plane = Plane((0.0, 0.0, bottom), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    sketch = Sketch(plane, (Profile(rect(-0.5, -0.3, right, 0.3)),))
    return Program((Extrude(sketch, Extent(ExtentKind.ONE_SIDE, top - bottom)),))


def iou(program: Program, truth) -> float:
    mesh = program_to_mesh(program)
    return mesh.intersection(truth).volume / mesh.union(truth).volume


@pytest.fixture(scope="module")
def scanned():
    truth = program_to_mesh(plate(-THICKNESS / 2, THICKNESS / 2))
    given = scan(truth, seed=3)
    return truth, given, Snapper(slicer_for(given)), ChamferTarget(given)


def test_a_scanned_plate_s_faces_move_onto_the_measured_levels(scanned) -> None:
    truth, _, snapper, target = scanned
    # both faces off by a fifth of the thickness, a wall by 2 % of the length
    off = plate(-THICKNESS / 2 + 0.006, THICKNESS / 2 + 0.004, right=0.52)
    mesh = program_to_mesh(off)
    chosen = Candidate(off, "model", mesh, target(mesh))
    moved = on_flat_levels(chosen, snapper, target)
    assert iou(off, truth) < 0.85
    assert iou(moved.program, truth) > 0.97
    assert moved.source == "model"
    (feature,) = moved.program.features
    lo, hi = feature.extent.interval()
    z = feature.sketch.plane.origin[2]
    assert z + lo == pytest.approx(-THICKNESS / 2, abs=1e-3) and z + hi == pytest.approx(
        THICKNESS / 2, abs=1e-3
    )
    (loop,) = [p.outer for p in feature.sketch.profiles]  # the model's rectangle, its walls moved
    xs = sorted({round(c.start[0], 3) for c in loop.curves})
    assert len(loop.curves) == 4 and xs == pytest.approx([-0.5, 0.5], abs=2e-3)


def test_faces_stay_where_the_snapped_program_is_less_faithful(scanned) -> None:
    _, _, snapper, target = scanned
    off = plate(-THICKNESS / 2 + 0.006, THICKNESS / 2 + 0.004)
    reference = program_to_mesh(off)

    def prefers_the_original(mesh) -> float:  # a loss that only the original solid minimises
        return 1e-4 + abs(mesh.volume - reference.volume)

    chosen = Candidate(off, "model", reference, prefers_the_original(reference))
    assert on_flat_levels(chosen, snapper, prefers_the_original) is chosen
