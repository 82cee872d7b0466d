"""save_pretrained-style model folders: weights, config, tokenizer and a model card.

Folder layout::

    model.safetensors   whole model (encoder, projector, decoder), fp32 or fp16
    config.json         {"model": ModelConfig, "decoder": decoder config, "meta": training facts}
    tokenizer.json      CadTokenizer.save
    README.md           model card

LoRA checkpoints (``config.model.base_model`` set) are written by ``backend.model.lora``; ``load_checkpoint``
reads both kinds. File names and the model card: ``backend.model.files`` (imported by both, so that
``lora`` never imports this module).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model

from backend.cad.tokens import CadTokenizer
from backend.model.cad_model import CadModel, ModelConfig
from backend.model.files import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, model_card

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHECKPOINT = ROOT / "checkpoints" / "default"
DEFAULT_UNMASK_CHECKPOINT = ROOT / "checkpoints" / "unmask"  # the masked-diffusion model (decoder "unmask")
MAX_BYTES = 30 * 1024 * 1024


def save_pretrained(
    model: CadModel,
    tokenizer: CadTokenizer,
    folder: str | Path,
    meta: dict[str, Any] | None = None,
    metrics_markdown: str = "",
    dtype: torch.dtype | None = None,
) -> Path:
    """Write the folder; ``dtype`` defaults to fp32, or fp16 when fp32 would exceed 30 MB."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = dict(meta or {})
    n_params = model.num_parameters()
    if dtype is None:
        dtype = torch.float32 if n_params * 4 < MAX_BYTES else torch.float16
    meta.setdefault("parameters", n_params)
    meta["dtype"] = str(dtype).removeprefix("torch.")
    copy = _cast_copy(model, dtype)
    save_model(copy, str(folder / WEIGHTS_FILE))
    config = {"model": model.config.to_dict(), "decoder": model.decoder.config.to_dict(), "meta": meta}
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=1, default=str))
    tokenizer.save(folder)
    (folder / CARD_FILE).write_text(model_card(model, meta, metrics_markdown))
    return folder


def _cast_copy(model: CadModel, dtype: torch.dtype) -> CadModel:
    if dtype == torch.float32 and all(p.dtype == torch.float32 for p in model.parameters()):
        return model
    copy = type(model)(model.config)
    copy.load_state_dict(model.state_dict())
    return copy.to(dtype)


def load_checkpoint(
    path: str | Path = DEFAULT_CHECKPOINT, device: str | torch.device = "cpu"
) -> tuple[CadModel, CadTokenizer, dict[str, Any]]:
    """(model in eval mode, fp32, on ``device``; tokenizer; meta) from a folder written by save_pretrained."""
    path = Path(path)
    if not (path / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"no {CONFIG_FILE} in {path}: not a model folder")
    config = json.loads((path / CONFIG_FILE).read_text())
    mcfg = ModelConfig.from_dict(config["model"])
    if mcfg.base_model:
        from backend.model.lora import load_lora_checkpoint

        return load_lora_checkpoint(path, device)
    model = _model_class(mcfg)(mcfg)
    if config.get("meta", {}).get("dtype", "float32") != "float32":
        model = model.to(getattr(torch, config["meta"]["dtype"]))
    load_model(model, str(path / WEIGHTS_FILE))
    model = model.float().to(device).eval()
    return model, CadTokenizer.load(path), config.get("meta", {})


def _model_class(config: ModelConfig) -> type[CadModel]:
    """CadModel (causal, objective "ar") or UnmaskModel (bidirectional, objective "unmask")."""
    if config.objective == "unmask":
        from backend.model.unmask_model import UnmaskModel

        return UnmaskModel
    return CadModel
