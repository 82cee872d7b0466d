"""CadModel: loss masking, a few optimiser steps, KV-cache decoding against a full forward."""

from __future__ import annotations

import pytest
import torch

from backend.model.cad_model import CadModel, ModelConfig
from tests.tiny_models import tiny_config

torch.set_num_threads(1)

TINY = tiny_config(vocab_size=40, n_layers=2, n_prefix_tokens=4, max_tokens=32, encoder_centroids=16)


@pytest.fixture()
def model() -> CadModel:
    torch.manual_seed(0)
    return CadModel(TINY).eval()


def batch(b: int = 2, t: int = 10, n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    points = torch.randn(b, n, 6, generator=g)
    tokens = torch.randint(3, TINY.vocab_size, (b, t), generator=g)
    tokens[:, 0] = TINY.bos_id
    return points, tokens


def test_shapes(model: CadModel) -> None:
    points, tokens = batch()
    out = model(points, tokens)
    assert out.logits.shape == (2, 10, TINY.vocab_size)
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    assert model.encode_prefix(points).shape == (2, TINY.n_prefix_tokens, TINY.hidden_size)


def test_loss_only_on_cad_tokens(model: CadModel) -> None:
    points, tokens = batch(t=12)
    tokens[1, 8:] = TINY.pad_id  # second row is shorter
    with torch.no_grad():
        ref = model(points, tokens).loss
        # changing what sits in the padding, with an explicit mask, changes nothing
        noisy = tokens.clone()
        noisy[1, 8:] = 7
        mask = tokens != TINY.pad_id
        assert torch.allclose(model(points, noisy, mask).loss, ref, atol=1e-6)
        # extra padding columns change nothing
        padded = torch.cat([tokens, torch.full((2, 3), TINY.pad_id)], dim=1)
        assert torch.allclose(model(points, padded).loss, ref, atol=1e-6)
        # the loss equals a hand-made cross-entropy over the real next-token positions only
        logits = model(points, tokens).logits
        logp = logits[:, :-1].log_softmax(-1)
        nll = -logp.gather(-1, tokens[:, 1:, None])[..., 0]
        real = (tokens[:, 1:] != TINY.pad_id).float()
        assert torch.allclose((nll * real).sum() / real.sum(), ref, atol=1e-5)


def test_prefix_and_bos_are_never_targets(model: CadModel) -> None:
    """Only tokens 1.. are predicted: the prefix has no label and BOS's mask bit is irrelevant."""
    points, tokens = batch()
    mask = torch.ones_like(tokens, dtype=torch.bool)
    with torch.no_grad():
        out = model(points, tokens, mask)
        assert out.logits.shape[1] == tokens.shape[1]  # no logits (so no loss) at prefix positions
        mask[:, 0] = False
        assert torch.allclose(model(points, tokens, mask).loss, out.loss, atol=1e-6)
        # the point cloud conditions the logits
        assert not torch.allclose(model(points.flip(1) * 2.0, tokens).logits, out.logits)


def test_optimizer_steps_reduce_loss() -> None:
    torch.manual_seed(0)
    model = CadModel(TINY).train()
    points, tokens = batch(t=12)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(8):
        loss = model(points, tokens).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.8 * losses[0]


def test_kv_cache_matches_full_forward(model: CadModel) -> None:
    points, tokens = batch(b=2, t=7)
    with torch.no_grad():
        full = model(points, tokens).logits
        logits, cache = model.prefill(points, tokens[:, :1])
        torch.testing.assert_close(logits, full[:, 0], atol=1e-4, rtol=1e-4)
        for i in range(1, tokens.shape[1]):
            logits, cache = model.step(tokens[:, i : i + 1], cache)
            torch.testing.assert_close(logits, full[:, i], atol=1e-4, rtol=1e-4)
        # several tokens at once after the cache
        logits, cache = model.prefill(points, tokens[:, :3])
        logits, _ = model.step(tokens[:, 3:6], cache)
        torch.testing.assert_close(logits, full[:, 5], atol=1e-4, rtol=1e-4)


def test_config_round_trip() -> None:
    d = TINY.to_dict() | {"unknown_key": 1}
    assert ModelConfig.from_dict(d) == TINY
    assert TINY.decoder_config().max_position_embeddings == TINY.n_prefix_tokens + TINY.max_tokens
