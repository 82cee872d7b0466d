"""save_pretrained / load_checkpoint: round trip, model card, size of the default model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from backend.cad.tokens import CadTokenizer
from backend.model.cad_model import CadModel, ModelConfig
from backend.model.checkpoint import MAX_BYTES, load_checkpoint, save_pretrained
from backend.model.files import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE
from tests.tiny_models import tiny_config

torch.set_num_threads(1)

TINY = tiny_config(n_layers=2, n_prefix_tokens=4, max_tokens=32, encoder_centroids=16)


def inputs() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(3, 100, (2, 9), generator=g)
    tokens[:, 0] = TINY.bos_id
    return torch.randn(2, 64, 6, generator=g), tokens


def test_round_trip_identical_logits(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = CadModel(TINY).eval()
    tok = CadTokenizer()
    save_pretrained(model, tok, tmp_path, meta={"steps": 3, "train_loss": 1.5}, metrics_markdown="| a | 1 |")
    for name in (WEIGHTS_FILE, CONFIG_FILE, CARD_FILE, "tokenizer.json"):
        assert (tmp_path / name).is_file()
    loaded, tok2, meta = load_checkpoint(tmp_path)
    assert not loaded.training
    assert loaded.config == model.config
    assert len(tok2) == len(tok)
    assert meta["steps"] == 3 and meta["parameters"] == model.num_parameters()
    points, tokens = inputs()
    with torch.no_grad():
        assert torch.equal(model(points, tokens).logits, loaded(points, tokens).logits)


def test_fp16_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = CadModel(TINY).eval()
    save_pretrained(model, CadTokenizer(), tmp_path, dtype=torch.float16)
    loaded, _, meta = load_checkpoint(tmp_path)
    assert meta["dtype"] == "float16"
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    points, tokens = inputs()
    with torch.no_grad():
        torch.testing.assert_close(
            model(points, tokens).logits, loaded(points, tokens).logits, atol=2e-2, rtol=0
        )


def test_model_card(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = CadModel(TINY)
    save_pretrained(model, CadTokenizer(), tmp_path, meta={"steps": 7}, metrics_markdown="| exact | 0.5 |")
    card = (tmp_path / CARD_FILE).read_text()
    assert f"{model.num_parameters():,} parameters" in card
    assert "| steps | 7 |" in card and "| exact | 0.5 |" in card
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    assert config["meta"]["parameters"] == model.num_parameters()


def test_default_config_under_30_mb(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = CadModel(ModelConfig(vocab_size=len(CadTokenizer())))
    save_pretrained(model, CadTokenizer(), tmp_path)
    size = sum(f.stat().st_size for f in tmp_path.iterdir())
    assert size < MAX_BYTES


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path)
