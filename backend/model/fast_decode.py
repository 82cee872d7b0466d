"""A lean inference path for the from-scratch Qwen2 decoder: the same numbers, fewer operations.

On a CPU, decoding a small model one token at a time is bound by per-operation overhead, not by
arithmetic: per step the library path runs 29 matrix products, grows its key/value cache by
concatenation (copying the whole cache, the point prefix and the observation included, every step) and
rebuilds its masks. ``FastDecoder`` computes the same function with the layer's query/key/value and
gate/up weights fused (17 products per step) and a key/value cache allocated once (``FastCache``).
It serves ``CadModel.run_lm`` in inference; training and LoRA models use the library path. A test
checks that both paths give the same logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import Qwen2ForCausalLM


@dataclass
class _Layer:
    norm1: torch.Tensor
    w_qkv: torch.Tensor
    b_qkv: torch.Tensor
    w_o: torch.Tensor
    norm2: torch.Tensor
    w_gate_up: torch.Tensor
    w_down: torch.Tensor


class FastCache:
    """Keys and values per layer, (B, kv heads, capacity, head dim), filled up to ``length``; the two
    batch operations the autoregressive decoder uses (``batch_repeat_interleave``, ``batch_select_indices``)."""

    def __init__(self, n_layers: int, capacity: int) -> None:
        self.keys: list[torch.Tensor | None] = [None] * n_layers
        self.values: list[torch.Tensor | None] = [None] * n_layers
        self.capacity = capacity
        self.length = 0

    def write(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store the new keys/values at ``length`` (the caller advances it); all keys/values so far."""
        t = k.shape[2]
        if self.keys[layer] is None:
            shape = (k.shape[0], k.shape[1], self.capacity, k.shape[3])
            self.keys[layer] = k.new_zeros(shape)
            self.values[layer] = v.new_zeros(shape)
        end = self.length + t
        if end > self.capacity:
            raise ValueError(f"decoding past the model's context of {self.capacity} positions")
        self.keys[layer][:, :, self.length : end] = k
        self.values[layer][:, :, self.length : end] = v
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]

    def batch_repeat_interleave(self, n: int) -> None:
        self.keys = [None if k is None else k.repeat_interleave(n, dim=0) for k in self.keys]
        self.values = [None if v is None else v.repeat_interleave(n, dim=0) for v in self.values]

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        self.keys = [None if k is None else k.index_select(0, indices) for k in self.keys]
        self.values = [None if v is None else v.index_select(0, indices) for v in self.values]


class FastDecoder:
    """Inference-only view of a ``Qwen2ForCausalLM``'s weights (read once; call ``refresh`` after they change)."""

    def __init__(self, lm: Qwen2ForCausalLM, capacity: int) -> None:
        self.lm, self.capacity = lm, capacity
        cfg = lm.config
        self.n_heads, self.n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        self.eps = cfg.rms_norm_eps
        self.refresh()

    @staticmethod
    def supports(lm: object) -> bool:
        cfg = getattr(lm, "config", None)
        return (
            isinstance(lm, Qwen2ForCausalLM)
            and not getattr(cfg, "use_sliding_window", False)
            and (getattr(cfg, "rope_scaling", None) or {}).get("rope_type", "default") == "default"
            and cfg.hidden_act == "silu"
        )

    @torch.no_grad()
    def refresh(self) -> None:
        m = self.lm.model
        self.layers = []
        for layer in m.layers:
            a, p = layer.self_attn, layer.mlp
            self.layers.append(
                _Layer(
                    norm1=layer.input_layernorm.weight.detach(),
                    w_qkv=torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]).detach(),
                    b_qkv=torch.cat([a.q_proj.bias, a.k_proj.bias, a.v_proj.bias]).detach(),
                    w_o=a.o_proj.weight.detach(),
                    norm2=layer.post_attention_layernorm.weight.detach(),
                    w_gate_up=torch.cat([p.gate_proj.weight, p.up_proj.weight]).detach(),
                    w_down=p.down_proj.weight.detach(),
                )
            )
        self.norm = m.norm.weight.detach()
        self.head = self.lm.lm_head.weight.detach()
        self.inv_freq = m.rotary_emb.inv_freq.detach().float()
        self.rope_scale = float(getattr(m.rotary_emb, "attention_scaling", 1.0))

    def _rms(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        return w * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)

    @torch.no_grad()
    def run(self, x: torch.Tensor, cache: FastCache | None) -> tuple[torch.Tensor, FastCache]:
        """``x`` (B, T, H) new input embeddings after ``cache`` -> last-position logits (B, V), cache."""
        if cache is None:
            cache = FastCache(len(self.layers), self.capacity)
        b, t, _ = x.shape
        mask = None  # one new token sees everything; several on an empty cache: causal
        if t > 1 and cache.length:  # several after a cache: each sees the cache and the new ones before it
            keys_at = torch.arange(cache.length + t, device=x.device)
            mask = keys_at[None, :] <= (cache.length + torch.arange(t, device=x.device))[:, None]
        pos = torch.arange(cache.length, cache.length + t, device=x.device, dtype=torch.float32)
        freqs = pos[:, None] * self.inv_freq[None]
        emb = torch.cat([freqs, freqs], dim=-1)
        cos, sin = (emb.cos() * self.rope_scale).to(x.dtype), (emb.sin() * self.rope_scale).to(x.dtype)
        nq, nkv, d = self.n_heads, self.n_kv, self.head_dim
        h = x
        for i, lay in enumerate(self.layers):
            qkv = F.linear(self._rms(h, lay.norm1), lay.w_qkv, lay.b_qkv)
            q, k, v = qkv.split([nq * d, nkv * d, nkv * d], dim=-1)
            q = q.view(b, t, nq, d).transpose(1, 2)
            k = k.view(b, t, nkv, d).transpose(1, 2)
            v = v.view(b, t, nkv, d).transpose(1, 2)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            keys, values = cache.write(i, k, v)
            if nkv != nq:
                keys = keys.repeat_interleave(nq // nkv, dim=1)
                values = values.repeat_interleave(nq // nkv, dim=1)
            att = F.scaled_dot_product_attention(
                q, keys, values, attn_mask=mask, is_causal=t > 1 and mask is None
            )
            h = h + F.linear(att.transpose(1, 2).reshape(b, t, nq * d), lay.w_o)
            gate, up = F.linear(self._rms(h, lay.norm2), lay.w_gate_up).chunk(2, dim=-1)
            h = h + F.linear(F.silu(gate) * up, lay.w_down)
        cache.length += t
        return F.linear(self._rms(h[:, -1], self.norm), self.head).float(), cache


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)
