"""The headroom script's verdicts (a pure function over measured candidates)."""

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "measure_model_headroom.py"
_spec = importlib.util.spec_from_file_location("measure_model_headroom", _PATH)
headroom = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(headroom)


def _item(source, loss, curves, overlap, chosen=False, features=1):
    return {
        "source": source,
        "loss": loss,
        "complexity": [curves, -features, features],  # rank.complexity: curves, -operations, features
        "features": features,
        "overlap": overlap,
        "chosen": chosen,
    }


def test_a_compact_tied_model_program_that_lost_the_volume_test_is_reported_as_such():
    items = [_item("section", 1.0, 8, 0.999, chosen=True), _item("model", 1.01, 5, 0.990)]
    assert headroom.verdict(items) == "tied, passed over on volume"


def test_verdicts_by_distance_and_the_loss_tie():
    chosen = _item("section", 1.0, 8, 0.999, chosen=True)
    assert headroom.verdict([chosen, _item("model", 1.01, 9, 0.999)]) == "tied, less compact"
    assert headroom.verdict([chosen, _item("model", 1.4, 5, 0.95)]) == "near (1.5x)"
    assert headroom.verdict([chosen, _item("model", 5.0, 5, 0.5)]) == "far"
    assert headroom.verdict([chosen]) == "far"
    assert headroom.verdict([_item("model", 1.0, 5, 0.99, chosen=True)]) == "model"
