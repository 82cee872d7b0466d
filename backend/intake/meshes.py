"""A checked triangle mesh made ready for fitting, on a copy: its faces turned outwards and overlapping closed
pieces united (``shells``), its holes filled, a scan's floating pieces left out (``floaters``), and drawn down
to the work budget (``budget.fit_work_budget``); the note says what was done.

A clean (CAD) mesh of several pieces has them turned outwards and united first (the budget's vertex
clustering would sew them together); then it is decimated, turned outwards (one piece: on fewer triangles;
the hole filling's rims run as their faces) and its holes filled exactly (``repair.fill_holes``: the rims
of the surface it is fitted on); pieces that the filling closed are united then. A scan is turned outwards
first (its rims' nesting reads their winding), then its holes are covered
(``scan_holes.fill_scan_holes``), on its rims as scanned: the budget's vertex clustering makes a wide rim
ragged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import trimesh

from backend.intake.budget import fit_work_budget
from backend.intake.check import InputMeshError, check_input_mesh
from backend.intake.floaters import without_floaters
from backend.intake.repair import Filled, fill_holes
from backend.intake.scan_holes import fill_scan_holes
from backend.intake.shells import Outward, outward_solid, several_pieces
from backend.sections.cloud import is_clean_mesh

log = logging.getLogger(__name__)


def _filled(fill: Callable[[trimesh.Trimesh], Filled], mesh: trimesh.Trimesh) -> Filled:
    """``fill(mesh)``; a failing repair must not take the pipeline down: the mesh is then fitted open."""
    try:
        return fill(mesh)
    except Exception as exc:
        log.warning("filling holes failed: %s: %s", type(exc).__name__, exc)
        return Filled(mesh, 0, 0)


def _outward(mesh: trimesh.Trimesh) -> Outward:
    """``outward_solid(mesh)``; like the repair, a failure leaves the mesh as it came."""
    try:
        return outward_solid(mesh)
    except Exception as exc:
        log.warning("turning faces outwards failed: %s: %s", type(exc).__name__, exc)
        return Outward(mesh, 0, 0)


def _holes_note(filled: Filled, where: str) -> str:
    if not filled.holes:
        return ""
    closed = "closed" if filled.open_edges == 0 else f"{filled.open_edges:,} open edges left"
    holes = f"{filled.holes:,} hole{'s' if filled.holes > 1 else ''}"
    return f"{holes} in {where} filled for fitting and scoring ({closed})"


def mesh_for_fitting(
    mesh: trimesh.Trimesh, underside_unseen: bool = False
) -> tuple[trimesh.Trimesh, int, str]:
    """(the mesh to fit, how many holes were filled, a note for ``scores["input_note"]``, "" when nothing was
    done). ``underside_unseen`` reads point clouds only: a mesh's holes are filled without it (noted).
    ``InputMeshError`` when what is left without the floating pieces is no part (flat)."""
    if is_clean_mesh(mesh):
        # pieces united before the budget's clustering would sew them together; one piece turned outwards
        # after the budget (on fewer triangles), before the filling (its rims run as their faces)
        pieces = _outward(mesh) if several_pieces(mesh) else Outward(mesh, 0, 0)
        reduced_mesh, reduced = fit_work_budget(pieces.mesh)  # a decimated copy past the budget
        wound = _outward(reduced_mesh)
        filled = _filled(fill_holes, wound.mesh)
        closed = _outward(filled.mesh) if filled.holes else wound  # closed now: pieces can be united
        later = [wound, closed] if filled.holes else [wound]
        outward = Outward(
            closed.mesh,
            sum(o.turned for o in [pieces, *later]),
            max(pieces.united, closed.united),
            sum(o.doubled for o in [pieces, *later]),
        )
        out = outward.mesh
        notes = [
            reduced,
            _holes_note(filled, "the decimated surface" if reduced else "the surface"),
            outward.note,
        ]
    else:  # holes first: a piece left inside a hole (its neighbours lost) then joins the part, no floater
        outward = _outward(mesh)  # the rims' nesting reads their winding
        filled = _filled(fill_scan_holes, outward.mesh)
        try:
            kept, floaters = without_floaters(filled.mesh)
        except Exception as exc:  # as for the holes: fitted with its specks rather than not at all
            log.warning("leaving out floating pieces failed: %s: %s", type(exc).__name__, exc)
            kept, floaters = filled.mesh, 0
        pieces = f"{floaters:,} small piece{'s' if floaters > 1 else ''} floating away from the part"
        if floaters:
            try:
                kept = check_input_mesh(kept)
            except InputMeshError as exc:
                raise InputMeshError(f"{exc} (once {pieces} left out)") from None
        out, reduced = fit_work_budget(kept)
        notes = [
            outward.note,
            _holes_note(filled, "the surface"),
            f"{pieces} left out" if floaters else "",
            reduced,
        ]
    if underside_unseen:
        notes.append("the underside option reads point clouds (a mesh's holes are filled without it)")
    said = [n.removesuffix("; the input is unchanged") for n in notes if n]
    return out, filled.holes, "; ".join([*said, "the input is unchanged"] if said else [])
