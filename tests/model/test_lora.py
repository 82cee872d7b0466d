"""LoRA fine-tuning over a tiny randomly initialised Qwen2 base saved to a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from backend.cad.text import program_to_text
from backend.cad.tokens import CadTokenizer
from backend.data.dataset import make_item
from backend.model.cad_model import ModelConfig
from backend.model.checkpoint import load_checkpoint
from backend.model.files import PREFIX_FILE, TOKENIZER_DIR
from backend.model.lora import (
    LoraCadModel,
    build_lora_model,
    load_lora_checkpoint,
    lora_target_modules,
    save_lora_checkpoint,
    text_collate,
)
from tests.tiny_models import write_tiny_base

torch.set_num_threads(1)

CFG = ModelConfig(
    n_prefix_tokens=4, max_tokens=128, encoder_width=16, encoder_centroids=16, encoder_k1=8, encoder_k2=4
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_base(tmp_path_factory.mktemp("base"))


@pytest.fixture(scope="module")
def batch(base: Path) -> dict:
    _, text_tok = build_lora_model(base, CFG, r=4)
    cad = CadTokenizer()
    return text_collate(text_tok, cad)([make_item(s, 64, cad) for s in range(2)])


def build(base: Path) -> LoraCadModel:
    torch.manual_seed(0)
    model, _ = build_lora_model(base, CFG, r=4, dropout=0.0)
    return model


def train_steps(model: LoraCadModel, batch: dict, n: int) -> list[float]:
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    losses = []
    for _ in range(n):
        loss = model(batch["points"], batch["tokens"], batch["attention_mask"]).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


def logits(model: LoraCadModel, batch: dict) -> torch.Tensor:
    with torch.no_grad():
        return model(batch["points"], batch["tokens"], batch["attention_mask"]).logits


def test_build_uses_base_and_text_form(base: Path, batch: dict) -> None:
    model, text_tok = build_lora_model(base, CFG, r=4)
    assert model.config.base_model == str(base.resolve())
    assert model.config.vocab_size == len(text_tok) and model.config.eos_id == text_tok.eos_token_id
    assert model.lora["target_modules"] == [
        "down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"
    ]  # fmt: skip
    trainable = {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"encoder", "projector", "decoder"}
    decoder_trainable = [n for n, p in model.decoder.named_parameters() if p.requires_grad]
    assert decoder_trainable and all("lora_" in n for n in decoder_trainable)
    # the batch is [BOS] text [EOS] in the base tokenizer, right-padded
    cad = CadTokenizer()
    program = cad.decode(make_item(0, 64, cad)["tokens"].tolist())
    n = int(batch["attention_mask"][0].sum())
    ids = batch["tokens"][0, :n].tolist()
    assert ids == model.encode_text(program)
    assert text_tok.decode(ids[1:-1]).split() == program_to_text(program).split()


def test_target_modules_of_a_fresh_base(base: Path) -> None:
    from transformers import AutoModelForCausalLM

    lm = AutoModelForCausalLM.from_pretrained(base)
    assert "lm_head" not in lora_target_modules(lm) and "q_proj" in lora_target_modules(lm)


def test_loss_falls(base: Path, batch: dict) -> None:
    losses = train_steps(build(base), batch, 6)
    assert losses[-1] < losses[0] - 0.1


def test_state_dict_is_trainable_only(base: Path) -> None:
    model = build(base)
    sd = model.state_dict()
    assert set(sd) == {n for n, p in model.named_parameters() if p.requires_grad}
    other = build(base)
    with torch.no_grad():
        for p in other.parameters():
            if p.requires_grad:
                p.add_(1.0)
    other.load_state_dict(sd)
    assert all(torch.equal(sd[k], v) for k, v in other.state_dict().items())
    with pytest.raises(RuntimeError):
        other.load_state_dict({k: v for k, v in sd.items() if "lora_A" not in k})


def test_save_load_merge(base: Path, batch: dict, tmp_path: Path) -> None:
    model = build(base)
    train_steps(model, batch, 2)
    model.eval()
    ref = logits(model, batch)
    folder = save_lora_checkpoint(model, CadTokenizer(), tmp_path / "ck", {"steps": 2})
    for name in ("adapter_model.safetensors", "adapter_config.json", PREFIX_FILE, "config.json", "README.md"):
        assert (folder / name).is_file()
    assert (folder / TOKENIZER_DIR / "tokenizer.json").is_file()
    card = (folder / "README.md").read_text()
    assert f"{model.num_parameters():,} parameters" in card and "## LoRA" in card

    loaded, cad, meta = load_checkpoint(folder)  # routed to load_lora_checkpoint
    assert isinstance(loaded, LoraCadModel) and isinstance(cad, CadTokenizer)
    assert meta["steps"] == 2 and not loaded.training
    torch.testing.assert_close(logits(loaded, batch), ref, atol=1e-6, rtol=0)

    merged, _, _ = load_lora_checkpoint(folder, merge=True)
    assert merged.merged and not any("lora_" in n for n, _ in merged.named_parameters())
    torch.testing.assert_close(logits(merged, batch), ref, atol=1e-5, rtol=0)
    with pytest.raises(ValueError):
        save_lora_checkpoint(merged, None, tmp_path / "again")


def test_missing_base(base: Path, tmp_path: Path) -> None:
    model = build(base)
    folder = save_lora_checkpoint(model, None, tmp_path / "ck")
    with pytest.raises(FileNotFoundError):
        load_lora_checkpoint(folder, base_model=tmp_path / "nowhere")


def test_decode_programs_reports_parse_failures(base: Path, batch: dict) -> None:
    model = build(base).eval()
    results = model.decode_programs(batch["points"], max_new_tokens=8)
    assert len(results) == 2
    for r in results:
        assert (r.program is None) == (r.error is not None)
        assert r.finished or r.error.startswith("no EOS")
