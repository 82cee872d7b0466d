"""Write a model folder (``save_pretrained``, with model card) from a training run's ``checkpoint.pt``.

    .venv/bin/python scripts/export_run_checkpoint.py RUN OUT --like FOLDER [--observe M]

``train`` writes ``RUN/model/`` only at the end of a run; this exports the periodic checkpoint of a run
that was stopped early, so that another run can start from it (``train --init-from OUT``). The model's
sizes come from the saved model folder ``--like`` (the one the run started from), with ``--observe``
observation tokens; weights missing from the checkpoint keep their fresh initialisation (listed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path, help="training run folder (holds checkpoint.pt)")
    p.add_argument("out", type=Path, help="model folder to write")
    p.add_argument("--like", type=Path, required=True, help="saved model folder with the run's sizes")
    p.add_argument("--observe", type=int, default=None, help="observation tokens (default: as --like)")
    args = p.parse_args()

    import torch

    from backend.cad.tokens import CadTokenizer
    from backend.model.cad_model import CadModel, ModelConfig
    from backend.model.checkpoint import CONFIG_FILE, save_pretrained
    from backend.model.unmask_model import UnmaskModel
    from backend.train import CHECKPOINT_FILE, load_state

    saved = json.loads((args.like / CONFIG_FILE).read_text())
    fields = dict(saved.get("model", saved))
    if args.observe is not None:
        fields["n_obs_tokens"] = args.observe
    config = ModelConfig.from_dict(fields)
    tok = CadTokenizer()
    model = UnmaskModel(config, mask_id=tok.mask_id) if config.objective == "unmask" else CadModel(config)
    state = load_state(args.run / CHECKPOINT_FILE, torch.device("cpu"))
    missing = model.load_state_dict(state["model"], strict=False).missing_keys
    meta = {k: state[k] for k in ("step", "tokens_seen", "samples_seen") if k in state}
    meta |= {"steps": state.get("step"), "wall_time_s": round(float(state.get("elapsed", 0.0)), 1)}
    save_pretrained(model, tok, args.out, meta={**meta, "exported_from": str(args.run)})
    print(
        f"{args.out}: step {state.get('step')}"
        + (f"; fresh (not in the checkpoint): {missing}" if missing else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
