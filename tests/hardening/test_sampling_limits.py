"""Issue 13 rows 7 and 15 (pipeline side): sampling cannot fail at any temperature or top_p the decoder
gets, and the pipeline refuses options out of range with a message naming the option."""

from __future__ import annotations

import pytest
import torch

from backend.decode import DECODERS
from backend.decode.autoregressive import _top_p_sample
from backend.intake.options import check_options
from backend.reconstruct import ReconstructOptions
from tests.tiny_models import random_points, tiny_model

torch.set_num_threads(1)
EXTREME = [(1e-40, 1e-300), (1e-40, 1.0), (0.8, 1e-300), (2.0, 1.0)]


@pytest.mark.parametrize(("temperature", "top_p"), EXTREME)
def test_top_p_sample_never_nan(temperature, top_p):
    logits = torch.tensor([[1.0, 3.0, -float("inf"), 2.0], [50.0, -20.0, 10.0, 0.0], [1e30, -1e30, 0.0, 0.0]])
    picked = _top_p_sample(logits, temperature, top_p, torch.Generator().manual_seed(0))
    if temperature < 1e-3 or top_p < 1e-3:
        assert picked.tolist() == [1, 0, 0]  # the best token


@pytest.mark.parametrize("decoder", ["ar", "unmask"])
def test_decoders_at_extreme_settings(decoder):
    model, tok = tiny_model(decoder, n_points=128)
    prefix = model.encode_prefix(random_points(128)[None])
    for temperature, top_p in EXTREME:
        results = DECODERS[decoder](
            model,
            tok,
            n_candidates=3,
            temperature=temperature,
            top_p=top_p,
            seed=1,
            prefix=prefix,
            max_tokens=24,
        )
        assert len(results) == 3


BAD_OPTIONS = [
    ({"temperature": 1e-40}, "temperature must be 0 (greedy) or between 0.001 and 2"),
    ({"temperature": float("nan")}, "temperature must be between 0 and 2"),
    ({"top_p": 1e-300}, "top_p must be between 0.001 and 1"),
    ({"candidates": -3}, "candidates must be between 0 and 64"),
    ({"candidates": True}, "candidates must be a whole number"),
    ({"seed": -1}, "seed must be between 0 and 2.14748e+09"),
    ({"seed": "8"}, "seed must be a whole number"),
    ({"decode_budget_s": -0.5}, "decode_budget_s must be between 0 and 600"),
]


@pytest.mark.parametrize(("fields", "words"), BAD_OPTIONS, ids=[str(b[0]) for b in BAD_OPTIONS])
def test_check_options(fields, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        check_options(ReconstructOptions(**fields))
    check_options(ReconstructOptions())
