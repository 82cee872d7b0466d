"""LoRA fine-tuning of a pretrained causal LM as the CadModel decoder (``train --base-model PATH``).

The base LM and its tokenizer are loaded from a local folder (``local_files_only``; nothing is
downloaded). Programs are written in their text form (``backend.cad.text.program_to_text``) and
tokenised with the base tokenizer as ``[BOS] text [EOS]`` (BOS falls back to EOS when the base has
none; it is only conditioning and never predicted). ``peft`` LoRA adapters go on the attention/MLP
projections (the names of the linear layers found in the model, e.g. ``q_proj ... down_proj`` for
Qwen2/Llama); the point encoder and projector are trained fully. ``LoraCadModel.state_dict`` holds
the trainable weights only, so ``train.py``'s ``checkpoint.pt`` stays small.

Folder layout written by ``save_lora_checkpoint``::

    config.json                  {"model": ModelConfig (base_model = base folder), "lora": ..., "meta": ...}
    adapter_model.safetensors    peft adapters (``save_pretrained``)
    adapter_config.json
    prefix.safetensors           point encoder + projector
    base_tokenizer/              the base model's tokenizer (``save_pretrained``)
    README.md                    model card

``load_lora_checkpoint`` rebuilds the base from the recorded path and attaches the adapters;
``merge=True`` folds them into the base weights (``merge_and_unload``).

Limitation: the grammar-constrained decoder (``backend.decode.autoregressive``) masks logits over
the CAD vocabulary, which does not map onto a base tokenizer's sub-word pieces, so it cannot drive
a LoRA model. ``LoraCadModel.decode_programs`` is the decoding path here: unconstrained greedy
generation with the base tokenizer, then ``text_to_program``; outputs that do not parse are
reported (``TextDecodeResult.error``), not repaired.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from backend.cad.program import Program
from backend.cad.text import TextParseError, program_to_text, text_to_program
from backend.cad.tokens import CadTokenizer
from backend.model.cad_model import CadModel, ModelConfig
from backend.model.files import CARD_FILE, CONFIG_FILE, PREFIX_FILE, TOKENIZER_DIR, lora_card

_SKIP_TARGETS = {"lm_head", "embed_out", "output_layer"}
_GENERIC_TOKENIZERS = {"TokenizersBackend", "PreTrainedTokenizerFast"}


@dataclass
class TextDecodeResult:
    """One greedily generated program text; ``program`` when it parses, else ``error``."""

    text: str
    tokens: list[int]
    finished: bool
    program: Program | None = None
    error: str | None = None


def special_ids(text_tok: Any) -> tuple[int, int, int]:
    """(pad, bos, eos) ids of a base tokenizer, with fallbacks (bos -> eos, pad -> eos)."""
    eos = text_tok.eos_token_id
    if eos is None:
        raise ValueError("the base tokenizer has no EOS token")
    bos = text_tok.bos_token_id if text_tok.bos_token_id is not None else eos
    pad = text_tok.pad_token_id if text_tok.pad_token_id is not None else eos
    return pad, bos, eos


def encode_text(text_tok: Any, program: Program) -> list[int]:
    """Base-tokenizer ids ``[BOS] program_to_text(program) [EOS]``."""
    _, bos, eos = special_ids(text_tok)
    return [bos, *text_tok.encode(program_to_text(program), add_special_tokens=False), eos]


def lora_target_modules(model: nn.Module) -> list[str]:
    """Names (last component) of the linear projections in ``model``, without the output head."""
    from transformers.pytorch_utils import Conv1D

    out_emb = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    names = {
        name.rsplit(".", 1)[-1]
        for name, m in model.named_modules()
        if isinstance(m, nn.Linear | Conv1D) and m is not out_emb
    }
    names -= _SKIP_TARGETS
    if not names:
        raise ValueError(f"no linear projections found in {type(model).__name__} for LoRA")
    return sorted(names)


def load_base(path: str | Path, dtype: torch.dtype = torch.float32) -> tuple[nn.Module, Any]:
    """(causal LM, tokenizer) from a local folder; never downloads."""
    from transformers import AutoModelForCausalLM

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"base model folder {path} not found")
    lm = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True)
    return lm, load_tokenizer(path)


def load_tokenizer(path: str | Path) -> Any:
    """The tokenizer in a local folder. A generic fast tokenizer (``tokenizer_class`` TokenizersBackend /
    PreTrainedTokenizerFast) is loaded from its ``tokenizer.json`` as is: ``AutoTokenizer`` would rebuild
    it as the class registered for the folder's ``model_type`` (e.g. Qwen2's byte-level BPE)."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    path = Path(path)
    cfg_file = path / "tokenizer_config.json"
    cls = json.loads(cfg_file.read_text()).get("tokenizer_class") if cfg_file.is_file() else None
    if cls in _GENERIC_TOKENIZERS and (path / "tokenizer.json").is_file():
        return PreTrainedTokenizerFast.from_pretrained(path, local_files_only=True)
    return AutoTokenizer.from_pretrained(path, local_files_only=True)


class LoraCadModel(CadModel):
    """CadModel whose decoder is a peft-wrapped pretrained LM, with the base tokenizer attached."""

    def __init__(
        self, config: ModelConfig, decoder: nn.Module, text_tokenizer: Any, lora: dict[str, Any]
    ) -> None:
        super().__init__(config, decoder)
        self.text_tokenizer = text_tokenizer
        self.lora = lora
        self.merged = False

    # --- training-state weights: trainable parameters only ------------------------------------------

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        """Trainable weights only (adapters, encoder, projector); the frozen base is on disk."""
        full = super().state_dict(*args, **kwargs)
        prefix = kwargs.get("prefix", "")
        keep = {prefix + n for n, p in self.named_parameters() if p.requires_grad}
        return {k: v for k, v in full.items() if k in keep}

    def load_state_dict(  # type: ignore[override]
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        """Load weights from ``state_dict``; with ``strict`` every trainable weight must be present."""
        res = super().load_state_dict(state_dict, strict=False, assign=assign)
        if strict:
            trainable = {n for n, p in self.named_parameters() if p.requires_grad}
            missing = sorted(set(res.missing_keys) & trainable)
            if missing or res.unexpected_keys:
                raise RuntimeError(
                    f"LoRA state dict: missing {missing[:5]}, unexpected {res.unexpected_keys[:5]}"
                )
        return res

    # --- adapters ---------------------------------------------------------------------------------

    def merge(self) -> LoraCadModel:
        """Fold the adapters into the base weights (``merge_and_unload``); in place, returns self."""
        if not self.merged:
            self.decoder = self.decoder.merge_and_unload()
            self.merged = True
        return self

    def trainable_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    # --- text -------------------------------------------------------------------------------------

    def encode_text(self, program: Program) -> list[int]:
        return encode_text(self.text_tokenizer, program)

    @torch.no_grad()
    def generate_ids(
        self, points: torch.Tensor, max_new_tokens: int | None = None
    ) -> list[tuple[list[int], bool]]:
        """Greedy, unconstrained generation with the KV cache: per row (ids after BOS, reached EOS)."""
        max_new_tokens = max_new_tokens or 4 * self.config.max_tokens
        b = points.shape[0]
        bos = torch.full((b, 1), self.config.bos_id, dtype=torch.long, device=points.device)
        logits, cache = self.prefill(points, bos)
        seqs: list[list[int]] = [[] for _ in range(b)]
        done = [False] * b
        for i in range(max_new_tokens):
            nxt = logits.argmax(-1)
            for r in range(b):
                if not done[r]:
                    seqs[r].append(int(nxt[r]))
                    done[r] = int(nxt[r]) == self.config.eos_id
            if all(done) or i == max_new_tokens - 1:
                break
            logits, cache = self.step(nxt[:, None], cache)
        return list(zip(seqs, done))

    def decode_programs(
        self, points: torch.Tensor, max_new_tokens: int | None = None
    ) -> list[TextDecodeResult]:
        """Greedy text generation parsed with ``text_to_program``; parse failures are in ``error``."""
        results = []
        for ids, finished in self.generate_ids(points, max_new_tokens):
            body = ids[:-1] if finished else ids
            text = self.text_tokenizer.decode(body, skip_special_tokens=True)
            res = TextDecodeResult(text=text, tokens=ids, finished=finished)
            if not finished:
                res.error = f"no EOS within {len(ids)} tokens"
            else:
                try:
                    res.program = text_to_program(text)
                except TextParseError as exc:
                    res.error = str(exc)
            results.append(res)
        return results


def lora_model_config(
    base: nn.Module, text_tok: Any, config: ModelConfig, base_path: str | Path
) -> ModelConfig:
    """``config`` (encoder sizes, prefix, max tokens) with the decoder fields taken from the base LM."""
    bc = base.config
    pad, bos, eos = special_ids(text_tok)
    return replace(
        config,
        vocab_size=base.get_input_embeddings().num_embeddings,
        hidden_size=bc.hidden_size,
        n_layers=getattr(bc, "num_hidden_layers", config.n_layers),
        n_heads=getattr(bc, "num_attention_heads", config.n_heads),
        n_kv_heads=getattr(bc, "num_key_value_heads", None)
        or getattr(bc, "num_attention_heads", config.n_heads),
        intermediate_size=getattr(bc, "intermediate_size", None) or config.intermediate_size,
        pad_id=pad,
        bos_id=bos,
        eos_id=eos,
        base_model=str(Path(base_path).resolve()),
    )


def build_lora_model(
    base_model: str | Path,
    config: ModelConfig,
    r: int = 16,
    alpha: int | None = None,
    dropout: float = 0.05,
    target_modules: list[str] | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[LoraCadModel, Any]:
    """(model with fresh LoRA adapters + encoder/projector, base tokenizer) over the LM at ``base_model``."""
    from peft import LoraConfig, get_peft_model

    base, text_tok = load_base(base_model, dtype)
    mcfg = lora_model_config(base, text_tok, config, base_model)
    lora = {
        "r": r,
        "alpha": alpha if alpha is not None else 2 * r,
        "dropout": dropout,
        "target_modules": target_modules or lora_target_modules(base),
    }
    peft_cfg = LoraConfig(
        r=lora["r"],
        lora_alpha=lora["alpha"],
        lora_dropout=lora["dropout"],
        target_modules=lora["target_modules"],
        task_type="CAUSAL_LM",
    )
    model = LoraCadModel(mcfg, get_peft_model(base, peft_cfg), text_tok, lora)
    return model, text_tok


def text_collate(text_tok: Any, cad_tokenizer: CadTokenizer) -> Callable[[list[dict]], dict]:
    """Collate function for LoRA runs: items' CAD ids -> program text -> padded base-tokenizer ids."""
    pad, _, _ = special_ids(text_tok)

    def collate(batch: list[dict]) -> dict:
        seqs = [encode_text(text_tok, cad_tokenizer.decode(b["tokens"].tolist())) for b in batch]
        n = max(len(s) for s in seqs)
        tokens = torch.full((len(batch), n), pad, dtype=torch.int64)
        mask = torch.zeros((len(batch), n), dtype=torch.bool)
        for i, s in enumerate(seqs):
            tokens[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = True
        return {
            "points": torch.stack([torch.as_tensor(b["points"]) for b in batch]),
            "tokens": tokens,
            "attention_mask": mask,
            "seeds": torch.tensor([b.get("seed", -1) for b in batch], dtype=torch.int64),
        }

    return collate


def _prefix_state(model: CadModel) -> dict[str, torch.Tensor]:
    sd = {f"encoder.{k}": v for k, v in model.encoder.state_dict().items()}
    sd |= {f"projector.{k}": v for k, v in model.projector.state_dict().items()}
    return {k: v.detach().float().contiguous().cpu() for k, v in sd.items()}


def save_lora_checkpoint(
    model: LoraCadModel,
    tokenizer: CadTokenizer | None,
    folder: str | Path,
    meta: dict[str, Any] | None = None,
    metrics_markdown: str = "",
) -> Path:
    """Write adapters, encoder/projector, base tokenizer, config and model card to ``folder``.

    ``tokenizer`` (the CAD tokenizer, passed by ``train.py``) is not stored: it is fixed by the grammar.
    """
    if model.merged:
        raise ValueError("cannot save adapters of a merged model; save before merge()")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = dict(meta or {})
    meta.setdefault("parameters", model.num_parameters())
    meta.setdefault("trainable_parameters", model.trainable_parameters())
    meta["dtype"] = "float32"
    model.decoder.save_pretrained(str(folder))  # adapter_model.safetensors + adapter_config.json (+ README)
    save_file(_prefix_state(model), str(folder / PREFIX_FILE))
    model.text_tokenizer.save_pretrained(str(folder / TOKENIZER_DIR))
    config = {"model": model.config.to_dict(), "lora": model.lora, "meta": meta}
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=1, default=str))
    card = lora_card(model, meta, metrics_markdown)
    (folder / CARD_FILE).write_text(card)
    return folder


def load_lora_checkpoint(
    path: str | Path,
    device: str | torch.device = "cpu",
    merge: bool = False,
    base_model: str | Path | None = None,
) -> tuple[LoraCadModel, CadTokenizer, dict[str, Any]]:
    """(model in eval mode on ``device``, CAD tokenizer, meta) from a ``save_lora_checkpoint`` folder.

    The base is rebuilt from the recorded path (or ``base_model``); ``merge`` folds the adapters in.
    The base tokenizer is ``model.text_tokenizer``.
    """
    from peft import PeftModel

    path = Path(path)
    config = json.loads((path / CONFIG_FILE).read_text())
    mcfg = ModelConfig.from_dict(config["model"])
    base_path = Path(base_model or mcfg.base_model or "")
    if not base_path.is_dir():
        raise FileNotFoundError(
            f"base model {base_path} of LoRA checkpoint {path} not found (pass base_model=)"
        )
    mcfg = replace(mcfg, base_model=str(base_path))
    base, _ = load_base(base_path)
    text_tok = load_tokenizer(path / TOKENIZER_DIR)
    decoder = PeftModel.from_pretrained(base, str(path), is_trainable=False)
    model = LoraCadModel(mcfg, decoder, text_tok, config.get("lora", {}))
    prefix = load_file(str(path / PREFIX_FILE))
    model.encoder.load_state_dict({k[8:]: v for k, v in prefix.items() if k.startswith("encoder.")})
    model.projector.load_state_dict({k[10:]: v for k, v in prefix.items() if k.startswith("projector.")})
    if merge:
        model.merge()
    return model.float().to(device).eval(), CadTokenizer(), config.get("meta", {})


def decode_text_candidates(model: LoraCadModel, points: torch.Tensor, max_tokens: int | None) -> list:
    """The pipeline's LoRA candidates: ``decode_programs`` on (K, N, 6) points (one sample per candidate:
    greedy decoding of one sample would repeat itself) as ``DecodeResult``s; outputs that do not parse
    keep their error (``DecodeStats.unfinished`` / ``unparsed``)."""
    from backend.decode.autoregressive import DecodeResult

    with torch.inference_mode():
        texts = model.decode_programs(points, max_tokens)
    return [
        DecodeResult(tokens=t.tokens, program=t.program, error=t.error, finished=t.finished, greedy=True)
        for t in texts
    ]
