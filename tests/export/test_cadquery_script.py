"""CadQuery script export: readable text (named parameters, named workplanes, one sketch-and-extrude
statement and one combine statement per feature) that CadQuery runs to the backend's solid.

The run test needs CadQuery: in this interpreter, or in the interpreter named by the environment
variable ``MESH2CAD_CADQUERY_PYTHON`` (CadQuery 2.8 needs numpy >= 2, so it may live in its own
venv); it is skipped only when neither has it.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from backend.cad.program import Operation
from backend.export.cadquery_script import num, program_to_cadquery
from backend.geometry.solid import program_to_mesh
from tests.export.export_programs import cases

CASES = cases()
TOLERANCE = 0.005
MEASURE = """
import json, runpy, sys
ns = runpy.run_path(sys.argv[1], run_name="mesh2cad_test")
part = ns["part"]
bb = part.val().BoundingBox()
print(json.dumps({"volume": part.val().Volume(), "solids": len(part.solids().vals()),
                  "bounds": [[bb.xmin, bb.ymin, bb.zmin], [bb.xmax, bb.ymax, bb.zmax]]}))
"""


def cadquery_python() -> str | None:
    """An interpreter that can import cadquery, or None."""
    env = os.environ.get("MESH2CAD_CADQUERY_PYTHON")
    if env:
        return env
    return sys.executable if importlib.util.find_spec("cadquery") else None


def test_script_is_valid_python_with_named_parameters_and_one_statement_per_feature():
    program = CASES["plate_with_hole"]
    text = program_to_cadquery(program, title="plate")
    tree = ast.parse(text)
    names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert {"depth_1", "radius_1_1", "plane_1", "feature_1", "depth_2", "depth_back_2", "part"} <= names
    assert "import cadquery as cq" in text
    for i in range(1, len(program.features) + 1):
        assert text.count(f"\nfeature_{i} = (") == 1
        assert f"cq.Workplane(plane_{i})" in text
    assert "part = part.cut(feature_2)" in text and "part = part.union(feature_3)" in text
    assert ".threePointArc((0.6, 0.0), (0.3, 0.3))" in text
    assert "exec(" not in text and "eval(" not in text


def test_every_operation_and_extent_is_written():
    text = program_to_cadquery(CASES["kitchen_sink"])
    assert "part = part.intersect(feature_2)" in text
    assert "part = part.cut(feature_3)" in text
    assert ".extrude(depth_1, both=True)" in text  # symmetric
    assert ".workplane(offset=-depth_back_2)" in text  # two sides
    assert "depth_3 = -0.2" in text  # one side, against the normal
    assert text.count(".extrude(depth_1, both=True)") == 2  # two profiles in feature 1


def test_numbers_are_short_and_never_negative_zero():
    assert num(-0.0) == "0.0" and num(1e-17) == "1e-17" and num(0.1 + 0.2) == "0.3"
    assert num(12.0) == "12.0"


def test_operations_map_to_cadquery_methods():
    from backend.export.cadquery_script import COMBINE

    assert set(COMBINE) == set(Operation)


@pytest.mark.parametrize("name", sorted(CASES))
def test_script_runs_in_cadquery_to_the_backend_solid(name, tmp_path):
    python = cadquery_python()
    if python is None:
        pytest.skip("CadQuery is not installed (set MESH2CAD_CADQUERY_PYTHON to a python that has it)")
    program = CASES[name]
    script = tmp_path / f"{name}.py"
    script.write_text(program_to_cadquery(program, title=name))
    runner = tmp_path / "measure.py"
    runner.write_text(MEASURE)
    out = subprocess.run(
        [python, str(runner), str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    mesh = program_to_mesh(program)
    assert got["solids"] == 1
    assert abs(got["volume"] - mesh.volume) <= TOLERANCE * mesh.volume
    size = float(np.ptp(mesh.bounds, axis=0).max())
    assert np.abs(np.asarray(got["bounds"]) - mesh.bounds).max() <= TOLERANCE * size
