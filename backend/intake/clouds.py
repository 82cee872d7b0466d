"""A checked point cloud made ready for fitting, on a copy: its stray samples left out (``strays``), what is
left checked again, drawn down to the work budget (``budget.fit_cloud_budget``) and, on the user's word,
its unseen underside and the unseen lower faces of its overhangs closed (``underside``, at the budget's
density its bounds were set for); without that word, a cloud whose lowest samples ring a face with none
on it gets a hint to give it (``OPEN_UNDERSIDE_HINT``); the note says what was done."""

from __future__ import annotations

import logging

import numpy as np
import trimesh

from backend.intake.budget import fit_cloud_budget
from backend.intake.check import InputMeshError, check_input_mesh
from backend.intake.strays import without_strays
from backend.intake.underside import closed_underside, underside_samples

log = logging.getLogger(__name__)

# said (nothing done) when the cloud's lowest samples ring a face with none on it: a cloud scanned standing
# on a table, whose underside the scanner never saw (fires on 60 of the 106 public parts' clouds sampled
# so, and on 9 of their complete clouds: a hint, not a verdict; ``underside`` explains why no more)
OPEN_UNDERSIDE_HINT = (
    "its lowest samples ring a face with none on it: if the part stood on a table when it was scanned, "
    "reconstruct with 'Scanned on a table' (--underside-unseen) to close its underside"
)


def cloud_for_fitting(
    cloud: trimesh.PointCloud, underside_unseen: bool
) -> tuple[trimesh.PointCloud, int, str]:
    """(the cloud to fit, how many stray samples were left out, a note for ``scores["input_note"]``, "" when
    nothing was done); ``InputMeshError`` when the samples left are no part (one stray was all its
    thickness)."""
    cloud, strays = without_strays(cloud)
    notes = []
    if strays:
        try:
            cloud = check_input_mesh(cloud)
        except InputMeshError as exc:
            left = f"{strays:,} stray points were" if strays > 1 else "1 stray point was"
            raise InputMeshError(f"{exc} (once {left} left out)") from None
        notes.append(f"{strays:,} stray point{'s' if strays > 1 else ''} away from the surface left out")
    cloud, subsampled = fit_cloud_budget(cloud)
    if underside_unseen:
        cloud, cap, overhangs = closed_underside(cloud)
        closed = [f"the underside closed with {cap:,} samples on the lowest level"] if cap else []
        if overhangs:
            closed.append(f"{overhangs:,} samples added on faces turned downwards the scanner could not see")
        notes.append(
            "; ".join(closed)
            or "no unseen underside found (its lowest rim encloses nothing, no face turned downwards is open)"
        )
    elif _open_underside(cloud):
        notes.append(OPEN_UNDERSIDE_HINT)
    notes.append(subsampled or ("the input is unchanged" if notes else ""))
    return cloud, strays, "; ".join(n for n in notes if n)


def _open_underside(cloud: trimesh.PointCloud) -> bool:
    """Whether the cloud's lowest samples ring a face with none on it; a hint's check must never take the
    job down (a failure says no)."""
    try:
        return len(underside_samples(np.asarray(cloud.vertices))) > 0
    except Exception as exc:
        log.warning("checking for an open underside failed: %s: %s", type(exc).__name__, exc)
        return False
