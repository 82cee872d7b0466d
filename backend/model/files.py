"""What a model folder holds: its file names and its model card (``README.md``).

Shared by ``checkpoint`` (whole-model folders) and ``lora`` (adapter folders), so neither imports the
other for them.
"""

from __future__ import annotations

from typing import Any

WEIGHTS_FILE = "model.safetensors"  # whole model (checkpoint)
CONFIG_FILE = "config.json"
CARD_FILE = "README.md"
PREFIX_FILE = "prefix.safetensors"  # LoRA: point encoder + projector
TOKENIZER_DIR = "base_tokenizer"  # LoRA: the base model's tokenizer
_UNMASK_NOTE = (
    " (masked-token diffusion: bidirectional, mask ratio ~ U(0, 1] per example, loss on masked positions;"
    " length by EOS-then-PAD padding; decode with `--decoder unmask`, see `backend/decode/unmask.py`)"
)


def model_card(model: Any, meta: dict[str, Any], metrics_markdown: str = "") -> str:
    """Markdown model card: architecture, size, training facts, metrics."""
    c = model.config
    enc = sum(p.numel() for p in model.encoder.parameters())
    proj = sum(p.numel() for p in model.projector.parameters())
    dec = sum(p.numel() for p in model.decoder.parameters())
    fmt = lambda k, unit="": f"{meta[k]}{unit}" if k in meta else "n/a"  # noqa: E731
    wall = f"{meta['wall_time_s'] / 60:.1f} min" if "wall_time_s" in meta else "n/a"
    lines = [
        "# mesh2cad point-cloud -> CAD program model",
        "",
        f"Reads {c.n_points} surface points with normals of a normalised mesh and writes the token form of a",
        "sketch-and-extrude CAD program (see `backend/cad/grammar.py`).",
        "",
        "## Architecture",
        "",
        f"- Encoder: PointNet++-style set abstraction ({c.encoder_centroids} FPS centroids, k={c.encoder_k1};"
        f" then {c.n_prefix_tokens} centroids, k={c.encoder_k2}; width {c.encoder_width}): {enc:,} parameters",
        f"- Projector: 2-layer MLP to the decoder's hidden size: {proj:,} parameters",
        f"- Decoder: {type(model.decoder).__name__}, hidden {c.hidden_size}, {c.n_layers} layers, {c.n_heads}"
        f" heads, vocabulary {c.vocab_size}, up to {c.max_tokens} tokens after a {c.n_prefix_tokens}-token"
        f" point prefix: {dec:,} parameters",
        *(
            [
                f"- Observation: up to {c.n_obs_tokens} tokens after the point prefix: the mesh's stacked sections"
                " per axis in the program's own token language (`backend/sections/observe.py`), and a learnt"
                " logit bias on every number the observation contains (observed-number bias)"
            ]
            if c.n_obs_tokens
            else []
        ),
        f"- Total: {model.num_parameters():,} parameters, stored as {meta.get('dtype', 'float32')}",
        f"- Objective: {c.objective}" + (_UNMASK_NOTE if c.objective == "unmask" else ""),
        "",
        "## Training",
        "",
        "| | |",
        "|---|---|",
        "| data | procedural parts (`backend/data/generator/`), unlimited, fresh seeds |",
        *([f"| started from | `{meta['init_from']}` |"] if meta.get("init_from") else []),
        f"| steps | {fmt('steps')} |",
        f"| batch size | {fmt('batch_size')} |",
        f"| tokens seen | {fmt('tokens_seen')} |",
        *(
            [
                f"| distinct parts | {fmt('samples_seen')} (fresh parts; batches replayed while none was fresh are not counted) |"
            ]
            if meta.get("replay")
            else []
        ),
        *(
            [
                f"| perturbed parts | {100 * meta['perturb_share']:.0f} % asked, {fmt('perturbed_seen')} of the fresh"
                " parts seen scanned or as a point cloud through the pipeline's intake (`backend/data/perturbed.py`;"
                " the others clean) |"
            ]
            if meta.get("perturb_share")
            else []
        ),
        *(
            [
                f"| rich parts | {100 * meta['rich_share']:.0f} % asked, {fmt('rich_seen')} of the fresh parts drawn"
                f" rich: the one with the most features of {fmt('rich_draws')} generator draws (`backend/data/dataset.py`"
                " `training_part`) |"
            ]
            if meta.get("rich_share")
            else []
        ),
        f"| wall time | {wall} |",
        f"| hardware | {fmt('hardware')} |",
        f"| final train loss | {fmt('train_loss')} |",
        "",
    ]
    if metrics_markdown:
        lines += ["## Metrics", "", metrics_markdown.strip(), ""]
    return "\n".join(lines)


def lora_card(model: Any, meta: dict[str, Any], metrics_markdown: str = "") -> str:
    """``model_card`` plus the LoRA section (base model, adapters, trainable parameters, decoding)."""
    lo = model.lora
    return model_card(model, meta, metrics_markdown) + (
        "\n## LoRA\n\n"
        f"- Base model: `{model.config.base_model}` (text form tokenised with its tokenizer)\n"
        f"- Adapters: r={lo['r']}, alpha={lo['alpha']}, dropout={lo['dropout']} on {', '.join(lo['target_modules'])}\n"
        f"- Trainable: {meta['trainable_parameters']:,} parameters (adapters, encoder, projector)\n"
        "- Decoding: unconstrained greedy text + parse (the grammar-masked decoder needs the CAD vocabulary)\n"
    )
