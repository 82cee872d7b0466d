"""The pipeline with a LoRA checkpoint: text decoding with the base tokenizer, not the grammar masks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from backend.cad.validate import validate
from backend.data.generator import generate
from backend.decode import decode_autoregressive
from backend.model.cad_model import ModelConfig
from backend.model.lora import build_lora_model, encode_text, save_lora_checkpoint
from backend.reconstruct import ReconstructOptions, Reconstructor
from tests.tiny_models import write_tiny_base

torch.set_num_threads(1)

CFG = ModelConfig(
    n_prefix_tokens=4,
    max_tokens=128,
    n_points=256,
    encoder_width=16,
    encoder_centroids=16,
    encoder_k1=8,
    encoder_k2=4,
)
FAST = ReconstructOptions(candidates=3, max_tokens=24, refine_budget_s=0.2)


@pytest.fixture(scope="module")
def lora_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = write_tiny_base(tmp_path_factory.mktemp("base"))
    torch.manual_seed(0)
    model, _ = build_lora_model(base, CFG, r=4, dropout=0.0)
    return save_lora_checkpoint(model, None, tmp_path_factory.mktemp("lora") / "ck")


@pytest.fixture(scope="module")
def reconstructor(lora_checkpoint: Path) -> Reconstructor:
    return Reconstructor(checkpoint=lora_checkpoint, device="cpu", unmask_checkpoint="none")


@pytest.fixture(scope="module")
def part():
    return generate(1_000_000_003)


def test_lora_checkpoint_reconstructs_a_generator_part(reconstructor, part):
    _, mesh = part
    assert reconstructor.is_lora and reconstructor.has_model
    before = mesh.vertices.copy()
    res = reconstructor.reconstruct(mesh, FAST)
    assert (mesh.vertices == before).all()
    validate(res.program, scale=res.frame.scale)
    assert res.source in ("model", "section", "bbox") and res.scores["iou"] > 0.5
    s = res.stats
    assert s.candidates == 3 and s.parsed + s.unfinished + s.unparsed == 3
    assert res.to_dict()["candidates"]["unparsed"] == s.unparsed


def test_lora_text_candidates_are_parsed_verified_and_counted(reconstructor, part, monkeypatch):
    """Stub the greedy generation: one program text, one text that does not parse, one without EOS."""
    program, mesh = part
    model = reconstructor.model
    text_tok = model.text_tokenizer
    good = encode_text(text_tok, program)[1:]  # ids after BOS, EOS last
    eos = good[-1]
    bad = [*text_tok.encode("circle circle", add_special_tokens=False), eos]
    outputs = [(good, True), (bad, True), (good[:5], False)]
    monkeypatch.setattr(model, "generate_ids", lambda points, max_new_tokens=None: outputs[: len(points)])
    res = reconstructor.reconstruct(mesh, ReconstructOptions(candidates=3, refine=False))
    s = res.stats
    assert (s.candidates, s.parsed, s.unparsed, s.unfinished) == (3, 1, 1, 1)
    assert "model" in res.best_by_source
    assert res.best_by_source["model"].rank_cd < 1e-3


def test_grammar_decoder_refuses_a_lora_model(reconstructor):
    with pytest.raises(ValueError, match="decode_programs"):
        decode_autoregressive(reconstructor.model, None, torch.zeros(64, 6), n_candidates=1)
