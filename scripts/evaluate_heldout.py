"""Held-out procedural parts, teacher-forced, for saved checkpoints side by side: the numbers of a model
card's "Metrics" table (eval loss, token accuracy, and parse / exact / rebuild rates of a few decoded).

    python scripts/evaluate_heldout.py FOLDER [FOLDER ...] [--n 64] [--decode 8]
"""

from __future__ import annotations

import argparse

import torch

from backend.cad.tokens import CadTokenizer
from backend.model.checkpoint import load_checkpoint
from backend.train import eval_batch
from backend.train_eval import evaluate, evaluate_unmask


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", help="save_pretrained folders (ar or unmask)")
    ap.add_argument("--n", type=int, default=64, help="held-out parts (seeds from 10^9)")
    ap.add_argument("--decode", type=int, default=8, help="of those, decoded")
    args = ap.parse_args()
    torch.set_num_threads(1)
    tok = CadTokenizer()
    batches: dict[int, dict] = {}
    for folder in args.folders:
        model = load_checkpoint(folder)[0].eval()
        c = model.config
        key = c.n_obs_tokens
        if key not in batches:  # the same parts for every model that reads the same observation length
            batches[key] = eval_batch(args.n, tok.pad_id, c.max_tokens, c.n_obs_tokens)
        run = evaluate_unmask if c.objective == "unmask" else evaluate
        metrics = run(model, tok, batches[key], args.decode, c.max_tokens)
        print(folder + ": " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))


if __name__ == "__main__":
    main()
