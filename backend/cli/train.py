"""``python -m backend train --out runs/NAME [--minutes M | --steps S]``: train the model (``backend.train``)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Register the ``train`` options on ``p``."""
    p.add_argument("--out", required=True, help="run folder (checkpoint.pt, log.jsonl, model/)")
    p.add_argument("--minutes", type=float, default=None, help="training time budget for the whole run")
    p.add_argument("--steps", type=int, default=None, help="number of optimiser steps")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr-ratio", type=float, default=0.05, help="final lr as a fraction of --lr")
    p.add_argument("--warmup", type=int, default=200, help="linear warm-up steps")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--base-model", default=None, help="folder of a pretrained causal LM: LoRA fine-tuning")
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--workers", type=int, default=1, help="data-loading worker processes")
    p.add_argument(
        "--replay",
        type=int,
        default=0,
        metavar="B",
        help="while no fresh batch is ready, train on a random one of the last B (0: always wait; for GPUs)",
    )
    p.add_argument("--bucket-pool", type=int, default=8, help="batches pooled for length bucketing (1: off)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: all cores)")
    p.add_argument("--eval-every", type=int, default=500, help="evaluate and save every K steps")
    p.add_argument("--eval-n", type=int, default=64, help="held-out parts for teacher-forced accuracy")
    p.add_argument("--eval-decode", type=int, default=8, help="held-out parts greedy-decoded per evaluation")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:i]")
    p.add_argument("--seed", type=int, default=0, help="seed of the model init and the data stream")
    p.add_argument("--export", default=None, help="also write the final save_pretrained folder here")
    p.add_argument(
        "--objective",
        choices=["ar", "unmask"],
        default="ar",
        help="ar: causal LM (next token); unmask: bidirectional masked-token diffusion (decoder 'unmask')",
    )
    p.add_argument(
        "--observe",
        type=int,
        default=None,
        metavar="M",
        help="observation tokens the model reads after the point prefix (backend.sections.observe; 0: none;"
        " default 256, and 0 for --base-model)",
    )
    p.add_argument(
        "--perturb-share",
        type=float,
        default=0.0,
        metavar="P",
        help="share of training parts seen scanned or sampled as a point cloud, through the pipeline's intake"
        " (backend.data.perturbed; 0: all clean)",
    )
    p.add_argument(
        "--rich-share",
        type=float,
        default=0.0,
        metavar="R",
        help="share of training parts drawn rich: the one with the most features of several generator draws"
        " (backend.data.dataset.training_part; 0: the generator's own mix)",
    )
    p.add_argument(
        "--init-from", default=None, help="saved model folder whose matching weights start the run"
    )
    g = p.add_argument_group("model size (from-scratch decoder)")
    g.add_argument("--hidden", type=int, default=256)
    g.add_argument("--layers", type=int, default=4)
    g.add_argument("--heads", type=int, default=4)
    g.add_argument("--intermediate", type=int, default=768)
    g.add_argument("--prefix-tokens", type=int, default=32)
    g.add_argument("--max-tokens", type=int, default=256)
    g.add_argument("--encoder-width", type=int, default=128)


def run(args: argparse.Namespace) -> int:
    """Train until ``--steps`` or ``--minutes``; 0 when done."""
    from backend.train import train

    return train(args)
