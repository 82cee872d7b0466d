"""UnmaskModel: point encoder + projector + a bidirectional (BERT) stack for masked-token diffusion.

Input: ``[point prefix; canvas]`` where the canvas is the program's token ids *without* BOS, then EOS,
then PAD up to the canvas length; any canvas position may be ``<mask>``. Attention is full (no causal
mask) and the model predicts every canvas position at once; ``token_type_ids`` tell prefix (0) from
canvas (1). The encoder and projector are the AR model's (``CadModel``), so both decoders read the
same mesh features; the decoder is ``transformers.BertForMaskedLM`` (tied input/output embeddings).

Program length: EOS-then-PAD padding, no length head. In training the canvas of a batch is its
longest program plus a random tail of PAD (``u**2 * room``, u ~ U(0, 1)), so the model learns that the
canvas length is only an upper bound and must place EOS from the shape. At decoding the first,
all-masked pass gives P(PAD) per position, which crops the canvas to the likely length plus a margin
(``backend.decode.unmask``): no second head to train and the remaining steps run on a short canvas.

Objective: per example a mask ratio t ~ U(0, 1]; every canvas position (program, EOS, PAD tail) is
masked with probability t (at least one per example); cross-entropy on the masked positions only,
averaged over them (MaskGIT-style; the ELBO's 1/t weighting was left out for lower variance in short
CPU runs).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import BertConfig, BertForMaskedLM

from backend.cad.tokens import MASK, VOCAB
from backend.model.cad_model import CadModel, CadOutput, ModelConfig

OBJECTIVE = "unmask"
MASK_ID = VOCAB.index(MASK)


@dataclass
class UnmaskOutput(CadOutput):
    """``logits`` (B, L, V) over the canvas; ``masked`` (B, L) the positions in the loss; ``targets``."""

    masked: torch.Tensor | None = None
    targets: torch.Tensor | None = None


def bert_config(config: ModelConfig) -> BertConfig:
    """The BERT configuration of the bidirectional stack (no dropout: short runs, unlimited data)."""
    return BertConfig(
        vocab_size=config.vocab_size,
        hidden_size=config.hidden_size,
        num_hidden_layers=config.n_layers,
        num_attention_heads=config.n_heads,
        intermediate_size=config.intermediate_size,
        max_position_embeddings=config.context_length,
        type_vocab_size=2,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        pad_token_id=config.pad_id,
        is_decoder=False,
        tie_word_embeddings=True,
    )


class UnmaskModel(CadModel):
    """Encoder + projector (as ``CadModel``) + ``BertForMaskedLM`` over ``[prefix; canvas]``."""

    def __init__(self, config: ModelConfig, mask_id: int = MASK_ID) -> None:
        if config.objective != OBJECTIVE:
            raise ValueError(
                f"UnmaskModel needs ModelConfig.objective={OBJECTIVE!r}, got {config.objective!r}"
            )
        super().__init__(config, decoder=BertForMaskedLM(bert_config(config)))
        self.mask_id = mask_id

    @property
    def canvas_length(self) -> int:
        """Longest canvas: ``max_tokens`` counts BOS, the canvas does not."""
        return self.config.max_tokens - 1

    def canvas_logits(
        self, prefix: torch.Tensor, canvas: torch.Tensor, prefix_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``prefix`` (B or 1, P, H), ``canvas`` (B, L) ids (``mask_id`` where unknown) -> (B, L, V) logits.
        ``prefix_mask`` (B, P): real prefix positions (padded observations); padding is masked out and
        skipped by the positions."""
        b, p = canvas.shape[0], prefix.shape[1]
        if prefix.shape[0] != b:
            prefix = prefix.expand(b, -1, -1)
        x = torch.cat([prefix, self.embed_tokens(canvas)], dim=1)
        types = torch.ones(b, x.shape[1], dtype=torch.long, device=x.device)
        types[:, :p] = 0
        extra = {}
        if prefix_mask is not None:
            keys = torch.cat([prefix_mask, torch.ones_like(canvas, dtype=torch.bool)], dim=1).long()
            extra = {"attention_mask": keys, "position_ids": (keys.cumsum(1) - 1).clamp(min=0)}
        return self.decoder(inputs_embeds=x, token_type_ids=types, **extra).logits[:, p:]

    def canvas_from_tokens(
        self, tokens: torch.Tensor, token_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """BOS-first, right-padded ids (B, T) -> canvas (B, T - 1): program, EOS, PAD."""
        if token_mask is not None:
            tokens = tokens.masked_fill(~token_mask, self.config.pad_id)
        return tokens[:, 1:]

    def add_tail(self, canvas: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Append a random PAD tail (``u**2`` of the room left up to ``canvas_length``)."""
        room = self.canvas_length - canvas.shape[1]
        if room <= 0:
            return canvas
        u = float(torch.rand((), generator=generator))
        extra = int(u * u * (room + 1))
        if extra == 0:
            return canvas
        tail = torch.full(
            (canvas.shape[0], extra), self.config.pad_id, dtype=canvas.dtype, device=canvas.device
        )
        return torch.cat([canvas, tail], dim=1)

    def random_mask(
        self,
        canvas: torch.Tensor,
        ratio: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """(B, L) bool: each position masked with its row's ratio (default U(0, 1]); >= 1 per row."""
        b, n = canvas.shape
        if ratio is None:
            ratio = 1.0 - torch.rand(b, generator=generator)  # (0, 1]
        masked = torch.rand(b, n, generator=generator) < ratio.reshape(b, 1).cpu()
        force = torch.randint(0, n, (b,), generator=generator)
        masked[torch.arange(b), force] |= ~masked.any(dim=1)
        return masked.to(canvas.device)

    def forward(
        self,
        points: torch.Tensor,
        tokens: torch.Tensor,
        token_mask: torch.Tensor | None = None,
        ratio: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        obs: torch.Tensor | None = None,
        obs_mask: torch.Tensor | None = None,
    ) -> UnmaskOutput:
        """Masked-diffusion loss. ``tokens`` (B, T) BOS-first and right-padded as for ``CadModel``.

        In training mode the canvas gets a random PAD tail; ``ratio`` (B,) fixes the mask ratios and
        ``generator`` the draws (evaluation).
        """
        canvas = self.canvas_from_tokens(tokens, token_mask)
        if self.training:
            canvas = self.add_tail(canvas, generator)
        masked = self.random_mask(canvas, ratio, generator)
        prefix, prefix_mask = self.condition(points, obs, obs_mask)
        logits = self.canvas_logits(prefix, canvas.masked_fill(masked, self.mask_id), prefix_mask)
        bias = self.observed_bias(obs, obs_mask)
        if bias is not None:
            logits = logits + bias[:, None, :].to(logits.dtype)
        labels = canvas.masked_fill(~masked, -100)
        loss = F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=-100)
        return UnmaskOutput(loss=loss, logits=logits, masked=masked, targets=canvas)

    # --- the AR interface does not apply -----------------------------------------------------------

    def run_lm(self, *args: object, **kwargs: object):  # noqa: ANN201 - always raises
        raise TypeError("UnmaskModel is bidirectional: decode it with backend.decode.unmask")

    prefill = step = run_lm
