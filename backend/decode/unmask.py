"""Masked-token diffusion decoding (gradual unmasking) with the grammar enforced at commit time.

Each of the N candidates is a canvas of token ids (program, EOS, PAD) that starts fully masked and
is filled in over K model passes (``steps``), all candidates in one batch:

1. Pass 1 runs once on the all-masked canvas of ``max_tokens - 1`` positions. Its P(PAD) per position
   crops the canvas to the last position with P(not PAD) > ``CROP_THRESHOLD`` plus ``CROP_MARGIN``
   (the model was trained on canvases with random PAD tails, so a crop is in distribution); the
   remaining passes run on the short canvas.
2. Every pass scores all masked positions; a cosine schedule (MaskGIT) says how many stay masked
   after it (none after the last). The most confident predictions are committed (for sampled
   candidates tokens are Gumbel-max samples at the temperature, and the confidences get Gumbel noise
   that fades over the steps). The *frontier* (first masked position after the grammar-checked
   prefix) is always committed, with the grammar mask applied, so the checked prefix grows by at
   least one token per pass.
3. Grammar check: the grammar is left-to-right, so each candidate keeps a ``GrammarState`` fed with
   its checked prefix. After the commits the frontier walks right over committed tokens, feeding
   each one the grammar accepts. A token it rejects is re-masked (and, when it is EOS or PAD, the
   rest of the PAD tail with it: the program is longer than the model thought), to be predicted
   again with more context. On the last pass there is no next pass, so a rejected token is replaced
   by the best grammar-allowed token from that pass's logits at its position.
4. When EOS is fed, the rest of the canvas is PAD and the candidate leaves the batch.

Why this design: committing anywhere by confidence keeps the "easy tokens first" behaviour of
masked diffusion (lengths, keywords and the PAD tail settle early), while checking at the frontier
makes every finished output parse without a second decoding pass and without ever running more
than K passes. Tokens committed right of the frontier are only tentative until the frontier
reaches them. The cost: a rejected token costs the pass that re-predicts it, and a candidate whose
checked prefix cannot end within the canvas is reported unfinished (as in the AR decoder).
``top_p`` applies to the grammar-masked frontier choices only.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from backend.cad.grammar import GrammarState
from backend.cad.tokens import UNK, CadTokenizer
from backend.decode.autoregressive import (
    DEFAULT_SAMPLE_TEMPERATURE,
    DecodeResult,
    _as_batch,
    _masker,
    _top_p_sample,
)

DEFAULT_STEPS = 32  # model passes K: the fewest invalid parts at N = 8 (README, "Two decoders"; scripts/compare_decoders.py)
CROP_THRESHOLD = 0.02  # positions with P(not PAD) above this in the all-masked pass are kept ...
CROP_MARGIN = 16  # ... plus this many positions after the last of them
MIN_CANVAS = 32  # never crop below this (the shortest program is 20 tokens with EOS)


def masked_after(step: int, steps: int, length: int) -> int:
    """Cosine schedule: positions left masked after pass ``step`` (0-based) of ``steps``."""
    if step >= steps - 1:
        return 0
    return int(math.floor(length * math.cos(0.5 * math.pi * (step + 1) / steps)))


def crop_length(logits: torch.Tensor, pad_id: int, limit: int) -> int:
    """Canvas length from the all-masked pass's logits (L, V): last likely non-PAD + margin."""
    p_real = 1.0 - torch.softmax(logits.float(), dim=-1)[:, pad_id]
    keep = torch.nonzero(p_real > CROP_THRESHOLD).flatten()
    last = int(keep[-1]) + 1 if len(keep) else 0
    return min(limit, max(MIN_CANVAS, last + CROP_MARGIN))


def _gumbel(shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    u = torch.rand(shape, generator=gen).clamp_(1e-10, 1.0 - 1e-10)
    return -torch.log(-torch.log(u))


class _Candidate:
    """One canvas (numpy ids), its grammar-checked prefix ``[0, frontier)`` and the result."""

    def __init__(self, length: int, mask_id: int, greedy: bool) -> None:
        self.canvas = np.full(length, mask_id, dtype=np.int64)
        self.log_probs = np.zeros(length, dtype=np.float64)
        self.state = GrammarState()
        self.frontier = 0
        self.result = DecodeResult(tokens=[], greedy=greedy)

    @property
    def active(self) -> bool:
        return not self.state.done and self.frontier < len(self.canvas)


@torch.inference_mode()
def decode_unmask(
    model,
    tokenizer: CadTokenizer,
    points: torch.Tensor | None = None,
    n_candidates: int = 8,
    temperature: float = 0.0,
    top_p: float = 0.95,
    seed: int = 0,
    max_tokens: int | None = None,
    *,
    steps: int | None = None,
    prefix: torch.Tensor | None = None,
    greedy_first: bool = True,
    crop: bool = True,
    progress: Callable[[int, int, int], None] | None = None,
    logit_bias: torch.Tensor | None = None,
) -> list[DecodeResult]:
    """Decode ``n_candidates`` programs for one part in at most ``steps`` model passes.

    Same arguments and result type as ``decode_autoregressive`` (``points`` (N, 6) or (1, N, 6), or the
    encoded ``prefix``; ``max_tokens`` counts BOS; candidate 0 greedy unless ``greedy_first`` is off
    and ``temperature`` > 0). ``progress(pass, steps, n_finished)`` is called before every pass and at
    the end; it may raise to abort. ``logit_bias`` (V,): added to every pass's logits (a conditioned
    model's ``observed_bias``).
    """
    if n_candidates < 1:
        raise ValueError(f"n_candidates must be >= 1, got {n_candidates}")
    k_steps = DEFAULT_STEPS if steps is None else int(steps)
    if k_steps < 1:
        raise ValueError(f"steps must be >= 1, got {k_steps}")
    device = model.device
    if prefix is None:
        if points is None:
            raise ValueError("give points or prefix")
        prefix = model.encode_prefix(_as_batch(points).to(device=device, dtype=torch.float32))
    limit = (max_tokens or model.config.max_tokens) - 1
    mask_id, pad_id, eos_id = tokenizer.mask_id, tokenizer.pad_id, tokenizer.eos_id
    masker = _masker(tokenizer, device)
    words = tokenizer.id_to_word
    gen = torch.Generator().manual_seed(int(seed))
    sample_t = temperature if temperature > 0 else DEFAULT_SAMPLE_TEMPERATURE
    n_greedy = (
        n_candidates if temperature <= 0 and n_candidates == 1 else int(greedy_first or temperature <= 0)
    )
    never = torch.zeros(len(tokenizer), dtype=torch.bool, device=device)  # never on a canvas
    never[[mask_id, tokenizer.bos_id, tokenizer.vocab[UNK]]] = True

    bias = 0.0 if logit_bias is None else logit_bias.reshape(1, -1).float()
    first = model.canvas_logits(prefix, torch.full((1, limit), mask_id, dtype=torch.long, device=device))[0]
    first = first.float() + bias
    length = crop_length(first, pad_id, limit) if crop else limit
    cands = [_Candidate(length, mask_id, i < n_greedy) for i in range(n_candidates)]

    def choose(cand: _Candidate, row: torch.Tensor) -> tuple[int, float]:
        """Grammar-allowed token for the frontier from one position's logits (V,), and its log-prob."""
        row = row.masked_fill(~masker(cand.state.allowed()), float("-inf"))
        if cand.result.greedy:
            tok = int(row.argmax())
        else:
            tok = int(_top_p_sample(row[None], sample_t, top_p, gen)[0])
        return tok, float(torch.log_softmax(row, dim=-1)[tok])

    def scan(cand: _Candidate, row_logits: torch.Tensor | None) -> None:
        """Walk the frontier over committed tokens; re-mask (or, last pass, repair) rejected ones."""
        c = cand.canvas
        while cand.frontier < length and c[cand.frontier] != mask_id:
            f = cand.frontier
            word = words[int(c[f])]
            if not cand.state.allowed().accepts(word):
                if row_logits is None:
                    tail = (c[f:] == eos_id) | (c[f:] == pad_id) if c[f] in (eos_id, pad_id) else None
                    c[f] = mask_id
                    if tail is not None:
                        c[f:][tail] = mask_id
                    cand.log_probs[f:][c[f:] == mask_id] = 0.0
                    return
                c[f], cand.log_probs[f] = choose(cand, row_logits[f])
                word = words[int(c[f])]
            cand.state.feed(word)  # accepted by construction
            cand.frontier = f + 1
            if cand.state.done:
                c[f + 1 :] = pad_id
                cand.log_probs[f + 1 :] = 0.0
                return

    for step in range(k_steps):
        live = [c for c in cands if c.active]
        if progress is not None:
            progress(step, k_steps, n_candidates - len(live))
        if not live:
            break
        if step == 0:
            logits = first[:length].float().expand(len(live), -1, -1)
        else:
            canvas = torch.from_numpy(np.stack([c.canvas for c in live])).to(device)
            logits = model.canvas_logits(prefix, canvas).float() + bias
        logits = logits.masked_fill(never, float("-inf"))
        log_probs = torch.log_softmax(logits, dim=-1)
        chosen = logits.argmax(dim=-1)
        noisy = torch.tensor([not c.result.greedy for c in live], device=device)
        if bool(noisy.any()):
            g = _gumbel(tuple(logits.shape), gen).to(device)
            sampled = (logits / sample_t + g).argmax(dim=-1)
            chosen = torch.where(noisy[:, None], sampled, chosen)
        conf = log_probs.gather(-1, chosen[..., None]).squeeze(-1)
        chosen_lp = conf.double().cpu().numpy()
        if bool(noisy.any()):
            anneal = sample_t * (1.0 - step / k_steps)
            conf = conf + noisy[:, None] * anneal * _gumbel(tuple(conf.shape), gen).to(device)
        conf_np, chosen_np = conf.double().cpu().numpy(), chosen.cpu().numpy()
        last = step == k_steps - 1
        for r, cand in enumerate(live):
            c = cand.canvas
            masked = c == mask_id
            n_commit = max(1, int(masked.sum()) - masked_after(step, k_steps, length))
            f = cand.frontier
            scores = np.where(masked, conf_np[r], -np.inf)
            scores[f] = np.inf
            top = np.argpartition(-scores, min(n_commit, length) - 1)[:n_commit]
            top = top[masked[top]]
            c[top] = chosen_np[r, top]
            cand.log_probs[top] = chosen_lp[r, top]
            c[f], cand.log_probs[f] = choose(cand, logits[r, f])
            scan(cand, logits[r] if last else None)
    if progress is not None:
        progress(k_steps, k_steps, sum(c.state.done for c in cands))

    results = []
    for cand in cands:
        res = cand.result
        res.tokens = [int(t) for t in cand.canvas[: cand.frontier]]
        res.log_prob = float(cand.log_probs[: cand.frontier].sum())
        res.finished = cand.state.done
        if res.finished:
            res.program = cand.state.program()
        else:
            res.error = f"unfinished: no end of program within {length} tokens and {k_steps} steps"
        results.append(res)
    return results
