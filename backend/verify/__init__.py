"""The verifier: the one place where candidate programs meet the input and one of them is chosen.

Every candidate (the model's programs, the section fitter's, the bounding box as a last resort) is
rebuilt, measured against the input and ranked by one rule (``rank.choose``):

    fidelity first: the lowest loss wins; every candidate whose loss is within the tie tolerance of the
    lowest counts as equally faithful, and among those the most compact program wins: the fewest sketch
    curves (what a person edits), and for the same curves the one with more operations (a hole as its
    own cut, a boss as its own join; cuts through one depth are one operation: ``rank.operations``), and
    for as many operations the fewer features; then the lower loss, when lower by more than its own
    noise; then the earlier candidate (the model's come first). One solid has one loss: the candidates
    that build the same solid (``refine.solid_key``) are judged by the mean of their losses
    (``refine.solid_losses``: the loss samples each candidate's own triangles, so one solid written two
    ways would otherwise be told from itself by that noise). The equally faithful candidates are also
    offered with their loops refitted with fewer curves (``simplify``; with exact volumes only), and
    written with their holes and notches as cuts, one sketch's pieces on one axis as one extrusion,
    the cuts through one depth as one, and their
    different islands as features of their own (``candidates.with_intent_rewrites``, ``cad.intent``).
    On a scan or a point cloud whose sections found round holes, the tied candidates that show more of
    them come first in the rule's order (``scanned_holes.holes_shown``) and the volume reference has them
    carved out (``scanned_holes.carved``). Fidelity is tested twice: a tied candidate whose volume overlap
    with the input is visibly lower than
    another tied one's is passed over, and none is chosen without its overlap measured (once a solid:
    ``refine.solid_key``); with exact volumes, a candidate a little further in
    distance (``refine.VOLUME_WINDOW``) that overlaps visibly better than every tied one makes the
    equally faithful set those that overlap as well as it (``refine.pick_keeping_volume``).

The pipeline's loss is the ranking Chamfer distance against fixed surface samples of the input
(``target.ChamferTarget``): it is meaningful for closed meshes, open or noisy scans and point clouds
alike. The evaluation's section reference row (by definition the best single extrusion by IoU) uses
1 − IoU with the same rule (``reference``). ``refine`` then moves the winner's continuous parameters,
and a refinement is kept only when it does not lose volume overlap with a closed, clean input. The
refined winner is written as a person would model it when the rule prefers that and the solid is the
same (``candidates.written_as_designed``): refinement can make two fitted loops one (a bore through two
slabs), which the rewrite before it could not match. For a scan or a point cloud (not a clean mesh,
closed or open) the winner's flat faces (extrusion ends, axis-parallel walls) are first moved onto the flat
faces the input's samples measure, when its loss stays within the tie (``candidates.on_flat_levels``):
the distance to noisy samples cannot place a face within the noise, the samples' median can.

Modules: ``target`` (what candidates are measured against), ``rank`` (the rule, ``Candidate``),
``candidates`` (rebuild and score programs; section and bounding-box candidates), ``snap`` (a model
program's extents and loops moved onto the mesh's levels and sections, strictly and loosely),
``levels`` (the model's best programs with their extrusions searched over the mesh's levels),
``residual`` (the best candidate of each source completed with features on other axes), ``trim`` (the
same, and the residual programs, cut to the input's outlines seen along each axis), ``scanned_holes``
(for a scan or a point cloud, which has no exact volume for those two: the round holes its sections
found on any axis cut into the best candidate of each source), ``prune`` (the
best few of each source without the features they do not need), ``simplify`` (loops refitted with
fewer curves), ``refine``
(coordinate search and the keeps-volume guard), ``reference`` (IoU scoring of programs; the reference row).
"""

from backend.verify.candidates import SOURCE_BBOX, SOURCE_MODEL, SOURCE_SECTION, bbox_program, score_programs
from backend.verify.rank import Candidate, choose, pick_best
from backend.verify.refine import keeps_volume, refine_candidate
from backend.verify.target import ChamferTarget

__all__ = [
    "SOURCE_BBOX",
    "SOURCE_MODEL",
    "SOURCE_SECTION",
    "Candidate",
    "ChamferTarget",
    "bbox_program",
    "choose",
    "keeps_volume",
    "pick_best",
    "refine_candidate",
    "score_programs",
]
