"""CadModel: point encoder + projector + a causal LM decoder fed ``[point prefix; CAD token embeddings]``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import Cache, DynamicCache, PreTrainedModel, Qwen2Config, Qwen2ForCausalLM

from backend.cad.tokens import NUMBER_WORDS, VOCAB
from backend.model.encoder import PointEncoder
from backend.model.fast_decode import FastCache, FastDecoder

NUMBER_BASE = VOCAB.index(NUMBER_WORDS[0])  # number tokens are the ids from here to the end
OBSERVED_BIAS_INIT = 2.0  # log-odds a number seen in the observation starts with (learnt)


@dataclass
class ModelConfig:
    """Sizes of the encoder, projector and (from-scratch) Qwen2 decoder."""

    vocab_size: int = 420
    hidden_size: int = 256
    n_layers: int = 4
    n_heads: int = 4
    n_kv_heads: int = 4
    intermediate_size: int = 768
    n_points: int = 2048
    n_prefix_tokens: int = 32
    max_tokens: int = 256
    n_obs_tokens: int = 0  # > 0: conditioned on the mesh's observation tokens (backend.sections.observe)
    encoder_width: int = 128
    encoder_centroids: int = 128
    encoder_k1: int = 32
    encoder_k2: int = 16
    pad_id: int = 0
    bos_id: int = 1
    eos_id: int = 2
    objective: str = "ar"
    base_model: str | None = None  # set when the decoder is a pretrained LM (LoRA fine-tuning)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @property
    def context_length(self) -> int:
        """Longest input: point prefix, observation tokens, program tokens."""
        return self.n_prefix_tokens + self.n_obs_tokens + self.max_tokens

    def decoder_config(self) -> Qwen2Config:
        """The Qwen2 configuration of the from-scratch decoder."""
        return Qwen2Config(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            intermediate_size=self.intermediate_size,
            num_hidden_layers=self.n_layers,
            num_attention_heads=self.n_heads,
            num_key_value_heads=self.n_kv_heads,
            max_position_embeddings=self.context_length,
            tie_word_embeddings=True,
            rope_theta=10000.0,
            pad_token_id=self.pad_id,
            bos_token_id=self.bos_id,
            eos_token_id=self.eos_id,
            use_cache=True,
        )


@dataclass
class CadOutput:
    loss: torch.Tensor | None
    logits: torch.Tensor  # (B, T, V): logits at token position t predict token t + 1


class CadModel(nn.Module):
    """Encoder + projector + causal LM. ``decoder`` defaults to a Qwen2 built from ``config``."""

    def __init__(self, config: ModelConfig, decoder: PreTrainedModel | nn.Module | None = None) -> None:
        super().__init__()
        self.config = config
        self.encoder = PointEncoder(
            n_tokens=config.n_prefix_tokens,
            out_dim=2 * config.encoder_width,
            n_centroids=config.encoder_centroids,
            k1=config.encoder_k1,
            k2=config.encoder_k2,
            width=config.encoder_width,
        )
        self.decoder = decoder if decoder is not None else Qwen2ForCausalLM(config.decoder_config())
        hidden = self.decoder.get_input_embeddings().embedding_dim
        self.projector = nn.Sequential(
            nn.Linear(2 * config.encoder_width, hidden), nn.GELU(), nn.Linear(hidden, hidden)
        )
        if config.n_obs_tokens > 0:  # ~92 % of a generator program's numbers appear in its observation
            self.observed_number_bias = nn.Parameter(torch.tensor(OBSERVED_BIAS_INIT))

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def encode_prefix(self, points: torch.Tensor) -> torch.Tensor:
        """(B, N, 6) points + normals -> (B, n_prefix_tokens, hidden) prefix embeddings."""
        x = self.projector(self.encoder(points))
        return x.to(self.decoder.get_input_embeddings().weight.dtype)

    def embed_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.decoder.get_input_embeddings()(tokens)

    @property
    def observes(self) -> bool:
        """The model reads observation tokens after the point prefix (``ModelConfig.n_obs_tokens``)."""
        return self.config.n_obs_tokens > 0

    def condition(
        self, points: torch.Tensor, obs: torch.Tensor | None = None, obs_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``[point prefix; observation embeddings]`` (B, P + M, H) and its key mask (None without
        observations). ``obs`` (B, M) ids, right-padded; ``obs_mask`` marks real ones."""
        prefix = self.encode_prefix(points)
        if obs is None:
            return prefix, None
        if obs_mask is None:
            obs_mask = obs != self.config.pad_id
        ones = torch.ones(prefix.shape[:2], dtype=torch.bool, device=prefix.device)
        return torch.cat([prefix, self.embed_tokens(obs)], dim=1), torch.cat([ones, obs_mask], dim=1)

    def observed_bias(
        self, obs: torch.Tensor | None, obs_mask: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """(B, V) logit bias: a learnt log-odds on every number token that occurs in the observation, so
        copying an observed number is the easy choice (None without observations)."""
        if obs is None or not hasattr(self, "observed_number_bias"):
            return None
        if obs_mask is None:
            obs_mask = obs != self.config.pad_id
        seen = torch.zeros(obs.shape[0], self.config.vocab_size, device=obs.device)
        seen.scatter_(1, obs.masked_fill(~obs_mask, 0), obs_mask.float())
        seen[:, :NUMBER_BASE] = 0.0
        return (seen > 0).float() * self.observed_number_bias

    def forward(
        self,
        points: torch.Tensor,
        tokens: torch.Tensor,
        token_mask: torch.Tensor | None = None,
        obs: torch.Tensor | None = None,
        obs_mask: torch.Tensor | None = None,
    ) -> CadOutput:
        """Teacher-forced pass; cross-entropy on CAD tokens only (not the prefix, not padding).

        ``tokens`` (B, T) start with BOS and are right-padded; ``token_mask`` (B, T) marks real tokens
        (default: ``tokens != pad_id``). ``obs`` (B, M): observation ids, right-padded (padding is
        masked out and skipped by the positions, so a part reads as it does unpadded at inference).
        """
        if token_mask is None:
            token_mask = tokens != self.config.pad_id
        cond, cond_mask = self.condition(points, obs, obs_mask)
        x = torch.cat([cond, self.embed_tokens(tokens)], dim=1)
        t = tokens.shape[1]
        extra = {}
        if cond_mask is not None:
            keys = torch.cat([cond_mask, token_mask], dim=1)
            extra = {"attention_mask": keys.long(), "position_ids": (keys.long().cumsum(1) - 1).clamp(min=0)}
        logits = self.decoder(inputs_embeds=x, use_cache=False, logits_to_keep=t, **extra).logits
        bias = self.observed_bias(obs, obs_mask)
        if bias is not None:
            logits = logits + bias[:, None, :].to(logits.dtype)
        labels = tokens[:, 1:].masked_fill(~token_mask[:, 1:], -100)
        loss = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), labels.flatten(), ignore_index=-100)
        return CadOutput(loss=loss, logits=logits)

    # --- incremental decoding with a KV cache ------------------------------------------------------

    def run_lm(
        self, inputs_embeds: torch.Tensor, past_key_values: Cache | FastCache | None = None
    ) -> tuple[torch.Tensor, Cache | FastCache]:
        """Run the LM on new embeddings after ``past_key_values``; returns last-position logits (B, V).

        In inference a from-scratch Qwen2 decoder runs on ``FastDecoder`` (same logits, fewer operations;
        its fused weights are read at each prefill, so they are never stale)."""
        fast = isinstance(past_key_values, FastCache)
        if past_key_values is None and not self.training and FastDecoder.supports(self.decoder):
            self._fast = FastDecoder(self.decoder, self.config.context_length)
            fast = True
        if fast:
            return self._fast.run(inputs_embeds, past_key_values)
        if past_key_values is None:
            past_key_values = DynamicCache()
        out = self.decoder(
            inputs_embeds=inputs_embeds, past_key_values=past_key_values, use_cache=True, logits_to_keep=1
        )
        return out.logits[:, -1].float(), out.past_key_values

    def prefill(
        self, points: torch.Tensor, tokens: torch.Tensor, obs: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, Cache]:
        """Encode ``points`` (and ``obs``, unpadded), run ``[prefix; tokens]`` (tokens usually just BOS);
        next-token logits + cache."""
        x = torch.cat([self.condition(points, obs)[0], self.embed_tokens(tokens)], dim=1)
        return self.run_lm(x)

    def step(self, tokens: torch.Tensor, past_key_values: Cache) -> tuple[torch.Tensor, Cache]:
        """Feed new tokens (B, t) after the cache; next-token logits (B, V) and the updated cache."""
        return self.run_lm(self.embed_tokens(tokens), past_key_values)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
