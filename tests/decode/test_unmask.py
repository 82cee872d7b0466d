"""Masked-diffusion decoder on tiny random models: outputs parse, K passes, N candidates."""

import pytest
import torch

from backend.cad.tokens import CadTokenizer
from backend.decode import DECODERS, DecodeStats, decode_unmask
from backend.decode.unmask import MIN_CANVAS, crop_length, masked_after
from backend.model.unmask_model import UnmaskModel
from tests.tiny_models import random_points, tiny_model

torch.set_num_threads(1)


def tiny_unmask(seed: int = 0) -> tuple[UnmaskModel, CadTokenizer]:
    return tiny_model("unmask", seed, n_points=128)


def counted(model: UnmaskModel, tok: CadTokenizer, bias: float = 0.0) -> list[int]:
    """Count model passes (batch sizes); with ``bias``, make short finished programs likely."""
    b = torch.zeros(len(tok))
    for w in ("<eos>", "<pad>", "circle", "new", "one_side"):
        b[tok.vocab[w]] = bias
    calls: list[int] = []
    run = model.canvas_logits

    def wrapped(prefix: torch.Tensor, canvas: torch.Tensor) -> torch.Tensor:
        calls.append(canvas.shape[0])
        return run(prefix, canvas) + b

    model.canvas_logits = wrapped
    return calls


def points(n: int = 128, seed: int = 0) -> torch.Tensor:
    return random_points(n, seed)


def check(results, tok: CadTokenizer, max_tokens: int) -> None:
    for r in results:
        if r.finished:
            assert r.tokens[-1] == tok.eos_id and r.error is None
            assert tok.decode([tok.bos_id, *r.tokens]) == r.program
        else:
            assert r.program is None and "unfinished" in r.error
            assert tok.eos_id not in r.tokens and len(r.tokens) <= max_tokens - 1
        assert r.log_prob <= 0.0


def test_registered():
    assert DECODERS["unmask"] is decode_unmask


@pytest.mark.parametrize("steps", [1, 4, 16])
def test_every_candidate_parses_in_k_passes(steps):
    model, tok = tiny_unmask()
    calls = counted(model, tok, bias=4.0)
    results = decode_unmask(model, tok, points(), n_candidates=5, temperature=1.0, seed=2, steps=steps)
    assert len(results) == 5
    check(results, tok, model.config.max_tokens)
    assert all(r.finished for r in results)
    assert 1 <= len(calls) <= steps
    assert calls[0] == 1 and all(c <= 5 for c in calls[1:])  # pass 1 is shared by all candidates
    assert results[0].greedy and not any(r.greedy for r in results[1:])


def test_unbiased_random_model_passes_and_reports():
    model, tok = tiny_unmask()
    calls = counted(model, tok)
    progress: list[tuple[int, int, int]] = []
    results = decode_unmask(
        model, tok, points(), n_candidates=3, temperature=1.0, steps=6, progress=lambda *a: progress.append(a)
    )
    check(results, tok, model.config.max_tokens)
    assert len(calls) <= 6 and progress[-1][:2] == (6, 6)
    stats = DecodeStats.from_results(results)
    assert stats.candidates == 3 and stats.parsed + stats.unfinished == 3


def test_deterministic_and_greedy_candidates_agree():
    model, tok = tiny_unmask()
    counted(model, tok, bias=3.0)
    a = decode_unmask(model, tok, points(), n_candidates=3, temperature=0.9, seed=5, steps=8)
    b = decode_unmask(model, tok, points(), n_candidates=3, temperature=0.9, seed=5, steps=8)
    assert [r.tokens for r in a] == [r.tokens for r in b]
    greedy = decode_unmask(model, tok, points(), n_candidates=2, temperature=0.0, steps=8)
    assert greedy[0].tokens == a[0].tokens  # candidate 0 is greedy whatever the batch
    assert greedy[0].greedy and not greedy[1].greedy  # as in the AR decoder: the others are sampled


def test_prefix_input_and_errors():
    model, tok = tiny_unmask()
    counted(model, tok, bias=4.0)
    prefix = model.encode_prefix(points()[None])
    res = decode_unmask(model, tok, prefix=prefix, n_candidates=1, steps=4)
    assert res[0].finished
    with pytest.raises(ValueError):
        decode_unmask(model, tok, points(), n_candidates=0)
    with pytest.raises(ValueError):
        decode_unmask(model, tok, points(), steps=0)
    with pytest.raises(ValueError):
        decode_unmask(model, tok)


def test_schedule_and_crop():
    assert [masked_after(s, 4, 100) for s in range(4)] == [92, 70, 38, 0]
    assert masked_after(0, 1, 100) == 0
    logits = torch.zeros(200, 10)
    logits[:, 0] = 20.0  # PAD everywhere ...
    logits[:50, 0] = -20.0  # ... except the first 50 positions
    assert crop_length(logits, pad_id=0, limit=200) == 50 + 16
    assert crop_length(torch.zeros(200, 10), pad_id=0, limit=200) == 200  # unsure: no crop
    logits[:, 0] = 20.0
    assert crop_length(logits, pad_id=0, limit=200) == MIN_CANVAS


def test_reconstructor_selects_the_unmask_checkpoint(tmp_path, monkeypatch):
    import trimesh

    import backend.reconstruct as rc
    from backend.model.checkpoint import save_pretrained

    model, tok = tiny_unmask()
    folder = save_pretrained(model, tok, tmp_path / "unmask")
    monkeypatch.setattr(rc, "DEFAULT_CHECKPOINT", tmp_path / "missing")
    monkeypatch.setattr(rc, "DEFAULT_UNMASK_CHECKPOINT", tmp_path / "missing_unmask")
    assert rc.Reconstructor(device="cpu").decoders == ["ar"]
    with pytest.raises(ValueError, match="unmask checkpoint"):
        rc.Reconstructor(device="cpu").reconstruct(
            trimesh.creation.box(), rc.ReconstructOptions(decoder="unmask")
        )
    with pytest.raises(ValueError, match="--unmask-checkpoint"):
        rc.Reconstructor(folder, device="cpu")  # an unmask model given as the AR checkpoint

    monkeypatch.setattr(rc, "DEFAULT_UNMASK_CHECKPOINT", folder)
    assert rc.Reconstructor(device="cpu", unmask_checkpoint="none").decoders == ["ar"]
    r = rc.Reconstructor(device="cpu")
    assert r.decoders == ["ar", "unmask"] and r.unmask_model is not None and not r.has_model
    opt = rc.ReconstructOptions(decoder="unmask", steps=3, candidates=2, use_sections=False, refine=False)
    res = r.reconstruct(trimesh.creation.box(), opt)
    assert res.stats.candidates == 2 and res.source in ("model", "bbox")
