"""Held-out evaluation during training: teacher-forced loss / token accuracy and greedy decoding of a
few parts with the pipeline's own decoders (``backend.decode``), for both objectives. Conditioned
models (``ModelConfig.n_obs_tokens`` > 0) read each part's observation ids, unpadded when decoding."""

from __future__ import annotations

from typing import Any


def _obs(batch: dict[str, Any], sl: slice, device: Any) -> dict[str, Any]:
    """The batch's observation ids and mask for rows ``sl`` (nothing for an unconditioned batch)."""
    return {k: batch[k][sl].to(device) for k in ("obs", "obs_mask") if k in batch}


def decode_inputs(model: Any, batch: dict[str, Any], i: int, points: Any) -> dict[str, Any]:
    """Row ``i``'s conditioning as the decoders take it: ``prefix`` (``[point prefix; observation]``,
    unpadded) and ``logit_bias`` (the observed-number bias, or None)."""
    obs = None
    if "obs" in batch:
        obs = batch["obs"][i][batch["obs_mask"][i]][None].to(points.device)
    bias = model.observed_bias(obs)
    return {
        "prefix": model.condition(points[i : i + 1], obs)[0],
        "logit_bias": None if bias is None else bias[0],
    }


def evaluate(
    model: Any, tokenizer: Any, batch: dict[str, Any], n_decode: int, max_tokens: int
) -> dict[str, Any]:
    """Teacher-forced loss / token accuracy on ``batch``; ``decode_autoregressive`` (greedy) of ``n_decode`` parts."""
    import torch

    if model.config.objective == "unmask":
        return evaluate_unmask(model, tokenizer, batch, n_decode, max_tokens)

    from backend.decode.autoregressive import decode_autoregressive

    device = model.device
    points, tokens = batch["points"].to(device), batch["tokens"].to(device)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        losses, correct, total = [], 0, 0
        for i in range(0, len(tokens), 16):
            out = model(points[i : i + 16], tokens[i : i + 16], **_obs(batch, slice(i, i + 16), device))
            target, mask = tokens[i : i + 16, 1:], tokens[i : i + 16, 1:] != tokenizer.pad_id
            correct += int(((out.logits[:, :-1].argmax(-1) == target) & mask).sum())
            total += int(mask.sum())
            losses.append(float(out.loss) * int(mask.sum()))
        result: dict[str, Any] = {
            "eval_loss": sum(losses) / max(1, total),
            "token_acc": correct / max(1, total),
        }
        result |= greedy_decodes(decode_autoregressive, model, tokenizer, batch, n_decode, max_tokens)
    model.train(was_training)
    return result


def evaluate_unmask(
    model: Any, tokenizer: Any, batch: dict[str, Any], n_decode: int, max_tokens: int
) -> dict[str, Any]:
    """Masked-diffusion loss / accuracy on masked positions (fixed ratios spread over (0, 1], fixed
    draws) on ``batch``; greedy ``decode_unmask`` (default steps) of ``n_decode`` parts of it."""
    import torch

    from backend.decode.unmask import decode_unmask

    device = model.device
    points, tokens = batch["points"].to(device), batch["tokens"].to(device)
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(0)
    ratios = (torch.arange(len(tokens)) + 0.5) / len(tokens)
    with torch.no_grad():
        loss_sum, correct, total = 0.0, 0, 0
        for i in range(0, len(tokens), 16):
            rows = slice(i, i + 16)
            out = model(
                points[rows], tokens[rows], ratio=ratios[rows], generator=gen, **_obs(batch, rows, device)
            )
            n = int(out.masked.sum())
            correct += int(((out.logits.argmax(-1) == out.targets) & out.masked).sum())
            total += n
            loss_sum += float(out.loss) * n
        result: dict[str, Any] = {"eval_loss": loss_sum / max(1, total), "token_acc": correct / max(1, total)}
        result |= greedy_decodes(decode_unmask, model, tokenizer, batch, n_decode, max_tokens)
    model.train(was_training)
    return result


def greedy_decodes(
    decoder: Any, model: Any, tokenizer: Any, batch: dict[str, Any], n_decode: int, max_tokens: int
) -> dict[str, float]:
    """The pipeline's ``decoder`` (greedy, one candidate) on the first ``n_decode`` parts of ``batch``:
    the shares that parse, equal the target exactly, and rebuild (nothing for ``n_decode`` = 0)."""
    from backend.geometry.solid import program_to_mesh

    if n_decode <= 0:
        return {}
    points, tokens = batch["points"].to(model.device), batch["tokens"]
    valid = exact = rebuilt = 0
    for i in range(min(n_decode, len(tokens))):
        res = decoder(
            model, tokenizer, n_candidates=1, max_tokens=max_tokens, **decode_inputs(model, batch, i, points)
        )[0]
        if res.program is None:
            continue
        valid += 1
        exact += [tokenizer.bos_id, *res.tokens] == [t for t in tokens[i].tolist() if t != tokenizer.pad_id]
        try:
            rebuilt += len(program_to_mesh(res.program).faces) > 0
        except Exception:  # noqa: BLE001 - any geometry failure counts as not rebuilt
            pass
    return {"parse_valid": valid / n_decode, "exact": exact / n_decode, "rebuilds": rebuilt / n_decode}
