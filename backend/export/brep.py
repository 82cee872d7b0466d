"""Program -> OpenCascade B-rep solid (``TopoDS_Shape``), with true lines, arcs and circles.

Each feature: every profile becomes a planar face (outer wire + hole wires; arcs are
``GC_MakeArcOfCircle`` edges, circles ``gp_Circ`` edges, so the prism's side faces are cylinders),
extruded with ``BRepPrimAPI_MakePrism`` over ``Extent.interval()`` along the sketch normal, and
combined with the solid so far by ``BRepAlgoAPI_Fuse`` / ``Cut`` / ``Common``. Coplanar faces split by
the booleans are merged at the end (``ShapeUpgrade_UnifySameDomain``).

The frame follows ``backend.geometry.solid`` exactly (orthonormalised plane basis, the origin's
in-plane part moved into the sketch coordinates, heights rounded to the same digits), so faces that
coincide there coincide here too.
"""

from __future__ import annotations

import math

import numpy as np

from backend.cad.program import Arc, Circle, Loop, Operation, Program
from backend.cad.validate import ProgramError, validated_polygons
from backend.geometry.solid import HEIGHT_DIGITS, GeometryError, feature_placement, program_scale

INSTALL_HINT = 'OpenCascade bindings are missing: install the extra with  pip install -e ".[step]"'


class OCPUnavailableError(RuntimeError):
    """OpenCascade's Python bindings (``OCP``) are not installed; the message says how to get them."""


def require_ocp() -> None:
    """Raise ``OCPUnavailableError`` with the install command when ``OCP`` cannot be imported; keep
    OpenCascade's console messages to failures only."""
    try:
        from OCP.Message import Message, Message_Gravity
    except ImportError as exc:
        raise OCPUnavailableError(INSTALL_HINT) from exc
    for printer in Message.DefaultMessenger_s().Printers():
        printer.SetTraceLevel(Message_Gravity.Message_Fail)


def _pnt(basis: np.ndarray, u: float, v: float, w: float):
    from OCP.gp import gp_Pnt

    p = basis[:, 0] * u + basis[:, 1] * v + basis[:, 2] * w
    return gp_Pnt(float(p[0]), float(p[1]), float(p[2]))


def _wire(loop: Loop, basis: np.ndarray, offset: np.ndarray, w: float, tol: float):
    """Closed wire of one loop in the plane at height ``w``. Each curve ends exactly at the next
    curve's start, so consecutive edges share their vertex; zero-length lines are dropped."""
    from OCP.BRepBuilderAPI import BRepBuilderAPI_MakeEdge, BRepBuilderAPI_MakeWire
    from OCP.GC import GC_MakeArcOfCircle, GC_MakeSegment
    from OCP.gp import gp_Ax2, gp_Circ, gp_Dir

    maker = BRepBuilderAPI_MakeWire()
    curves = loop.curves
    if loop.is_circle:
        c: Circle = curves[0]
        n, x = basis[:, 2], basis[:, 0]
        ax = gp_Ax2(
            _pnt(basis, c.center[0] + offset[0], c.center[1] + offset[1], w),
            gp_Dir(*map(float, n)),
            gp_Dir(*map(float, x)),
        )
        maker.Add(BRepBuilderAPI_MakeEdge(gp_Circ(ax, float(c.radius))).Edge())
        return maker.Wire()
    starts = [np.asarray(c.start, dtype=np.float64) + offset for c in curves]
    for k, c in enumerate(curves):
        a, b = starts[k], starts[(k + 1) % len(curves)]
        if isinstance(c, Arc):
            m = np.asarray(c.mid, dtype=np.float64) + offset
            geom = GC_MakeArcOfCircle(_pnt(basis, *a, w), _pnt(basis, *m, w), _pnt(basis, *b, w)).Value()
        elif float(np.hypot(*(b - a))) <= tol:
            continue
        else:
            geom = GC_MakeSegment(_pnt(basis, *a, w), _pnt(basis, *b, w)).Value()
        maker.Add(BRepBuilderAPI_MakeEdge(geom).Edge())
    if not maker.IsDone():
        raise GeometryError("a sketch loop does not give a closed wire")
    return maker.Wire()


def _face(profile, basis: np.ndarray, offset: np.ndarray, w: float, tol: float):
    """Planar face of one profile (outer loop + holes) at height ``w``, wires oriented by ShapeFix."""
    from OCP.BRepBuilderAPI import BRepBuilderAPI_MakeFace
    from OCP.gp import gp_Ax3, gp_Dir, gp_Pln
    from OCP.ShapeFix import ShapeFix_Face

    plane = gp_Pln(
        gp_Ax3(_pnt(basis, 0.0, 0.0, w), gp_Dir(*map(float, basis[:, 2])), gp_Dir(*map(float, basis[:, 0])))
    )
    maker = BRepBuilderAPI_MakeFace(plane, _wire(profile.outer, basis, offset, w, tol), True)
    for hole in profile.holes:
        maker.Add(_wire(hole, basis, offset, w, tol))
    if not maker.IsDone():
        raise GeometryError("a sketch profile does not give a planar face")
    fix = ShapeFix_Face(maker.Face())
    fix.FixOrientation()
    fix.Perform()
    return _as_face(fix.Face())


def _as_face(shape):
    """Down-cast to ``TopoDS_Face`` (``TopoDS.Face_s`` before OCCT 8, ``TopoDS.Face`` since)."""
    from OCP.TopoDS import TopoDS

    return (getattr(TopoDS, "Face_s", None) or TopoDS.Face)(shape)


def _boolean(kind: str, a, b):
    from OCP.BRepAlgoAPI import BRepAlgoAPI_Common, BRepAlgoAPI_Cut, BRepAlgoAPI_Fuse

    op = {"fuse": BRepAlgoAPI_Fuse, "cut": BRepAlgoAPI_Cut, "common": BRepAlgoAPI_Common}[kind](a, b)
    if not op.IsDone():
        raise GeometryError(f"OpenCascade boolean {kind} failed")
    return op.Shape()


def program_to_shape(program: Program, scale: float | None = None):
    """The program's solid as an OpenCascade shape (one ``TopoDS_Solid`` when the part is connected,
    else a compound of solids). Raises ``GeometryError`` for an invalid program or an empty result,
    ``OCPUnavailableError`` when OCP is not installed."""
    require_ocp()
    from OCP.BRepPrimAPI import BRepPrimAPI_MakePrism
    from OCP.gp import gp_Vec
    from OCP.ShapeUpgrade import ShapeUpgrade_UnifySameDomain

    if scale is None:
        scale = program_scale(program)
    try:
        validated_polygons(program, scale)
    except ProgramError as exc:
        raise GeometryError(f"invalid program: {exc}") from exc
    digits = HEIGHT_DIGITS - math.ceil(math.log10(scale))
    tol = 10.0**-digits
    solid = None
    for i, feature in enumerate(program.features):
        basis, offset, lo, hi = feature_placement(feature, digits, i)
        n = basis[:, 2] * (hi - lo)
        body = None
        for profile in feature.sketch.profiles:
            face = _face(profile, basis, offset, lo, tol)
            prism = BRepPrimAPI_MakePrism(face, gp_Vec(*map(float, n))).Shape()
            body = prism if body is None else _boolean("fuse", body, prism)
        op = feature.operation
        if solid is None:
            solid = body
        elif op in (Operation.NEW, Operation.JOIN):
            solid = _boolean("fuse", solid, body)
        elif op is Operation.CUT:
            solid = _boolean("cut", solid, body)
        else:
            solid = _boolean("common", solid, body)
    unify = ShapeUpgrade_UnifySameDomain(solid, True, True, True)
    unify.Build()
    shape = _single_solid(unify.Shape())
    if shape_volume(shape) <= 0.0:
        raise GeometryError("empty result: the features leave no material")
    return shape


def _single_solid(shape):
    """The one solid of ``shape`` when it has exactly one, else ``shape`` itself (a compound)."""
    from OCP.TopAbs import TopAbs_SOLID
    from OCP.TopExp import TopExp_Explorer

    explorer = TopExp_Explorer(shape, TopAbs_SOLID)
    solids = []
    while explorer.More():
        solids.append(explorer.Current())
        explorer.Next()
    return solids[0] if len(solids) == 1 else shape


def count_solids(shape) -> int:
    from OCP.TopAbs import TopAbs_SOLID
    from OCP.TopExp import TopExp_Explorer

    explorer, n = TopExp_Explorer(shape, TopAbs_SOLID), 0
    while explorer.More():
        n += 1
        explorer.Next()
    return n


def face_types(shape) -> dict[str, int]:
    """Count of faces by surface type, e.g. ``{"plane": 8, "cylinder": 2}``."""
    from OCP.BRepAdaptor import BRepAdaptor_Surface
    from OCP.TopAbs import TopAbs_FACE
    from OCP.TopExp import TopExp_Explorer

    out: dict[str, int] = {}
    explorer = TopExp_Explorer(shape, TopAbs_FACE)
    while explorer.More():
        kind = BRepAdaptor_Surface(_as_face(explorer.Current())).GetType().name
        key = kind.removeprefix("GeomAbs_").lower()
        out[key] = out.get(key, 0) + 1
        explorer.Next()
    return out


def shape_volume(shape) -> float:
    from OCP.BRepGProp import BRepGProp
    from OCP.GProp import GProp_GProps

    props = GProp_GProps()
    BRepGProp.VolumeProperties_s(shape, props)
    return float(props.Mass())


def shape_bounds(shape) -> np.ndarray:
    """Tight axis-aligned bounds, shape (2, 3): [min, max]."""
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib

    box = Bnd_Box()
    BRepBndLib.AddOptimal_s(shape, box, False, False)
    lo, hi = box.CornerMin(), box.CornerMax()
    return np.array([[lo.X(), lo.Y(), lo.Z()], [hi.X(), hi.Y(), hi.Z()]])
