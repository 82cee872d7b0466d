"""Start a run from a saved model's weights (``python -m backend train --init-from FOLDER``).

Tensors whose names and shapes match are copied; a position table that grew (a conditioned model reads
observation tokens too, so its context is longer) gets the saved rows at its start; everything else
keeps its fresh initialisation. The summary says what happened, so a run never starts from a silently
partial copy.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from backend.model.checkpoint import CONFIG_FILE

WEIGHTS_FILE = "model.safetensors"


def warm_start(model: torch.nn.Module, folder: str | Path) -> str:
    """Copy matching weights of the save_pretrained ``folder`` into ``model``; a one-line summary."""
    folder = Path(folder)
    weights = folder / WEIGHTS_FILE
    if not (folder / CONFIG_FILE).is_file() or not weights.is_file():
        raise FileNotFoundError(f"--init-from {folder}: no saved model there ({CONFIG_FILE}, {WEIGHTS_FILE})")
    saved = load_file(str(weights))
    own = model.state_dict()
    copied, grown, skipped = 0, 0, []
    with torch.no_grad():
        for name, value in saved.items():
            target = own.get(name)
            if target is None:
                skipped.append(name)
            elif target.shape == value.shape:
                target.copy_(value.to(target.dtype))
                copied += 1
            elif (
                target.dim() == value.dim() == 2
                and target.shape[1] == value.shape[1]
                and target.shape[0] > value.shape[0]
            ):
                target[: value.shape[0]].copy_(value.to(target.dtype))  # a longer position table
                grown += 1
            else:
                skipped.append(name)
    fresh = len(own) - copied - grown
    return f"warm start from {folder}: {copied} tensors copied, {grown} grown, {fresh} fresh" + (
        f", {len(skipped)} saved tensors unused ({', '.join(skipped[:3])}...)" if skipped else ""
    )
