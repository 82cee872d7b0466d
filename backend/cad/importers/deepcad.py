"""DeepCAD JSON -> ``Program``.

DeepCAD stores Onshape models in the Fusion 360 Gallery layout (``entities`` with ``Sketch`` and
``ExtrudeFeature``), ordered by ``sequence`` instead of ``timeline``, so the reading is shared with
``fusion360``. Differences, following DeepCAD's own ``cadlib``:

- every loop is flagged ``is_outer``: the loop with the largest area is the outer one, the others
  are holes;
- an arc's ``normal`` is in world space (its points and reference vector are in sketch space);
- ``SymmetricFeatureExtentType``: ``extent_one`` is the distance on each side of the plane
  (``cadlib`` extrudes it both ways), so SYMMETRIC d1 = extent_one;
- ``TwoSidesFeatureExtentType``: extent_two is measured against the normal: TWO_SIDES d2.

Lengths stay as stored (DeepCAD's JSON is in metres, as converted from Onshape).
"""

from __future__ import annotations

from typing import Any

from backend.cad.importers.errors import ImportFormatError
from backend.cad.importers.fusion360 import read_program
from backend.cad.importers.sketches import Conventions
from backend.cad.program import Program

DEEPCAD = Conventions("DeepCAD", arc_normal_in_world=True, trust_is_outer=False, symmetric_full_length=False)


def import_deepcad(data: dict[str, Any]) -> Program:
    """Convert a parsed DeepCAD JSON object to a ``Program``."""
    entities = data.get("entities")
    sequence = data.get("sequence")
    if not isinstance(entities, dict) or not isinstance(sequence, list):
        raise ImportFormatError("DeepCAD file needs 'entities' and a 'sequence' list")
    items = sorted(sequence, key=lambda s: s.get("index", 0) if isinstance(s, dict) else 0)
    order = [s.get("entity") if isinstance(s, dict) else None for s in items]
    return read_program(entities, order, DEEPCAD)
