"""train.train end to end with a tiny model: from scratch (+ --resume) and LoRA over a tiny base."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch

from backend import train
from backend.cli import train as train_command
from backend.model.checkpoint import load_checkpoint
from backend.model.lora import LoraCadModel
from tests.tiny_models import write_tiny_base

torch.set_num_threads(1)

TINY = [
    "--batch-size", "2", "--workers", "0", "--bucket-pool", "1", "--threads", "1", "--device", "cpu",
    "--warmup", "1", "--log-every", "1", "--eval-every", "1000", "--eval-n", "2", "--eval-decode", "1",
    "--hidden", "32", "--layers", "1", "--heads", "2", "--intermediate", "64", "--prefix-tokens", "4",
    "--max-tokens", "128", "--encoder-width", "16",
]  # fmt: skip


def args(*extra: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    train_command.add_arguments(p)
    return p.parse_args([*TINY, *extra])


def records(out: Path, kind: str) -> list[dict]:
    lines = (out / train.LOG_FILE).read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["type"] == kind]


def test_train_then_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert train.train(args("--out", str(out), "--steps", "3", "--export", str(tmp_path / "export"))) == 0
    ck = torch.load(out / train.CHECKPOINT_FILE, weights_only=False)
    assert ck["step"] == 3 and ck["samples_seen"] == 6
    assert [r["step"] for r in records(out, "train")] == [1, 2, 3]
    assert "token_acc" in records(out, "eval")[-1]
    model, _, meta = load_checkpoint(out / "model")
    assert meta["steps"] == 3 and model.config.hidden_size == 32
    assert (tmp_path / "export" / "README.md").is_file()

    assert train.train(args("--out", str(out), "--steps", "5", "--resume")) == 0
    assert "resumed from step 3" in capsys.readouterr().out
    assert [r["step"] for r in records(out, "train")] == [1, 2, 3, 4, 5]
    assert torch.load(out / train.CHECKPOINT_FILE, weights_only=False)["step"] == 5
    assert load_checkpoint(out / "model")[2]["steps"] == 5


def test_lora_run(tmp_path: Path) -> None:
    base = write_tiny_base(tmp_path / "base")
    out = tmp_path / "lora"
    lora_args = ("--out", str(out), "--base-model", str(base), "--lora-r", "4", "--lr", "1e-2")
    assert train.train(args(*lora_args, "--steps", "2")) == 0
    assert all(r["loss"] > 0 for r in records(out, "train"))
    model, _, meta = load_checkpoint(out / "model")
    assert isinstance(model, LoraCadModel) and meta["steps"] == 2
    assert model.config.base_model == str(base.resolve())
    ck = torch.load(out / train.CHECKPOINT_FILE, weights_only=False)
    assert not any("base_layer" in k for k in ck["model"])  # only trainable weights in checkpoint.pt
    assert train.train(args(*lora_args, "--steps", "3", "--resume")) == 0
    assert load_checkpoint(out / "model")[2]["steps"] == 3


def test_conditioned_run_reads_observations_and_warm_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "first"
    assert train.train(args("--out", str(first), "--steps", "1", "--observe", "64")) == 0
    model, _, _ = load_checkpoint(first / "model")
    assert model.config.n_obs_tokens == 64 and model.observes
    second = tmp_path / "second"
    assert train.train(args("--out", str(second), "--steps", "1", "--init-from", str(first / "model"))) == 0
    assert "warm start from" in capsys.readouterr().out
    assert load_checkpoint(second / "model")[0].config.n_obs_tokens == 256  # the default
    with pytest.raises(ValueError, match="--observe"):
        train.train(
            args("--out", str(tmp_path / "x"), "--steps", "1", "--observe", "8", "--base-model", str(first))
        )


def test_replayed_run_counts_fresh_parts_only_and_stops_its_feed(tmp_path: Path) -> None:
    import threading

    out = tmp_path / "replay"
    assert train.train(args("--out", str(out), "--steps", "6", "--replay", "4")) == 0
    ck = torch.load(out / train.CHECKPOINT_FILE, weights_only=False)
    fresh = ck["samples_seen"]
    assert ck["step"] == 6 and 2 <= fresh <= 12 and fresh % 2 == 0  # batches of 2; replayed ones not counted
    assert records(out, "train")[-1]["samples_seen"] == fresh
    assert load_checkpoint(out / "model")[2]["replay"] == 4

    def feeding() -> bool:
        return any(t.name == "replay-feed" and t.is_alive() for t in threading.enumerate())

    for _ in range(100):  # the feed's thread ends once the part it is making is done
        if not feeding():
            break
        threading.Event().wait(0.05)
    assert not feeding()


def test_perturbed_run_records_its_share_in_the_card(tmp_path: Path) -> None:
    out = tmp_path / "noisy"
    assert (
        train.train(args("--out", str(out), "--steps", "1", "--observe", "32", "--perturb-share", "1")) == 0
    )
    meta = load_checkpoint(out / "model")[2]
    assert meta["perturb_share"] == 1.0 and meta["perturbed_seen"] == 2  # one batch of 2, both perturbed
    assert "100 % asked, 2 of the fresh parts seen scanned" in (out / "model" / "README.md").read_text()
    with pytest.raises(ValueError, match="--perturb-share"):
        train.train(args("--out", str(tmp_path / "x"), "--steps", "1", "--perturb-share", "2"))


def test_rich_run_records_its_share_in_the_card_across_a_resume(tmp_path: Path) -> None:
    out = tmp_path / "rich"
    rich = ("--out", str(out), "--observe", "32", "--rich-share", "1")
    assert train.train(args(*rich, "--steps", "1")) == 0
    assert train.train(args(*rich, "--steps", "2", "--resume")) == 0  # one more step after the first
    meta = load_checkpoint(out / "model")[2]
    assert meta["rich_share"] == 1.0 and meta["rich_seen"] == 4 and meta["rich_draws"] == 4
    assert "100 % asked, 4 of the fresh parts drawn rich" in (out / "model" / "README.md").read_text()
    with pytest.raises(ValueError, match="--rich-share"):
        train.train(args("--out", str(tmp_path / "x"), "--steps", "1", "--rich-share", "-0.5"))
