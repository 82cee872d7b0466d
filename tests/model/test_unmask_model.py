"""UnmaskModel: masked-diffusion loss only on masked positions; a few steps reduce it; checkpoints."""

import pytest
import torch

from backend.cad.tokens import CadTokenizer
from backend.model.checkpoint import load_checkpoint, save_pretrained
from backend.model.unmask_model import UnmaskModel
from tests.tiny_models import tiny_config, tiny_model

torch.set_num_threads(1)

SIZES = dict(n_points=128, max_tokens=40)


def tiny_unmask(seed: int = 0) -> tuple[UnmaskModel, CadTokenizer]:
    return tiny_model("unmask", seed, **SIZES)


def batch(tok: CadTokenizer, b: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    points = torch.rand(b, 128, 6, generator=g)
    ids = [tok.bos_id] + [tok.vocab["extrude"], tok.vocab["new"]] * 6 + [tok.eos_id]
    tokens = torch.full((b, len(ids) + 3), tok.pad_id)
    tokens[:, : len(ids)] = torch.tensor(ids)
    return points, tokens


def test_needs_unmask_objective():
    tok = CadTokenizer()
    with pytest.raises(ValueError, match="objective"):
        UnmaskModel(tiny_config(tokenizer=tok, **SIZES))


def test_loss_only_on_masked_positions():
    model, tok = tiny_unmask()
    model.eval()
    points, tokens = batch(tok)
    gen = torch.Generator().manual_seed(0)
    out = model(points, tokens, ratio=torch.full((4,), 0.5), generator=gen)
    assert out.logits.shape == (4, tokens.shape[1] - 1, len(tok))
    assert torch.equal(out.targets, tokens[:, 1:])
    assert out.masked.any(dim=1).all() and not out.masked.all()
    ce = torch.nn.functional.cross_entropy(out.logits.flatten(0, 1), out.targets.flatten(), reduction="none")
    assert torch.allclose(out.loss, ce[out.masked.flatten()].mean(), atol=1e-5)
    # the model never sees a masked position's true token: changing it leaves the logits alone
    pos = int(out.masked[0].nonzero()[0])
    changed = tokens.clone()
    changed[0, pos + 1] = tok.vocab["circle"]
    rerun = model(points, changed, ratio=torch.full((4,), 0.5), generator=torch.Generator().manual_seed(0))
    assert torch.equal(rerun.masked, out.masked)
    assert torch.allclose(rerun.logits, out.logits, atol=1e-6) and not torch.isclose(rerun.loss, out.loss)


def test_every_example_has_a_masked_position_and_tail_in_training():
    model, tok = tiny_unmask()
    points, tokens = batch(tok)
    tiny_ratio = torch.full((4,), 1e-9)
    out = model.eval()(points, tokens, ratio=tiny_ratio)
    assert (out.masked.sum(dim=1) == 1).all()
    model.train()
    lengths = {model(points, tokens, ratio=tiny_ratio).logits.shape[1] for _ in range(20)}
    assert min(lengths) >= tokens.shape[1] - 1 and max(lengths) <= model.canvas_length
    assert len(lengths) > 1  # random PAD tails


def test_a_few_steps_reduce_the_loss():
    model, tok = tiny_unmask()
    points, tokens = batch(tok)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    ratio = torch.full((4,), 0.6)

    def loss() -> float:
        model.eval()
        with torch.no_grad():
            return float(model(points, tokens, ratio=ratio, generator=torch.Generator().manual_seed(0)).loss)

    before = loss()
    model.train()
    for _ in range(15):
        opt.zero_grad()
        model(points, tokens).loss.backward()
        opt.step()
    assert loss() < before * 0.8


def test_autoregressive_interface_refuses():
    model, _ = tiny_unmask()
    with pytest.raises(TypeError, match="unmask"):
        model.prefill(torch.zeros(1, 128, 6), torch.zeros(1, 1, dtype=torch.long))


def test_checkpoint_round_trip(tmp_path):
    model, tok = tiny_unmask()
    save_pretrained(model, tok, tmp_path / "m", meta={"steps": 0})
    loaded, tok2, meta = load_checkpoint(tmp_path / "m")
    assert isinstance(loaded, UnmaskModel) and loaded.config.objective == "unmask"
    assert "Objective: unmask" in (tmp_path / "m" / "README.md").read_text()
    points, tokens = batch(tok)
    model.eval()
    a = model(points, tokens, ratio=torch.full((4,), 0.5), generator=torch.Generator().manual_seed(0))
    b = loaded(points, tokens, ratio=torch.full((4,), 0.5), generator=torch.Generator().manual_seed(0))
    assert torch.allclose(a.logits, b.logits, atol=1e-5)
    # fp16 export builds the same class
    save_pretrained(model, tok, tmp_path / "h", dtype=torch.float16)
    assert isinstance(load_checkpoint(tmp_path / "h")[0], UnmaskModel)
