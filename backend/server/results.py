"""Job results on the wire: a ``ReconstructResult`` as the JSON of ``JobResult`` (used by the worker)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backend.server.mesh import encode_mesh


def _clean(x: Any) -> Any:
    """JSON-safe copy: numpy scalars -> Python, non-finite floats -> None."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    return x if x is None or isinstance(x, str) else str(x)


def result_to_dict(res: Any) -> dict[str, Any]:
    """A ReconstructResult as the JSON of ``JobResult``: the pipeline's own ``to_dict`` (made JSON-safe)
    and the rebuilt solid; fields ``JobResult`` does not name are left out of the response."""
    return {**_clean(res.to_dict()), "mesh": encode_mesh(res.mesh).model_dump()}
