"""Grammar-constrained autoregressive decoding with a KV cache.

The point prefix and BOS are run once (prefill); the cache is then repeated for the N candidates,
which are decoded together in one batch, one token per step. Before every step each candidate's
``GrammarState`` says which words may come next and the logits of all other tokens are set to
-inf, so every finished candidate parses. Candidates that reach ``max_tokens`` before EOS are
reported as unfinished. Finished candidates leave the batch (and the cache) at once.

Candidate 0 is greedy when ``greedy_first`` (the default) or ``temperature == 0``; the others are
sampled with nucleus (top-p) sampling at ``temperature`` (``DEFAULT_SAMPLE_TEMPERATURE`` when the
requested temperature is 0). Sampling uses its own ``torch.Generator`` seeded with ``seed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from backend.cad.grammar import Allowed, GrammarError, GrammarState
from backend.cad.program import Program
from backend.cad.tokens import CadTokenizer

DEFAULT_SAMPLE_TEMPERATURE = 0.8  # for candidates 1.. when greedy decoding asks for several
MASK_CACHE_SIZE = 8192  # distinct grammar states whose vocabulary masks are kept


@dataclass
class DecodeResult:
    """One candidate: generated ids (no BOS; EOS last when finished), its program or why not."""

    tokens: list[int]
    program: Program | None = None
    error: str | None = None
    log_prob: float = 0.0  # sum of log-probabilities of the chosen tokens under the masked model
    finished: bool = False
    greedy: bool = False
    out_of_time: bool = False  # stopped by the decoding budget (else, when unfinished: the token limit)


@dataclass
class DecodeStats:
    """Counts over candidates; ``failed_rebuild`` and ``duplicates`` are filled in by the verifier.

    ``unparsed``: finished (EOS) but no program; always 0 for the grammar-masked decoders, counted for
    the unconstrained text decoding of LoRA models. ``parsed + unfinished + unparsed == candidates``;
    ``out_of_time``: of the unfinished, those the decoding budget stopped (the others hit the token limit).
    """

    candidates: int = 0
    parsed: int = 0
    unfinished: int = 0
    failed_rebuild: int = 0
    snapped: int = 0  # snapped versions of the model's programs offered to the verifier (``verify.snap``)
    failed_snapped: int = 0  # of those, the ones that did not rebuild
    duplicates: int = 0
    unparsed: int = 0
    out_of_time: int = 0

    @classmethod
    def from_results(cls, results: list[DecodeResult]) -> DecodeStats:
        return cls(
            candidates=len(results),
            parsed=sum(r.program is not None for r in results),
            unfinished=sum(not r.finished for r in results),
            unparsed=sum(r.finished and r.program is None for r in results),
            out_of_time=sum(not r.finished and r.out_of_time for r in results),
        )

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Masker:
    """Grammar ``Allowed`` -> bool tensor over the vocabulary, cached per distinct ``Allowed``."""

    tokenizer: CadTokenizer
    device: torch.device
    cache: dict[Allowed, torch.Tensor] = field(default_factory=dict)

    def __call__(self, allowed: Allowed) -> torch.Tensor:
        m = self.cache.get(allowed)
        if m is None:
            if len(self.cache) >= MASK_CACHE_SIZE:
                self.cache.clear()
            m = torch.from_numpy(self.tokenizer.mask(allowed)).to(self.device)
            self.cache[allowed] = m
        return m


_MASKERS: dict[tuple[int, str], _Masker] = {}


def _masker(tokenizer: CadTokenizer, device: torch.device) -> _Masker:
    key = (id(tokenizer), str(device))
    if key not in _MASKERS:
        _MASKERS.clear()  # one tokenizer per process in practice
        _MASKERS[key] = _Masker(tokenizer, device)
    return _MASKERS[key]


def _top_p_sample(
    logits: torch.Tensor, temperature: float, top_p: float, gen: torch.Generator
) -> torch.Tensor:
    """One token per row from softmax(logits / T) restricted to the smallest set with mass >= top_p.

    Logits are shifted so their row maximum is 0 before dividing by T: however small T is, the best
    token keeps probability 1 instead of overflowing to inf/inf = NaN.
    """
    probs = torch.softmax((logits - logits.amax(dim=-1, keepdim=True)) / temperature, dim=-1)
    if top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        drop = (sorted_p.cumsum(-1) - sorted_p) >= top_p
        drop[..., 0] = False  # the first token is always kept (a tiny top_p rounds to 0 in float32)
        sorted_p = sorted_p.masked_fill(drop, 0.0)
        pick = torch.multinomial(sorted_p.cpu(), 1, generator=gen).to(logits.device)
        return order.gather(-1, pick).squeeze(-1)
    return torch.multinomial(probs.cpu(), 1, generator=gen).squeeze(-1).to(logits.device)


def _as_batch(points: torch.Tensor) -> torch.Tensor:
    return points[None] if points.dim() == 2 else points


@torch.inference_mode()
def decode_autoregressive(
    model,
    tokenizer: CadTokenizer,
    points: torch.Tensor | None = None,
    n_candidates: int = 8,
    temperature: float = 0.0,
    top_p: float = 0.95,
    seed: int = 0,
    max_tokens: int | None = None,
    *,
    prefix: torch.Tensor | None = None,
    greedy_first: bool = True,
    progress: Callable[[int, int, int], None] | None = None,
    deadline: float | None = None,
    logit_bias: torch.Tensor | None = None,
    step_budget: int | None = None,
) -> list[DecodeResult]:
    """Decode ``n_candidates`` programs for one part.

    ``points``: (N, 6) or (1, N, 6) points + normals in the normalised frame; or give the encoded
    ``prefix`` (1, P, H) instead. ``max_tokens`` counts BOS (default: the model's ``max_tokens``).
    ``progress(step, max_steps, n_finished)`` is called every 16 steps and at the end; it may raise
    to abort (the reconstruction pipeline raises ``Cancelled`` from it). ``deadline`` (a
    ``time.perf_counter()`` value): candidates still decoding then stop and are reported unfinished.
    ``step_budget``: the same after this many decoding steps (a budget in work, not time: the same
    candidates on any machine and load).
    ``logit_bias`` (V,) or (1, V): added to every step's logits (a conditioned model's
    ``observed_bias``).
    """
    if n_candidates < 1:
        raise ValueError(f"n_candidates must be >= 1, got {n_candidates}")
    if getattr(model.config, "base_model", None):
        raise ValueError(
            "the grammar masks cover the CAD vocabulary, not the base tokenizer of a LoRA model"
            f" (base {model.config.base_model}); decode it with LoraCadModel.decode_programs"
        )
    device = model.device
    if prefix is None:
        if points is None:
            raise ValueError("give points or prefix")
        prefix = model.encode_prefix(_as_batch(points).to(device=device, dtype=torch.float32))
    max_new = (max_tokens or model.config.max_tokens) - 1
    masker = _masker(tokenizer, device)
    gen = torch.Generator().manual_seed(int(seed))
    sample_t = temperature if temperature > 0 else DEFAULT_SAMPLE_TEMPERATURE
    n_greedy = int(greedy_first or temperature <= 0)  # only candidate 0 is ever greedy

    bos = torch.full((1, 1), tokenizer.bos_id, dtype=torch.long, device=device)
    logits, cache = model.run_lm(torch.cat([prefix, model.embed_tokens(bos)], dim=1))
    if n_candidates > 1:
        cache.batch_repeat_interleave(n_candidates)
        logits = logits.expand(n_candidates, -1)

    states = [GrammarState() for _ in range(n_candidates)]
    results = [DecodeResult(tokens=[], greedy=i < n_greedy) for i in range(n_candidates)]
    active = list(range(n_candidates))  # candidate index of each batch row
    words = tokenizer.id_to_word
    out_of_time = False
    for step in range(max_new):
        if progress is not None and step % 16 == 0:
            progress(step, max_new, n_candidates - len(active))
        if deadline is not None and step % 8 == 0 and time.perf_counter() > deadline:
            out_of_time = True
            break
        if step_budget is not None and step >= step_budget:
            out_of_time = True
            break
        allowed = torch.stack([masker(states[i].allowed()) for i in active])
        if logit_bias is not None:
            logits = logits.float() + logit_bias.reshape(1, -1).float()
        logits = logits.float().masked_fill(~allowed, float("-inf"))
        log_probs = torch.log_softmax(logits, dim=-1)
        chosen = logits.argmax(dim=-1)
        sampled_rows = [r for r, i in enumerate(active) if not results[i].greedy]
        if sampled_rows:
            rows = torch.tensor(sampled_rows, device=device)
            chosen[rows] = _top_p_sample(logits[rows], sample_t, top_p, gen)
        chosen_lp = log_probs.gather(-1, chosen[:, None]).squeeze(-1).tolist()
        chosen_ids = chosen.tolist()
        keep: list[int] = []
        for r, i in enumerate(active):
            tok = chosen_ids[r]
            res = results[i]
            res.tokens.append(tok)
            res.log_prob += chosen_lp[r]
            states[i].feed(words[tok])  # cannot fail: the mask only allows what the grammar accepts
            if states[i].done:
                res.finished = True
            else:
                keep.append(r)
        if not keep or step == max_new - 1:  # all finished, or out of tokens: no further model step
            active = [active[r] for r in keep]
            break
        if len(keep) < len(active):
            idx = torch.tensor(keep, device=device)
            cache.batch_select_indices(idx)
            chosen = chosen[idx]
            active = [active[r] for r in keep]
        logits, cache = model.step(chosen[:, None], cache)
    if progress is not None:
        progress(max_new, max_new, sum(r.finished for r in results))

    for i, res in enumerate(results):
        if res.finished:
            try:
                res.program = states[i].program()
            except GrammarError as exc:  # pragma: no cover - the grammar built it word by word
                res.error = str(exc)
        elif out_of_time:
            res.out_of_time = True
            res.error = f"unfinished: out of decoding time after {len(res.tokens)} tokens"
        else:
            res.error = f"unfinished: no end of program within {max_new} tokens"
    return results
