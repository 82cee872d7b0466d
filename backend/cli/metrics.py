"""``python -m backend metrics PREDICTION GROUND_TRUTH``: CD x1000 and IoU as JSON (evaluation protocol)."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prediction", help="predicted mesh")
    parser.add_argument("ground_truth", help="ground-truth mesh")


def run(args: argparse.Namespace) -> int:
    """Print both normalisations: strict (the ground truth's frame) and own bounding box."""
    from backend.geometry.mesh_io import load_mesh
    from backend.geometry.metrics import evaluate_pair

    pred, gt = load_mesh(args.prediction), load_mesh(args.ground_truth)
    report = {}
    for name, strict in (("strict", True), ("own_bbox", False)):
        r = evaluate_pair(pred, gt, strict=strict)
        report[name] = {"cd_x1000": r["cd"] * 1000, "iou": r["iou"], "iou_method": r["iou_method"]}
    print(json.dumps(report, indent=1))
    return 0
