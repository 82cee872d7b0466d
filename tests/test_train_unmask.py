"""train.train --objective unmask end to end with a tiny model: 2 steps, eval, export, reload, decode."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch

from backend import train
from backend.cli import train as train_command
from backend.data.dataset import eval_seeds, make_item
from backend.decode import decode_unmask
from backend.model.checkpoint import load_checkpoint
from backend.model.unmask_model import UnmaskModel

torch.set_num_threads(1)

TINY = [
    "--batch-size", "2", "--workers", "0", "--bucket-pool", "1", "--threads", "1", "--device", "cpu",
    "--warmup", "1", "--log-every", "1", "--eval-every", "1000", "--eval-n", "2", "--eval-decode", "1",
    "--hidden", "32", "--layers", "1", "--heads", "2", "--intermediate", "64", "--prefix-tokens", "4",
    "--max-tokens", "128", "--encoder-width", "16", "--objective", "unmask",
]  # fmt: skip


def args(*extra: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    train_command.add_arguments(p)
    return p.parse_args([*TINY, *extra])


def test_unmask_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert train.train(args("--out", str(out), "--steps", "2")) == 0
    recs = [json.loads(line) for line in (out / train.LOG_FILE).read_text().splitlines()]
    assert [r["step"] for r in recs if r["type"] == "train"] == [1, 2]
    ev = [r for r in recs if r["type"] == "eval"][-1]
    assert ev["eval_loss"] > 0 and 0 <= ev["token_acc"] <= 1 and "parse_valid" in ev
    model, tok, meta = load_checkpoint(out / "model")
    assert isinstance(model, UnmaskModel) and model.config.objective == "unmask" and meta["steps"] == 2
    assert "Objective: unmask" in (out / "model" / "README.md").read_text()
    item = make_item(eval_seeds(1)[0], model.config.n_points, tok)
    results = decode_unmask(model, tok, item["points"], n_candidates=2, steps=4)
    assert len(results) == 2 and all(r.finished == (r.program is not None) for r in results)


def test_unmask_refuses_lora(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="from scratch"):
        train.train(args("--out", str(tmp_path / "x"), "--steps", "1", "--base-model", str(tmp_path)))
