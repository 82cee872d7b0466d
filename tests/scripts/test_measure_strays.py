"""The strays script: a box's clouds give the bounds' margins, the strays found and none of its samples."""

import re
import sys

import trimesh

from tests.scripts.load import load_script

strays = load_script("measure_strays")


def test_a_boxs_clouds_are_measured(tmp_path, monkeypatch, capsys):
    trimesh.creation.box((1.0, 0.6, 0.4)).export(tmp_path / "box.stl")
    monkeypatch.setattr(sys, "argv", ["measure_strays.py", str(tmp_path), "--off-surface", "2", "1.5"])
    strays.main()
    out = capsys.readouterr().out
    far, off = (float(x) for x in re.search(r"at most ([0-9.]+) R .*, ([0-9.]+) R off", out).groups())
    assert 0.5 < far < 6.0 and 0.0 < off < 2.0  # within the bounds: the box's samples are kept
    assert float(re.search(r"6 R / 2 R: ([0-9.]+)%", out).group(1)) > 80.0
    assert "turned-points clouds: 0" in out
