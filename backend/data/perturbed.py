"""Training views of a generated part as users bring it: scanned or sampled, then seen through the
pipeline's own intake.

A clean training part gives the model exact face normals and observation tokens from the exact slicer;
at inference a scan or a point cloud gives it estimated normals and the robust slicer's observation.
``perturbed_view`` closes that gap: the part's mesh is perturbed exactly as the evaluation perturbs real
parts (``geometry.perturb``: ``scan`` remeshes, adds noise and holes; ``points`` keeps 8,192 surface points),
then ``intake.prepare`` frames it, ``Prepared.sample`` gives the encoder's points and normals and
``sections.observe`` the observation, through the very code ``Reconstructor`` runs. The target program is
the generator's, written in the prepared frame (the noisy bounding box moves and scales it slightly).
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from backend.cad.program import Program
from backend.cad.tokens import CadTokenizer

log = logging.getLogger(__name__)

PERTURBED_KINDS = ("scan", "points")  # "rotate" is left to orientation (the pipeline turns parts upright)


def perturbed_view(
    program: Program, mesh, seed: int, kind: str, n_points: int, tokenizer: CadTokenizer, obs_len: int
) -> dict | None:
    """{"points", "tokens", "seed"[, "obs"]} of ``mesh`` perturbed by ``kind`` (one of
    ``PERTURBED_KINDS``), or None when the view is unusable: the intake refuses it, it found turned axes
    (the target would leave the axis planes), or the target does not encode."""
    from backend.geometry.perturb import PERTURBATIONS
    from backend.intake.check import InputMeshError, check_input_mesh
    from backend.intake.prepare import prepare

    if kind not in PERTURBED_KINDS:
        raise ValueError(f"unknown perturbation {kind!r}; expected one of {', '.join(PERTURBED_KINDS)}")
    try:
        geometry, _ = PERTURBATIONS[kind](mesh, seed)
        prep = prepare(check_input_mesh(geometry))
        if not prep.orientation.is_identity:
            return None
        target = prep.frame.program_to_normalized(program)
        tokens = tokenizer.encode(target)
        pts, normals = prep.sample(n_points, seed)
        item = {
            "points": torch.from_numpy(np.concatenate([pts, normals], axis=1).astype(np.float32)),
            "tokens": torch.tensor(tokens, dtype=torch.int64),
            "seed": seed,
        }
        if obs_len > 0:
            from backend.sections.candidates import slicer_for
            from backend.sections.observe import observation_ids

            item["obs"] = torch.tensor(
                observation_ids(slicer_for(prep.geometry), tokenizer, obs_len), dtype=torch.int64
            )
        return item
    except (InputMeshError, ValueError) as exc:
        log.debug("no %s view of part %d: %s", kind, seed, exc)
        return None
