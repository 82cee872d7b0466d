"""Importers: DeepCAD JSON and Fusion 360 Gallery reconstruction JSON -> ``Program``.

``import_json`` reads a path, JSON text or an already-parsed dict, detects the format and
dispatches. Only sketch + extrude designs are representable; anything else (splines, tapers,
offset-to-entity extents, other feature types) raises ``ImportErrorUnsupported`` naming the
feature. Lengths keep the file's own units (Fusion: cm, DeepCAD: as stored); the program is
unit-agnostic.
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

from backend.cad.importers.errors import ImportErrorUnsupported, ImportFormatError
from backend.cad.program import Program


def detect_format(data: dict[str, Any]) -> str:
    """``"fusion360"``, ``"deepcad"`` or ``"cadprog"`` for a parsed JSON object."""
    if not isinstance(data, dict):
        raise ImportFormatError("expected a JSON object at the top level")
    if data.get("format") == "cadprog/1":
        return "cadprog"
    if isinstance(data.get("entities"), dict):
        if isinstance(data.get("timeline"), list):
            return "fusion360"
        if isinstance(data.get("sequence"), list):
            return "deepcad"
    raise ImportFormatError(
        "unrecognised JSON: expected DeepCAD ('entities' + 'sequence') or "
        "Fusion 360 Gallery ('entities' + 'timeline')"
    )


def load_json(source: str | PathLike[str] | dict[str, Any]) -> dict[str, Any]:
    """The parsed object for a dict, a path to a .json file, or JSON text."""
    if isinstance(source, dict):
        return source
    if isinstance(source, PathLike) or (isinstance(source, str) and not source.lstrip().startswith("{")):
        with Path(source).open(encoding="utf-8") as fh:
            return json.load(fh)
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"not valid JSON: {exc}") from exc


def import_json(source: str | PathLike[str] | dict[str, Any]) -> Program:
    """Import a DeepCAD / Fusion 360 Gallery (or our own cadprog/1) JSON into a ``Program``."""
    data = load_json(source)
    fmt = detect_format(data)
    if fmt == "fusion360":
        from backend.cad.importers.fusion360 import import_fusion360

        return import_fusion360(data)
    if fmt == "deepcad":
        from backend.cad.importers.deepcad import import_deepcad

        return import_deepcad(data)
    from backend.cad.serialize import program_from_dict

    return program_from_dict(data)


__all__ = ["ImportErrorUnsupported", "ImportFormatError", "detect_format", "import_json", "load_json"]
