"""Importers: DeepCAD / Fusion 360 Gallery JSON -> Program.

Real files are read in place from ``/work/shared/realparts`` (or ``../shared/realparts`` next to
the repository); the rebuilt solid must match the volume and bounding box the file states within
1 %. Synthetic dicts cover the extent conventions and the unsupported cases.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

from backend.cad.curves import loop_area
from backend.cad.importers import ImportErrorUnsupported, ImportFormatError, detect_format, import_json
from backend.cad.program import Arc, Circle, ExtentKind, Line, Operation, Program
from backend.cad.serialize import dumps, loads

REPO = Path(__file__).resolve().parents[2]
CANDIDATES = (Path("/work/shared/realparts"), REPO.parent / "shared" / "realparts")
DATA = next((p for p in CANDIDATES if p.is_dir()), None)
FOLDERS = ("json_deepcad", "json_fusion360")


def _real_files() -> list:
    if DATA is None:
        reason = f"real part files not found in {' or '.join(str(p) for p in CANDIDATES)}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-realparts")]
    files = sorted(f for folder in FOLDERS for f in (DATA / folder).glob("*.json"))
    return [pytest.param(f, id=f"{f.parent.name}/{f.name}") for f in files]


def _check_structure(program: Program) -> None:
    """Loops chained exactly, arcs' mids on their circle, outer loops CCW, holes CW, frames sane."""
    for f in program.features:
        pl = f.sketch.plane
        assert math.isclose(np.linalg.norm(pl.normal), 1.0, rel_tol=1e-9)
        assert abs(np.dot(pl.normal, pl.x_dir)) < 1e-9
        for p in f.sketch.profiles:
            for k, loop in enumerate(p.loops):
                if loop.is_circle:
                    assert loop.curves[0].radius > 0
                    continue
                assert not any(isinstance(c, Circle) for c in loop.curves)
                for a, b in zip(loop.curves, loop.curves[1:] + loop.curves[:1]):
                    assert a.end == b.start
                area = loop_area(loop)
                assert (area > 0) if k == 0 else (area < 0)


@pytest.mark.parametrize("path", _real_files())
def test_real_file_rebuilds_to_stated_volume(path: Path) -> None:
    solid = pytest.importorskip("backend.geometry.solid", reason="geometry builder not available")
    from backend.cad.validate import validate

    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        program = import_json(path)
    except ImportErrorUnsupported as exc:
        pytest.skip(f"unsupported: {exc}")
    assert program.features
    _check_structure(program)
    validate(program)
    assert loads(dumps(program)) == program

    props = data.get("properties") or {}
    bbox = props.get("bounding_box")
    size = 1.0
    if bbox:
        lo = np.array([bbox["min_point"][a] for a in "xyz"])
        hi = np.array([bbox["max_point"][a] for a in "xyz"])
        size = float(np.max(hi - lo))
    mesh = solid.program_to_mesh(program, scale=size)
    assert mesh.is_watertight and mesh.volume > 0
    volume = props.get("volume")
    if volume:
        assert mesh.volume == pytest.approx(volume, rel=0.01)
    if bbox:
        assert np.max(np.abs(mesh.bounds - np.stack([lo, hi]))) <= 0.01 * size


# --- synthetic files ---------------------------------------------------------------------------------


def _pt(x: float, y: float) -> dict:
    return {"type": "Point3D", "x": x, "y": y, "z": 0.0}


def _v(x: float, y: float, z: float) -> dict:
    return {"type": "Vector3D", "x": x, "y": y, "z": z}


def _line(a: tuple, b: tuple) -> dict:
    return {"type": "Line3D", "start_point": _pt(*a), "end_point": _pt(*b)}


def _dist(value: float, taper: float = 0.0) -> dict:
    return {
        "type": "DistanceExtentDefinition",
        "distance": {"type": "ModelParameter", "value": value},
        "taper_angle": {"type": "ModelParameter", "value": taper},
    }


def _fusion(curves: list, extent_type: str = "OneSideFeatureExtentType", one: float = 1.0, **extra) -> dict:
    """A one-sketch, one-extrude Fusion file on the XY plane with the given outer loop."""
    transform = {"origin": _pt(0, 0), "x_axis": _v(1, 0, 0), "y_axis": _v(0, 1, 0), "z_axis": _v(0, 0, 1)}
    sketch = {
        "type": "Sketch",
        "name": "Sketch1",
        "transform": transform,
        "profiles": {"P": {"loops": [{"is_outer": True, "profile_curves": curves}]}},
    }
    extrude = {
        "type": "ExtrudeFeature",
        "name": "Extrude1",
        "profiles": [{"profile": "P", "sketch": "S"}],
        "operation": "NewBodyFeatureOperation",
        "start_extent": {"type": "ProfilePlaneStartDefinition"},
        "extent_type": extent_type,
        "extent_one": _dist(one),
        **extra,
    }
    return {
        "metadata": {},
        "timeline": [{"index": 0, "entity": "S"}, {"index": 1, "entity": "E"}],
        "entities": {"S": sketch, "E": extrude},
    }


# a unit square given out of order and with mixed directions
SQUARE = [_line((1, 0), (1, 1)), _line((0, 0), (1, 0)), _line((0, 1), (0, 0)), _line((0, 1), (1, 1))]


def test_detects_formats() -> None:
    assert detect_format(_fusion(SQUARE)) == "fusion360"
    assert detect_format(_deepcad(_fusion(SQUARE))) == "deepcad"
    with pytest.raises(ImportFormatError):
        detect_format({"foo": 1})


def test_chains_unordered_loop_counter_clockwise() -> None:
    program = import_json(_fusion(SQUARE))
    loop = program.features[0].sketch.profiles[0].outer
    assert len(loop.curves) == 4
    for a, b in zip(loop.curves, loop.curves[1:] + loop.curves[:1]):
        assert a.end == b.start
    assert loop_area(loop) == pytest.approx(1.0)
    assert program.features[0].operation is Operation.NEW


def test_extent_conventions() -> None:
    one = import_json(_fusion(SQUARE, one=-2.0)).features[0].extent
    assert (one.kind, one.interval()) == (ExtentKind.ONE_SIDE, (-2.0, 0.0))
    sym = import_json(_fusion(SQUARE, "SymmetricFeatureExtentType", 3.0)).features[0].extent
    assert (sym.kind, sym.interval()) == (ExtentKind.SYMMETRIC, (-3.0, 3.0))
    full = _fusion(SQUARE, "SymmetricFeatureExtentType", 3.0)
    full["entities"]["E"]["extent_one"]["is_full_length"] = True
    assert import_json(full).features[0].extent.interval() == (-1.5, 1.5)
    two = (
        import_json(_fusion(SQUARE, "TwoSidesFeatureExtentType", 2.0, extent_two=_dist(0.5)))
        .features[0]
        .extent
    )
    assert (two.kind, two.interval()) == (ExtentKind.TWO_SIDES, (-0.5, 2.0))


def test_offset_start_moves_plane() -> None:
    data = _fusion(SQUARE)
    data["entities"]["E"]["start_extent"] = {"type": "OffsetStartDefinition", "offset": {"value": 1.5}}
    assert import_json(data).features[0].sketch.plane.origin == (0.0, 0.0, 1.5)


def test_arc_mid_follows_angles() -> None:
    # quarter arc from (0,-1) counter-clockwise to (1,0) about the origin, points listed the other way round
    arc = {
        "type": "Arc3D",
        "center_point": _pt(0, 0),
        "start_point": _pt(1, 0),
        "end_point": _pt(0, -1),
        "normal": _v(0, 0, 1),
        "reference_vector": _v(0, -1, 0),
        "start_angle": 0.0,
        "end_angle": math.pi / 2,
        "radius": 1.0,
    }
    curves = [_line((0, 0), (1, 0)), arc, _line((0, -1), (0, 0))]
    loop = import_json(_fusion(curves)).features[0].sketch.profiles[0].outer
    (mid,) = [c.mid for c in loop.curves if isinstance(c, Arc)]
    assert mid == pytest.approx((math.sqrt(0.5), -math.sqrt(0.5)))
    assert abs(loop_area(loop)) == pytest.approx(math.pi / 4)
    # the same arc the long way round (3/4 turn from (1,0))
    arc270 = dict(arc, reference_vector=_v(1, 0, 0), end_angle=1.5 * math.pi)
    loop = import_json(_fusion([curves[0], arc270, curves[2]])).features[0].sketch.profiles[0].outer
    assert abs(loop_area(loop)) == pytest.approx(0.75 * math.pi)


def test_mirrored_transform_gives_right_handed_plane() -> None:
    data = _fusion(SQUARE)
    data["entities"]["S"]["transform"]["y_axis"] = _v(0, -1, 0)  # left-handed: x × y = -z
    plane = import_json(data).features[0].sketch.plane
    assert plane.y_dir == (0.0, 1.0, 0.0)
    loop = import_json(data).features[0].sketch.profiles[0].outer
    ys = {p[1] for c in loop.curves for p in (c.start, c.end)}
    assert ys == {0.0, -1.0}  # the square lies at world y in [-1, 0]


def test_hole_loop_and_circle() -> None:
    data = _fusion(SQUARE)
    hole = {"type": "Circle3D", "center_point": _pt(0.5, 0.5), "radius": 0.25, "normal": _v(0, 0, 1)}
    data["entities"]["S"]["profiles"]["P"]["loops"].insert(0, {"is_outer": False, "profile_curves": [hole]})
    profile = import_json(data).features[0].sketch.profiles[0]
    assert isinstance(profile.outer.curves[0], Line)
    assert profile.holes[0].curves == (Circle((0.5, 0.5), 0.25),)


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda d: d["entities"]["E"].update(extent_one=_dist(1.0, taper=0.1)), "taper"),
        (
            lambda d: d["entities"]["S"]["profiles"]["P"]["loops"][0]["profile_curves"].append(
                {"type": "NurbsCurve3D"}
            ),
            "NurbsCurve3D",
        ),
        (lambda d: d["entities"]["E"].update(type="FilletFeature"), "FilletFeature"),
        (lambda d: d["entities"]["E"].update(extent_one={"type": "ToEntityExtentDefinition"}), "ToEntity"),
        (lambda d: d["entities"]["E"].update(start_extent={"type": "EntityStartDefinition"}), "start extent"),
    ],
)
def test_unsupported_features_are_named(mutate, words: str) -> None:
    data = copy.deepcopy(_fusion(SQUARE))
    mutate(data)
    with pytest.raises(ImportErrorUnsupported, match=words):
        import_json(data)


def _deepcad(data: dict) -> dict:
    data["sequence"] = data.pop("timeline")
    del data["metadata"]
    return data


def test_deepcad_largest_loop_is_outer() -> None:
    data = _deepcad(_fusion(SQUARE))
    hole = {"type": "Circle3D", "center_point": _pt(0.5, 0.5), "radius": 0.25, "normal": _v(0, 0, 1)}
    data["entities"]["S"]["profiles"]["P"]["loops"].insert(0, {"is_outer": True, "profile_curves": [hole]})
    profile = import_json(data).features[0].sketch.profiles[0]
    assert len(profile.outer.curves) == 4 and profile.holes[0].is_circle


def test_deepcad_arc_normal_is_in_world_space() -> None:
    # a half turn fits both ways: the normal decides; sketch on world XZ with z axis = world -Y
    semicircle = {
        "type": "Arc3D",
        "center_point": _pt(0, 0),
        "start_point": _pt(1, 0),
        "end_point": _pt(-1, 0),
        "normal": _v(0, 1, 0),  # world +Y = against the sketch's z axis: clockwise in the sketch
        "reference_vector": _v(1, 0, 0),
        "start_angle": 0.0,
        "end_angle": math.pi,
        "radius": 1.0,
    }
    data = _deepcad(_fusion([_line((-1, 0), (1, 0)), semicircle]))
    data["entities"]["S"]["transform"].update(y_axis=_v(0, 0, 1), z_axis=_v(0, -1, 0))
    (arc,) = [c for c in import_json(data).features[0].sketch.profiles[0].outer.curves if isinstance(c, Arc)]
    assert arc.mid == pytest.approx((0.0, -1.0))


def test_cadprog_passthrough(tmp_path: Path) -> None:
    program = import_json(_fusion(SQUARE))
    path = tmp_path / "p.json"
    path.write_text(dumps(program))
    assert import_json(path) == program
    assert import_json(str(path)) == program
