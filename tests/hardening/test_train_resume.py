"""Issue 13 row 17: ``train --resume`` loads checkpoint.pt with ``weights_only=True``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from backend import train

CALLS: list[str] = []


def _mark(text: str) -> str:
    CALLS.append(text)
    return text


class Payload:
    """Unpickling it calls ``_mark``: code that a weights-only load must never run."""

    def __reduce__(self):
        return (_mark, ("executed",))


def test_plain_state_loads(tmp_path: Path) -> None:
    path = tmp_path / train.CHECKPOINT_FILE
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.ones(2))], betas=(0.9, 0.95))
    torch.save(
        {"model": {"w": torch.ones(2)}, "optimizer": opt.state_dict(), "step": 3, "elapsed": 1.5}, path
    )
    state = train.load_state(path, "cpu")
    assert state["step"] == 3 and torch.equal(state["model"]["w"], torch.ones(2))


def test_pickled_objects_are_refused(tmp_path: Path) -> None:
    path = tmp_path / train.CHECKPOINT_FILE
    torch.save({"model": {}, "step": Payload()}, path)
    with pytest.raises(ValueError, match="refused to resume: it holds more than weights"):
        train.load_state(path, "cpu")
    assert CALLS == []
