"""Train the point-cloud -> CAD-token model on unlimited procedural data.

``python -m backend train --out runs/NAME [--minutes M | --steps S] ...`` (options: ``backend.cli.train``).
The run folder holds ``checkpoint.pt`` (model + optimizer + step, for ``--resume``), ``log.jsonl`` and,
at the end, ``model/`` (a save_pretrained folder with model card; ``--export PATH`` writes another copy).
The time budget (``--minutes``) and the cosine schedule cover the whole run, across resumes.
Heavy imports happen inside functions so the CLI's ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHECKPOINT_FILE = "checkpoint.pt"
LOG_FILE = "log.jsonl"


def lr_factor(step: int, progress: float, warmup: int, min_ratio: float) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to ``min_ratio`` as progress goes 0 -> 1."""
    warm = min(1.0, (step + 1) / max(1, warmup))
    cos = 0.5 * (1.0 + math.cos(math.pi * min(1.0, max(0.0, progress))))
    return warm * (min_ratio + (1.0 - min_ratio) * cos)


def pick_device(name: str) -> Any:
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def hardware(device: Any) -> str:
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def model_config(args: argparse.Namespace) -> Any:
    from backend.cad.tokens import CadTokenizer
    from backend.model.cad_model import ModelConfig

    tok = CadTokenizer()
    return ModelConfig(
        vocab_size=len(tok),
        hidden_size=args.hidden,
        n_layers=args.layers,
        n_heads=args.heads,
        n_kv_heads=args.heads,
        intermediate_size=args.intermediate,
        n_prefix_tokens=args.prefix_tokens,
        max_tokens=args.max_tokens,
        encoder_width=args.encoder_width,
        pad_id=tok.pad_id,
        bos_id=tok.bos_id,
        eos_id=tok.eos_id,
        objective=getattr(args, "objective", "ar"),
        n_obs_tokens=getattr(args, "observe", 0),
    )


# --- data ------------------------------------------------------------------------------------------


def make_loader(args: argparse.Namespace, start: int) -> Any:
    """Endless DataLoader over procedural parts yielding lists of items; ``start`` offsets the seeds."""
    from torch.utils.data import DataLoader

    from backend.data.dataset import TRAIN_SEED_START, ProceduralDataset

    ds = ProceduralDataset(
        seed_start=TRAIN_SEED_START + start,
        max_tokens=args.max_tokens,
        obs_len=getattr(args, "observe", 0),
        perturb_share=getattr(args, "perturb_share", 0.0),
        rich_share=getattr(args, "rich_share", 0.0),
    )
    return DataLoader(
        ds,
        batch_size=args.batch_size,
        num_workers=args.workers,
        collate_fn=list,
        persistent_workers=args.workers > 0,
        prefetch_factor=4 if args.workers > 0 else None,
    )


def bucketed(
    lists: Iterator[list[dict]], batch_size: int, pool: int, collate_fn: Any, seed: int
) -> Iterator[dict]:
    """Gather ``pool`` batches, sort their items by length and re-split (less padding), in random order."""
    import random

    rng = random.Random(seed)
    while True:
        items = [it for _ in range(max(1, pool)) for it in next(lists)]
        items.sort(key=lambda it: len(it["tokens"]))
        batches = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
        rng.shuffle(batches)
        for b in batches:
            yield collate_fn(b)


def eval_batch(n: int, pad_id: int, max_tokens: int, obs_len: int = 0) -> dict[str, Any]:
    """A fixed batch of ``n`` held-out parts (with their observations when ``obs_len`` > 0)."""
    from backend.cad.tokens import CadTokenizer
    from backend.data.dataset import collate, eval_seeds, make_item

    tok = CadTokenizer()
    items = [make_item(s, 2048, tok, obs_len) for s in eval_seeds(n)]
    return collate([it for it in items if len(it["tokens"]) <= max_tokens], pad_id)


# --- checkpoints -----------------------------------------------------------------------------------


def save_state(out: Path, model: Any, optimizer: Any, state: dict[str, Any]) -> None:
    """Atomically write OUT/checkpoint.pt (trainable weights + optimizer + counters)."""
    import torch

    tmp = out / (CHECKPOINT_FILE + ".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), **state}, tmp)
    os.replace(tmp, out / CHECKPOINT_FILE)


def load_state(path: Path, device: Any) -> dict[str, Any]:
    """OUT/checkpoint.pt read with ``weights_only=True``: tensors and plain values, never pickled code."""
    import pickle

    import torch

    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = str(exc).strip().splitlines()[0][:200]
        raise ValueError(f"{path}: refused to resume: it holds more than weights ({reason})") from None


def export(model: Any, tokenizer: Any, folder: Path, meta: dict[str, Any], metrics_md: str = "") -> Path:
    """Write a save_pretrained folder (LoRA-aware)."""
    if model.config.base_model:
        from backend.model.lora import save_lora_checkpoint

        return save_lora_checkpoint(model, tokenizer, folder, meta, metrics_md)
    from backend.model.checkpoint import save_pretrained

    return save_pretrained(model, tokenizer, folder, meta, metrics_md)


def metrics_markdown(ev: dict[str, Any], n_eval: int) -> str:
    rows = "\n".join(f"| {k} | {v:.4f} |" for k, v in ev.items() if isinstance(v, float))
    return f"Held-out procedural parts ({n_eval} teacher-forced, greedy decoding on a few):\n\n| metric | value |\n|---|---|\n{rows}"


# --- the loop --------------------------------------------------------------------------------------


def build(args: argparse.Namespace, device: Any) -> tuple[Any, Any, Any]:
    """(model, CAD tokenizer, collate_fn or None) for a from-scratch or LoRA run."""
    import torch

    from backend.cad.tokens import CadTokenizer

    torch.manual_seed(args.seed)
    tokenizer = CadTokenizer()
    if getattr(args, "objective", "ar") == "unmask":
        if args.base_model:
            raise ValueError(
                "--objective unmask trains a bidirectional model from scratch: drop --base-model"
            )
        from backend.model.unmask_model import UnmaskModel

        model = UnmaskModel(model_config(args))
        if getattr(args, "init_from", None):
            from backend.model.warm_start import warm_start

            print(warm_start(model, args.init_from))
        return model.to(device), tokenizer, None
    if args.base_model:
        from backend.model.lora import build_lora_model, text_collate

        model, text_tok = build_lora_model(args.base_model, model_config(args), r=args.lora_r)
        return model.to(device), tokenizer, text_collate(text_tok, tokenizer)
    from backend.model.cad_model import CadModel

    model = CadModel(model_config(args))
    if getattr(args, "init_from", None):
        from backend.model.warm_start import warm_start

        print(warm_start(model, args.init_from))
    return model.to(device), tokenizer, None


def train(args: argparse.Namespace) -> int:
    """Train; returns 0. Ends cleanly (saves and exports) at --steps or when --minutes runs out."""
    import torch
    from tqdm import tqdm

    from backend.train_eval import evaluate

    if args.steps is None and args.minutes is None:
        raise ValueError("give --steps or --minutes")
    if getattr(args, "observe", None) is None:
        from backend.sections.observe import DEFAULT_OBSERVATION_TOKENS

        args.observe = 0 if args.base_model else DEFAULT_OBSERVATION_TOKENS
    if args.observe and args.base_model:
        raise ValueError(
            "--observe is for the from-scratch decoders; LoRA runs read points only (--observe 0)"
        )
    if not 0.0 <= getattr(args, "perturb_share", 0.0) <= 1.0:
        raise ValueError(f"--perturb-share must lie in [0, 1], got {args.perturb_share}")
    if not 0.0 <= getattr(args, "rich_share", 0.0) <= 1.0:
        raise ValueError(f"--rich-share must lie in [0, 1], got {args.rich_share}")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model, tokenizer, collate_fn = build(args, device)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.95),
    )
    state = {
        "step": 0,
        "tokens_seen": 0,
        "elapsed": 0.0,
        "samples_seen": 0,
        "perturbed_seen": 0,
        "rich_seen": 0,
    }
    if args.resume and (out / CHECKPOINT_FILE).is_file():
        ck = load_state(out / CHECKPOINT_FILE, device)
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        state = {k: ck.get(k, v) for k, v in state.items()}  # counters newer than the checkpoint start at 0
        print(f"resumed from step {state['step']}")
    budget = args.minutes * 60 if args.minutes is not None else math.inf
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params:,} parameters ({sum(p.numel() for p in params):,} trainable) on {device}")
    ev_batch = None
    if args.eval_n > 0:
        ev_batch = eval_batch(args.eval_n, tokenizer.pad_id, args.max_tokens, getattr(args, "observe", 0))
    if collate_fn is not None and ev_batch is not None:
        ev_batch = None  # LoRA runs: held-out evaluation is done by backend.model.lora's own helpers
    from functools import partial

    from backend.data.dataset import collate

    collate_fn = collate_fn or partial(collate, pad_id=tokenizer.pad_id)
    lists = iter(make_loader(args, state["samples_seen"]))
    loader = bucketed(lists, args.batch_size, args.bucket_pool, collate_fn, args.seed + state["step"])
    feed = None
    if getattr(args, "replay", 0) > 0:
        from backend.data.replay import ReplayFeed

        loader = feed = ReplayFeed(loader, args.replay, args.seed + state["step"])
    log = (out / LOG_FILE).open("a")
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else _null()
    model.train()

    def done() -> bool:
        return (args.steps is not None and state["step"] >= args.steps) or state["elapsed"] >= budget

    def progress() -> float:
        fs = state["step"] / args.steps if args.steps else 0.0
        return max(fs, state["elapsed"] / budget if budget < math.inf else 0.0)

    def checkpoint_and_eval() -> dict[str, Any]:
        ev = evaluate(model, tokenizer, ev_batch, args.eval_decode, args.max_tokens) if ev_batch else {}
        rec = {"type": "eval", "step": state["step"], **ev}
        log.write(json.dumps(rec) + "\n")
        log.flush()
        save_state(out, model, optimizer, state)
        return ev

    bar = tqdm(total=args.steps, initial=state["step"], dynamic_ncols=True, mininterval=2.0)
    try:
        t_last, tok_window, loss_ema, ev = time.perf_counter(), 0, None, {}
        while not done():
            batch = next(loader)
            points, tokens = batch["points"].to(device), batch["tokens"].to(device)
            mask = batch.get("attention_mask")
            for g in optimizer.param_groups:
                g["lr"] = args.lr * lr_factor(state["step"], progress(), args.warmup, args.min_lr_ratio)
            obs = {k: batch[k].to(device) for k in ("obs", "obs_mask") if k in batch}
            with autocast:
                out_ = model(points, tokens, None if mask is None else mask.to(device), **obs)
            out_.loss.backward()
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, args.grad_clip))
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            n_tok = int((tokens != tokenizer.pad_id).sum()) if mask is None else int(mask.sum())
            now = time.perf_counter()
            state["elapsed"] += now - t_last
            t_last = now
            state["step"] += 1
            state["tokens_seen"] += n_tok
            if feed is None or feed.last_fresh:
                state["samples_seen"] += len(tokens)  # fresh parts only: the data seeds resume after them
                for key in ("perturbed", "rich"):  # the fresh parts seen perturbed / drawn rich
                    if key in batch:
                        state[f"{key}_seen"] += int(batch[key].sum())
            tok_window += n_tok
            loss = float(out_.loss.detach())
            loss_ema = loss if loss_ema is None else 0.95 * loss_ema + 0.05 * loss
            bar.update(1)
            if state["step"] % args.log_every == 0:
                tok_s = state["tokens_seen"] / max(1e-9, state["elapsed"])
                eta = _eta(state, args, budget)
                bar.set_postfix(loss=f"{loss_ema:.3f}", tok_s=f"{tok_s:.0f}", eta=eta, refresh=False)
                rec = {
                    "type": "train",
                    "step": state["step"],
                    "loss": loss,
                    "loss_ema": loss_ema,
                    "lr": optimizer.param_groups[0]["lr"],
                    "grad_norm": grad_norm,
                    "tokens_seen": state["tokens_seen"],
                    "elapsed": round(state["elapsed"], 2),
                    "tok_s": round(tok_s, 1),
                    "samples_seen": state["samples_seen"],
                }
                if feed is not None:
                    rec["replayed_share"] = round(feed.replayed / max(1, feed.fresh + feed.replayed), 3)
                log.write(json.dumps(rec) + "\n")
                log.flush()
            if state["step"] % args.eval_every == 0 and not done():
                ev = checkpoint_and_eval()
                bar.write(f"step {state['step']}: " + ", ".join(f"{k} {v:.3f}" for k, v in ev.items()))
                t_last = time.perf_counter()  # evaluation time is not training time
    finally:
        if feed is not None:
            feed.close()  # its thread would otherwise keep the data workers alive
    bar.close()
    ev = checkpoint_and_eval()
    print(f"final (step {state['step']}): " + ", ".join(f"{k} {v:.3f}" for k, v in ev.items()))
    from backend.data.dataset import RICH_DRAWS

    meta = {
        "steps": state["step"],
        "batch_size": args.batch_size,
        "tokens_seen": state["tokens_seen"],
        "samples_seen": state["samples_seen"],
        "replay": getattr(args, "replay", 0),
        "perturb_share": getattr(args, "perturb_share", 0.0),
        "perturbed_seen": state["perturbed_seen"],
        "rich_share": getattr(args, "rich_share", 0.0),
        "rich_draws": RICH_DRAWS,
        "rich_seen": state["rich_seen"],
        "wall_time_s": round(state["elapsed"], 1),
        "hardware": hardware(device),
        "init_from": getattr(args, "init_from", None),
        "train_loss": round(loss_ema, 4) if loss_ema else None,
        "eval": ev,
    }
    final_md = metrics_markdown(ev, args.eval_n) if ev else ""
    export(model, tokenizer, out / "model", meta, final_md)
    if args.export:
        export(model, tokenizer, Path(args.export), meta, final_md)
        print(f"exported {args.export}")
    log.close()
    return 0


def _eta(state: dict[str, Any], args: argparse.Namespace, budget: float) -> str:
    rate = state["step"] / max(1e-9, state["elapsed"])
    left = budget - state["elapsed"]
    if args.steps is not None:
        left = min(left, (args.steps - state["step"]) / max(rate, 1e-9))
    return time.strftime("%H:%M:%S", time.gmtime(max(0.0, left)))


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
