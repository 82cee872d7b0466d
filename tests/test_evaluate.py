import argparse
import json

import torch

from backend import evaluate
from backend.cli import evaluate as evaluate_command
from backend.data.generator import generate
from tests.tiny_models import tiny_checkpoint

torch.set_num_threads(1)


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    evaluate_command.add_arguments(parser)
    return parser.parse_args(argv)


def test_evaluate_synthetic_writes_results(tmp_path):
    ckpt = str(tiny_checkpoint(tmp_path / "ckpt"))
    out = tmp_path / "eval"
    argv = ["--synthetic", "3", "--checkpoint", ckpt, "--candidates", "2", "--out", str(out)]
    assert evaluate_command.run(_args(argv)) == 0
    report = json.loads((out / "results.json").read_text())
    assert len(report["parts"]) == 3
    summary = report["summary"]
    assert set(summary) >= {evaluate.PIPELINE, evaluate.MODEL_ONLY, evaluate.REFERENCE, "ground truth"}
    pipe = summary[evaluate.PIPELINE]
    assert pipe["n"] == 3 and pipe["invalid_ratio"] == 0.0
    assert pipe["cd_x1000_median"] is not None and pipe["iou_mean"] > 0.5
    assert pipe["features_mean"] >= 1
    md = (out / "results.md").read_text()
    assert "| pipeline |" in md and "section reference" in md
    assert (out / "sheet.png").stat().st_size > 0


def test_evaluate_meshes_with_index_gives_bucket_tables(tmp_path):
    folder = tmp_path / "meshes"
    folder.mkdir()
    rows = ["model\tbucket\tn_sketches\tn_extrudes\thas_nurbs"]
    for k, seed in enumerate((1_000_000_001, 1_000_000_002)):
        generate(seed)[1].export(folder / f"m{k}.stl")
        rows.append(f"m{k}\t0{k + 1}_ops\t1\t1\t0")
    (folder / "INDEX.tsv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "eval"
    argv = ["--meshes", str(folder), "--limit", "2", "--no-sections", "--candidates", "0", "--out", str(out)]
    assert evaluate_command.run(_args(argv)) == 0
    report = json.loads((out / "results.json").read_text())
    assert set(report["buckets"]) == {"01_ops", "02_ops"}
    assert evaluate.MODEL_ONLY not in report["summary"]  # sections off: the pipeline is the model's row
    assert "By complexity bucket" in (out / "results.md").read_text()
