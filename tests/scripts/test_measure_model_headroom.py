"""The headroom script's verdicts (a pure function over measured candidates)."""

from tests.scripts.load import load_script

headroom = load_script("measure_model_headroom")


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
