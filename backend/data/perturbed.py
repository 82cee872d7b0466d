"""Training views of a generated part as users bring it: scanned or sampled, then seen through the
pipeline's own intake.

A clean training part gives the model exact face normals and observation tokens from the exact slicer;
at inference a scan or a point cloud gives it estimated normals and the robust slicer's observation.
``perturbed_view`` closes that gap: the part's mesh is perturbed exactly as the evaluation perturbs real
parts (``geometry.perturb``: ``scan`` remeshes, adds noise and holes; ``points`` keeps 8,192 surface points),
then the intake checks it, fits it to the work budget and frames it (``intake``), ``Prepared.sample`` gives
the encoder's points and normals and ``sections.observe`` the observation (nothing observed when slicing
fails), as ``Reconstructor`` does. The target program is the generator's, written in the prepared frame
(the noisy bounding box moves and scales it slightly) and checked against the decoding grammar.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from backend.cad.program import Program
from backend.cad.tokens import CadTokenizer

log = logging.getLogger(__name__)

PERTURBED_KINDS = ("scan", "points")  # "rotate" is left to orientation (the pipeline turns parts upright)
_PERTURB_STREAM, _SAMPLE_STREAM = 0x5CA1, 0x5A3B  # the view's random streams, apart from the generator's


def _stream_seed(seed: int, salt: int) -> int:
    return int(np.random.default_rng([seed, salt]).integers(2**31))


def perturbed_view(
    program: Program, mesh, seed: int, kind: str, n_points: int, tokenizer: CadTokenizer, obs_len: int
) -> dict | None:
    """{"points", "tokens", "seed", "perturbed"[, "obs"]} of ``mesh`` perturbed by ``kind`` (one of
    ``PERTURBED_KINDS``), or None when the view is unusable: the intake refuses it, it found turned axes
    (the target would leave the axis planes), the target does not encode or breaks the grammar on the
    moved grid, or any step fails (a data worker must not die of one part)."""
    if kind not in PERTURBED_KINDS:
        raise ValueError(f"unknown perturbation {kind!r}; expected one of {', '.join(PERTURBED_KINDS)}")
    try:
        return _view(program, mesh, seed, kind, n_points, tokenizer, obs_len)
    except Exception as exc:  # the caller falls back to the clean view
        log.debug("no %s view of part %d: %s: %s", kind, seed, type(exc).__name__, exc)
        return None


def _view(program, mesh, seed: int, kind: str, n_points: int, tokenizer: CadTokenizer, obs_len: int):
    import trimesh

    from backend.geometry.perturb import PERTURBATIONS
    from backend.intake.budget import fit_work_budget
    from backend.intake.check import check_input_mesh
    from backend.intake.prepare import prepare

    geometry, _ = PERTURBATIONS[kind](mesh, _stream_seed(seed, _PERTURB_STREAM))
    checked = check_input_mesh(geometry)
    if isinstance(checked, trimesh.Trimesh):
        checked, _ = fit_work_budget(checked)
    prep = prepare(checked)
    if not prep.orientation.is_identity:
        return None
    tokens = tokenizer.encode(prep.frame.program_to_normalized(program))
    tokenizer.decode(tokens)  # GrammarError when the moved grid merged points the grammar keeps apart
    pts, normals = prep.sample(n_points, _stream_seed(seed, _SAMPLE_STREAM))
    item = {
        "points": torch.from_numpy(np.concatenate([pts, normals], axis=1).astype(np.float32)),
        "tokens": torch.tensor(tokens, dtype=torch.int64),
        "seed": seed,
        "perturbed": kind,
    }
    if obs_len > 0:
        item["obs"] = torch.tensor(_observation(prep, tokenizer, obs_len), dtype=torch.int64)
    return item


def _observation(prep, tokenizer: CadTokenizer, obs_len: int) -> list[int]:
    """The observation ids as ``Reconstructor._encode`` makes them: nothing observed when slicing fails."""
    from backend.sections.candidates import slicer_for
    from backend.sections.observe import observation_ids

    try:
        slicer = slicer_for(prep.geometry)
    except Exception:  # the pipeline goes on without sections too
        return [tokenizer.bos_id, tokenizer.eos_id]
    return observation_ids(slicer, tokenizer, obs_len)
