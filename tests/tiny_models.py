"""Tiny randomly initialised models and checkpoints shared by the tests (``from tests.tiny_models import ...``).

The sizes are small enough for unit tests on a CPU; a test that depends on other sizes passes them as
keyword overrides of the ``ModelConfig`` fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from backend.cad.tokens import CadTokenizer
from backend.model.cad_model import CadModel, ModelConfig
from backend.model.checkpoint import save_pretrained
from backend.model.unmask_model import UnmaskModel

TINY_FIELDS: dict[str, Any] = dict(
    hidden_size=32,
    n_layers=1,
    n_heads=2,
    n_kv_heads=2,
    intermediate_size=64,
    n_points=256,
    n_prefix_tokens=8,
    max_tokens=48,
    encoder_width=16,
    encoder_centroids=32,
    encoder_k1=8,
    encoder_k2=4,
)


def tiny_config(
    objective: str = "ar", tokenizer: CadTokenizer | None = None, **overrides: Any
) -> ModelConfig:
    """``TINY_FIELDS`` with the tokenizer's vocabulary and special ids, then ``overrides``."""
    tok = CadTokenizer() if tokenizer is None else tokenizer
    fields = dict(
        TINY_FIELDS,
        vocab_size=len(tok),
        pad_id=tok.pad_id,
        bos_id=tok.bos_id,
        eos_id=tok.eos_id,
        objective=objective,
    )
    return ModelConfig(**{**fields, **overrides})


def tiny_model(objective: str = "ar", seed: int = 0, **overrides: Any) -> tuple[CadModel, CadTokenizer]:
    """(a CadModel, or an UnmaskModel for ``objective="unmask"``, in eval mode; its tokenizer)."""
    tok = CadTokenizer()
    torch.manual_seed(seed)
    cfg = tiny_config(objective, tok, **overrides)
    model = UnmaskModel(cfg, mask_id=tok.mask_id) if objective == "unmask" else CadModel(cfg)
    return model.eval(), tok


def random_points(n: int, seed: int = 0) -> torch.Tensor:
    """(n, 6) random points in the unit cube around the origin, with unit normals: a tiny model's input."""
    g = torch.Generator().manual_seed(seed)
    p = torch.rand(n, 6, generator=g) - 0.5
    p[:, 3:] = torch.nn.functional.normalize(p[:, 3:], dim=1)
    return p


def tiny_checkpoint(
    folder: str | Path, objective: str = "ar", name: str = "tiny-test", **overrides: Any
) -> Path:
    """A real checkpoint folder (``save_pretrained``) holding ``tiny_model(objective, **overrides)``."""
    model, tok = tiny_model(objective, **overrides)
    return save_pretrained(model, tok, folder, meta={"name": name})
