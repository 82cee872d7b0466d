"""Conditioned models read ``[points; observation; program]``; padding never changes what a part reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from backend.model.checkpoint import save_pretrained
from backend.model.warm_start import warm_start
from tests.tiny_models import random_points, tiny_model


def _batch(model, n_obs: int = 12):
    g = torch.Generator().manual_seed(1)
    points = torch.stack([random_points(model.config.n_points, s) for s in (0, 1)])
    tokens = torch.randint(5, 400, (2, 9), generator=g)
    tokens[:, 0] = model.config.bos_id
    obs = torch.randint(5, 400, (2, n_obs), generator=g)
    mask = torch.ones(2, n_obs, dtype=torch.bool)
    mask[1, 7:] = False
    obs[1, 7:] = model.config.pad_id
    return points, tokens, obs, mask


def test_ar_padding_is_invisible_and_prefill_matches() -> None:
    model, _ = tiny_model("ar", n_obs_tokens=16)
    points, tokens, obs, mask = _batch(model)
    with torch.no_grad():
        padded = model(points, tokens, obs=obs, obs_mask=mask).logits[1]
        alone = model(points[1:], tokens[1:], obs=obs[1:, :7]).logits[0]
        first, _ = model.prefill(points[1:], tokens[1:, :1], obs[1:, :7])
        bias = model.observed_bias(obs[1:, :7])[0]  # the decoders add it to every step's logits
        without = model(points[1:], tokens[1:]).logits[0]
    assert torch.allclose(padded, alone, atol=1e-5)
    assert torch.allclose(first[0] + bias, alone[0], atol=1e-5)
    assert not torch.allclose(without, alone, atol=1e-3)  # the observation is read


def test_unmask_padding_is_invisible() -> None:
    model, _ = tiny_model("unmask", n_obs_tokens=16)
    points, tokens, obs, mask = _batch(model)
    canvas = tokens[:, 1:]
    with torch.no_grad():
        prefix, prefix_mask = model.condition(points, obs, mask)
        padded = model.canvas_logits(prefix, canvas, prefix_mask)[1]
        alone = model.canvas_logits(model.condition(points[1:], obs[1:, :7])[0], canvas[1:])[0]
    assert torch.allclose(padded, alone, atol=1e-5)
    loss = model.train()(points, tokens, obs=obs, obs_mask=mask).loss
    assert torch.isfinite(loss)


@pytest.mark.parametrize("objective", ["ar", "unmask"])
def test_warm_start_copies_weights_and_grows_positions(tmp_path: Path, objective: str) -> None:
    saved, tok = tiny_model(objective, seed=3)
    folder = save_pretrained(saved, tok, tmp_path / "saved", meta={"name": "t"})
    fresh, _ = tiny_model(objective, seed=4, n_obs_tokens=24)
    summary = warm_start(fresh, folder)
    assert "copied" in summary
    a, b = saved.state_dict(), fresh.state_dict()
    for name, value in a.items():
        if name in b and b[name].shape == value.shape:
            assert torch.equal(b[name], value), name
        elif name in b:  # the longer position table of a conditioned BERT
            assert torch.equal(b[name][: value.shape[0]], value), name
            assert objective == "unmask"


def test_warm_start_from_nothing_says_so(tmp_path: Path) -> None:
    model, _ = tiny_model("ar")
    with pytest.raises(FileNotFoundError, match="no saved model"):
        warm_start(model, tmp_path)


def test_observed_numbers_get_the_learnt_bias() -> None:
    from backend.cad.tokens import CadTokenizer

    model, _ = tiny_model("ar", n_obs_tokens=16)
    tok = CadTokenizer()
    number = tok.vocab["0.250"]
    obs = torch.tensor([[tok.bos_id, tok.vocab["extrude"], number, tok.eos_id, tok.pad_id]])
    bias = model.observed_bias(obs)[0]
    assert bias[number] == model.observed_number_bias and bias[number] > 0
    assert bias.count_nonzero() == 1  # keywords and specials are never biased, padding is not seen
    assert tiny_model("ar")[0].observed_bias(obs) is None  # an unconditioned model has none
