"""JSON form of a program (what crosses the wire and is stored on Blender objects).

Layout (format "cadprog/1")::

    {"format": "cadprog/1",
     "features": [{"operation": "new|join|cut|intersect",
                   "extent": {"kind": "one_side|symmetric|two_sides", "d1": f, "d2": f},
                   "sketch": {"plane": {"origin": [x,y,z], "x_dir": [x,y,z], "normal": [x,y,z]},
                              "profiles": [{"outer": LOOP, "holes": [LOOP, ...]}]}}]}
    LOOP  = {"curves": [CURVE, ...]}
    CURVE = {"type": "line", "start": [u,v], "end": [u,v]}
          | {"type": "arc", "start": [u,v], "mid": [u,v], "end": [u,v]}
          | {"type": "circle", "center": [u,v], "radius": r}
"""

from __future__ import annotations

import json
import math
from typing import Any

from backend.cad.program import (
    Arc,
    Circle,
    Curve,
    Extent,
    ExtentKind,
    Extrude,
    Line,
    Loop,
    Operation,
    Plane,
    Profile,
    Program,
    Sketch,
)

FORMAT = "cadprog/1"


class ProgramFormatError(ValueError):
    """The JSON does not describe a program; the message names the offending field."""


def program_to_dict(program: Program) -> dict[str, Any]:
    return {"format": FORMAT, "features": [_feature_to_dict(f) for f in program.features]}


def program_from_dict(data: Any) -> Program:
    if not isinstance(data, dict):
        raise ProgramFormatError("program must be a JSON object")
    fmt = data.get("format")
    if fmt != FORMAT:
        raise ProgramFormatError(f"unsupported program format {fmt!r}; expected {FORMAT!r}")
    feats = _get(data, "features", list, "program")
    return Program(tuple(_feature_from_dict(f, f"features[{i}]") for i, f in enumerate(feats)))


def dumps(program: Program, indent: int | None = None) -> str:
    return json.dumps(program_to_dict(program), indent=indent)


def loads(text: str) -> Program:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProgramFormatError(f"not valid JSON: {exc}") from exc
    return program_from_dict(data)


# --- to dict --------------------------------------------------------------------------------------


def _curve_to_dict(c: Curve) -> dict[str, Any]:
    if isinstance(c, Line):
        return {"type": "line", "start": list(c.start), "end": list(c.end)}
    if isinstance(c, Arc):
        return {"type": "arc", "start": list(c.start), "mid": list(c.mid), "end": list(c.end)}
    return {"type": "circle", "center": list(c.center), "radius": c.radius}


def _loop_to_dict(loop: Loop) -> dict[str, Any]:
    return {"curves": [_curve_to_dict(c) for c in loop.curves]}


def _feature_to_dict(f: Extrude) -> dict[str, Any]:
    pl = f.sketch.plane
    return {
        "operation": f.operation.value,
        "extent": {"kind": f.extent.kind.value, "d1": f.extent.d1, "d2": f.extent.d2},
        "sketch": {
            "plane": {"origin": list(pl.origin), "x_dir": list(pl.x_dir), "normal": list(pl.normal)},
            "profiles": [
                {"outer": _loop_to_dict(p.outer), "holes": [_loop_to_dict(h) for h in p.holes]}
                for p in f.sketch.profiles
            ],
        },
    }


# --- from dict ------------------------------------------------------------------------------------


def _get(d: Any, key: str, typ: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(d, dict):
        raise ProgramFormatError(f"{where} must be an object")
    if key not in d:
        raise ProgramFormatError(f"{where}.{key} is missing")
    value = d[key]
    if not isinstance(value, typ) or isinstance(value, bool):
        name = "number" if isinstance(typ, tuple) else typ.__name__
        raise ProgramFormatError(f"{where}.{key} must be {name}, got {type(value).__name__}")
    return value


def _num(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ProgramFormatError(f"{where} must be a number, got {v!r}")
    if not math.isfinite(v):
        raise ProgramFormatError(f"{where} is not finite ({v!r})")
    return float(v)


def _vec(d: Any, key: str, n: int, where: str) -> tuple[float, ...]:
    v = _get(d, key, list, where)
    if len(v) != n:
        raise ProgramFormatError(f"{where}.{key} must have {n} numbers, got {len(v)}")
    return tuple(_num(x, f"{where}.{key}[{i}]") for i, x in enumerate(v))


def _curve_from_dict(d: Any, where: str) -> Curve:
    kind = _get(d, "type", str, where)
    if kind == "line":
        return Line(_vec(d, "start", 2, where), _vec(d, "end", 2, where))
    if kind == "arc":
        return Arc(_vec(d, "start", 2, where), _vec(d, "mid", 2, where), _vec(d, "end", 2, where))
    if kind == "circle":
        return Circle(
            _vec(d, "center", 2, where), _num(_get(d, "radius", (int, float), where), f"{where}.radius")
        )
    raise ProgramFormatError(f"{where}.type must be line, arc or circle, got {kind!r}")


def _loop_from_dict(d: Any, where: str) -> Loop:
    curves = _get(d, "curves", list, where)
    return Loop(tuple(_curve_from_dict(c, f"{where}.curves[{i}]") for i, c in enumerate(curves)))


def _feature_from_dict(d: Any, where: str) -> Extrude:
    op = _get(d, "operation", str, where)
    try:
        operation = Operation(op)
    except ValueError:
        raise ProgramFormatError(f"{where}.operation: unknown operation {op!r}") from None
    ext = _get(d, "extent", dict, where)
    kind = _get(ext, "kind", str, f"{where}.extent")
    try:
        ext_kind = ExtentKind(kind)
    except ValueError:
        raise ProgramFormatError(f"{where}.extent.kind: unknown extent {kind!r}") from None
    d1 = _num(_get(ext, "d1", (int, float), f"{where}.extent"), f"{where}.extent.d1")
    d2 = _num(ext.get("d2", 0.0), f"{where}.extent.d2")
    sk = _get(d, "sketch", dict, where)
    pl = _get(sk, "plane", dict, f"{where}.sketch")
    plane = Plane(
        _vec(pl, "origin", 3, f"{where}.sketch.plane"),
        _vec(pl, "x_dir", 3, f"{where}.sketch.plane"),
        _vec(pl, "normal", 3, f"{where}.sketch.plane"),
    )
    profiles = []
    for i, p in enumerate(_get(sk, "profiles", list, f"{where}.sketch")):
        pw = f"{where}.sketch.profiles[{i}]"
        outer = _loop_from_dict(_get(p, "outer", dict, pw), f"{pw}.outer")
        holes = p.get("holes", []) if isinstance(p, dict) else []
        if not isinstance(holes, list):
            raise ProgramFormatError(f"{pw}.holes must be a list")
        profiles.append(
            Profile(outer, tuple(_loop_from_dict(h, f"{pw}.holes[{j}]") for j, h in enumerate(holes)))
        )
    return Extrude(Sketch(plane, tuple(profiles)), Extent(ext_kind, d1, d2), operation)
