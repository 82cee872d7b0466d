"""STEP export: the file reads back with OpenCascade as one solid whose volume and bounding box match
the backend's manifold solid within 0.5 %, with cylindrical faces where the program has circles."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import numpy as np
import pytest

from backend.geometry.solid import GeometryError, program_to_mesh
from tests.cad.programs import circle, prog, rect
from tests.export.export_programs import cases

pytest.importorskip("OCP", reason='needs the step extra: pip install -e ".[step]"')

from backend.cad.program import Extent, ExtentKind, Profile  # noqa: E402
from backend.export.brep import count_solids, face_types, shape_bounds, shape_volume  # noqa: E402
from backend.export.step import read_step, write_step  # noqa: E402

TOLERANCE = 0.005
CASES = cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_step_round_trip_matches_the_backend_solid(name, tmp_path):
    program = CASES[name]
    mesh = program_to_mesh(program)
    report = write_step(program, tmp_path / f"{name}.step")
    assert report.path.stat().st_size > 0
    shape = read_step(report.path)
    assert count_solids(shape) == 1
    assert abs(shape_volume(shape) - mesh.volume) <= TOLERANCE * mesh.volume
    size = float(np.ptp(mesh.bounds, axis=0).max())
    assert np.abs(shape_bounds(shape) - mesh.bounds).max() <= TOLERANCE * size


def test_circles_and_arcs_become_cylinders_not_facets(tmp_path):
    program = CASES["plate_with_hole"]  # a rounded end (arc) and a hole (circle)
    shape = read_step(write_step(program, tmp_path / "p.step").path)
    faces = face_types(shape)
    assert faces.get("cylinder", 0) >= 2
    assert set(faces) <= {"plane", "cylinder"}
    assert sum(faces.values()) < 30  # a faceted mesh would have hundreds


def test_kitchen_sink_has_every_curve_kind_as_a_true_surface(tmp_path):
    shape = read_step(write_step(CASES["kitchen_sink"], tmp_path / "k.step").path)
    assert face_types(shape)["cylinder"] >= 5  # 2 holes, 2 slot ends, the intersect drum, the cut


def test_step_file_is_ap214_with_the_part_name(tmp_path):
    path = write_step(CASES["plate_with_hole"], tmp_path / "bracket.step").path
    text = path.read_text(errors="replace")
    assert text.startswith("ISO-10303-21;")
    assert "AUTOMOTIVE_DESIGN" in text  # AP214
    assert "'bracket'" in text
    assert "CYLINDRICAL_SURFACE" in text


def test_invalid_program_is_a_clear_geometry_error(tmp_path):
    bad = prog(Profile(rect(0, 0, 1, 1), (circle(2.0, 2.0, 0.1),)))  # hole outside its outer loop
    with pytest.raises(GeometryError, match="invalid program"):
        write_step(bad, tmp_path / "bad.step")
    assert not (tmp_path / "bad.step").exists()


FREECAD_READ = """
import json, sys
import Part
shape = Part.read(sys.argv[-2])
json.dump({"volume": shape.Volume, "solids": len(shape.Solids), "valid": shape.isValid(),
           "surfaces": sorted({f.Surface.__class__.__name__ for f in shape.Faces})}, open(sys.argv[-1], "w"))
"""


@pytest.mark.skipif(shutil.which("freecadcmd") is None, reason="FreeCAD (freecadcmd) is not installed")
def test_freecad_opens_the_step_file(tmp_path):
    """A second program (FreeCAD; apt package freecad-python3) reads the same solid."""
    program = CASES["kitchen_sink"]
    step = write_step(program, tmp_path / "k.step").path
    script, out = tmp_path / "read.py", tmp_path / "out.json"
    script.write_text(FREECAD_READ)
    subprocess.run(
        ["freecadcmd", str(script), str(step), str(out)], cwd=tmp_path, capture_output=True, timeout=300
    )
    got = json.loads(out.read_text())
    assert got["valid"] and got["solids"] == 1 and got["surfaces"] == ["Cylinder", "Plane"]
    mesh = program_to_mesh(program)
    assert abs(got["volume"] - mesh.volume) <= TOLERANCE * mesh.volume


def test_arcs_and_circles_are_exact_not_chords(tmp_path):
    """A disc with an off-centre hole: the STEP volume is the analytic one (the backend's mesh
    solid, with chords, is within its tessellation tolerance of it)."""
    program = prog(
        Profile(circle(0.0, 0.0, 0.5), (circle(0.1, 0.0, 0.2),)), extent=Extent(ExtentKind.ONE_SIDE, 0.3)
    )
    shape = read_step(write_step(program, tmp_path / "disc.step").path)
    exact = math.pi * (0.5**2 - 0.2**2) * 0.3
    assert abs(shape_volume(shape) - exact) <= 1e-9 * exact
    assert face_types(shape) == {"plane": 2, "cylinder": 2}
