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


def write_tiny_base(
    folder: str | Path, hidden: int = 32, layers: int = 2, heads: int = 2, seed: int = 0
) -> Path:
    """A tiny randomly initialised Qwen2 + word-level tokenizer over the CAD text words, for tests and
    smoke runs of ``--base-model`` without any download."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    from backend.cad.grammar import EOS, KEYWORDS, NUMBER_WORDS

    folder = Path(folder)
    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    words = specials + [w for w in (*KEYWORDS, *NUMBER_WORDS) if w != EOS]
    tk = Tokenizer(WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tk.pre_tokenizer = WhitespaceSplit()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    torch.manual_seed(seed)
    cfg = Qwen2Config(
        vocab_size=len(words),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=1024,
        tie_word_embeddings=False,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )
    Qwen2ForCausalLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
