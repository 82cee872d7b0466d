"""What the mesh shows, written in the model's own token language (the model's second input).

Per axis (z, x, y) the observation is the stacked sections along that axis (``layered_program``: one
extrusion per slab between the flat steps, new then join), or, when the part does not step along it,
its mid-height section extruded over the full extent. The numbers are on the token grid, exactly like
program numbers, so a model can copy them. Training (``backend.data.dataset``) and the pipeline
(``backend.reconstruct``) both call ``observation_ids`` on the normalised mesh, so the model reads at
inference what it read in training: the same slicer, fitter and tokenizer.

Token layout: ``BOS feature feature ... EOS``, each feature as the grammar writes it
(``extrude ... plane ... profile ...``); features are kept whole, in axis order, until ``max_len``.
"""

from __future__ import annotations

from backend.cad.program import Program
from backend.cad.quantize import QuantizationRangeError
from backend.cad.tokens import CadTokenizer
from backend.sections.candidates import (
    MeshSlicer,
    Target,
    layered_program,
    mid_section_program,
    slicer_for,
)
from backend.sections.slices import RobustSlicer

OBSERVED_AXES = (2, 0, 1)
DEFAULT_OBSERVATION_TOKENS = 256  # BOS and EOS included


def observation_programs(target: Target | MeshSlicer | RobustSlicer) -> list[Program]:
    """One program per axis that the mesh has a section on: stacked slabs, else the mid section."""
    slicer = slicer_for(target)
    out = []
    for axis in OBSERVED_AXES:
        try:
            program = layered_program(slicer, axis) or mid_section_program(slicer, axis)
        except QuantizationRangeError:  # a section past the token grid (a part over the unit size)
            continue
        if program is not None:
            out.append(program)
    return out


def observation_tokens(
    programs: list[Program], tokenizer: CadTokenizer, max_len: int = DEFAULT_OBSERVATION_TOKENS
) -> list[int]:
    """``BOS`` + the programs' features (whole features, in order, while they fit) + ``EOS``."""
    ids = [tokenizer.bos_id]
    for program in programs:
        for feature in program.features:
            words = tokenizer.encode(Program((feature,)))[1:-1]
            if len(ids) + len(words) + 1 > max_len:
                return ids + [tokenizer.eos_id]
            ids += words
    return ids + [tokenizer.eos_id]


def observation_ids(
    target: Target | MeshSlicer | RobustSlicer,
    tokenizer: CadTokenizer,
    max_len: int = DEFAULT_OBSERVATION_TOKENS,
) -> list[int]:
    """The observation of a normalised mesh, scan or point cloud as token ids (see the module doc)."""
    return observation_tokens(observation_programs(target), tokenizer, max_len)
