"""What the intake makes of parts wound inwards, both ways, or left as overlapping pieces."""

import sys

import trimesh

from tests.scripts.load import load_script

measure = load_script("measure_outward")


def test_an_l_bracket_comes_back_closed_outward_and_whole(tmp_path, monkeypatch, capsys):
    bracket = trimesh.boolean.union(
        [
            trimesh.creation.box((3.0, 1.0, 0.5)),
            trimesh.creation.box((0.5, 1.0, 2.0)).apply_translation((1.25, 0.0, 0.75)),
        ],
        engine="manifold",
    )
    bracket.export(tmp_path / "bracket.stl")
    monkeypatch.setattr(sys, "argv", ["measure_outward.py", str(tmp_path)])
    assert measure.main() == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        "as exported: 1 meshes, 0 changed, 1 closed and outward, volume within 0.00e+00"
    )
    for kind, line in zip(measure.KINDS[1:], lines[1:], strict=True):
        assert line.startswith(f"{kind}: 1 meshes, 1 changed, 1 closed and outward"), line
        assert float(line.split("volume within ")[1].split()[0]) < 1e-9
