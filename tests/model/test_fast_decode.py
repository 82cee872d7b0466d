"""The lean inference path computes what the library path computes."""

from __future__ import annotations

import pytest
import torch

from backend.decode.autoregressive import decode_autoregressive
from backend.model.fast_decode import FastCache, FastDecoder
from tests.tiny_models import random_points, tiny_model


@pytest.mark.parametrize("n_obs", [0, 16])
def test_same_logits_step_by_step(n_obs: int) -> None:
    model, tok = tiny_model("ar", seed=5, n_obs_tokens=n_obs)
    points = random_points(model.config.n_points, 1)[None]
    obs = (
        torch.tensor([[tok.bos_id, tok.vocab["extrude"], tok.vocab["0.250"], tok.eos_id]]) if n_obs else None
    )
    prefix = model.condition(points, obs)[0]
    bos = model.embed_tokens(torch.tensor([[tok.bos_id]]))
    nxt = torch.tensor([[tok.vocab["extrude"]], [tok.vocab["new"]]])
    with torch.no_grad():
        fast, fcache = model.eval().run_lm(torch.cat([prefix, bos], dim=1))
        slow, scache = model.train().run_lm(torch.cat([prefix, bos], dim=1))
        model.eval()
        assert isinstance(fcache, FastCache) and not isinstance(scache, FastCache)
        assert torch.allclose(fast, slow, atol=1e-5)
        for cache in (fcache, scache):
            cache.batch_repeat_interleave(2)
        for _ in range(3):
            fast, fcache = model.step(nxt, fcache)
            slow, scache = model.train().step(nxt, scache)
            model.eval()
            assert torch.allclose(fast, slow, atol=1e-5)
        idx = torch.tensor([1])
        fcache.batch_select_indices(idx)
        scache.batch_select_indices(idx)
        fast, _ = model.step(nxt[1:], fcache)
        slow, _ = model.train().step(nxt[1:], scache)
    assert torch.allclose(fast, slow, atol=1e-5)


def test_same_programs_and_clear_limits() -> None:
    model, tok = tiny_model("ar", seed=6)
    points = random_points(model.config.n_points, 2)
    fast = decode_autoregressive(model.eval(), tok, points, n_candidates=4, temperature=0.8, max_tokens=40)
    slow = decode_autoregressive(model.train(), tok, points, n_candidates=4, temperature=0.8, max_tokens=40)
    assert [r.tokens for r in fast] == [r.tokens for r in slow]
    decoder = FastDecoder(model.decoder, capacity=4)
    with pytest.raises(ValueError, match="past the model's context"):
        decoder.run(torch.zeros(1, 5, model.config.hidden_size), None)
    assert not FastDecoder.supports(torch.nn.Linear(2, 2))
