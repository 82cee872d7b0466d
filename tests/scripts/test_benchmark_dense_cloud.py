"""The dense-cloud benchmark: a cloud over the work budget is read as a subsample, with its strays out."""

import re
import sys

import trimesh

from tests.scripts.load import load_script

bench = load_script("benchmark_dense_cloud")


def test_a_dense_cloud_with_strays_is_timed_and_scored(tmp_path, monkeypatch, capsys):
    trimesh.creation.box((1.0, 0.6, 0.4)).export(tmp_path / "box.stl")
    argv = ["benchmark_dense_cloud.py", str(tmp_path / "box.stl"), "--sizes", "20000", "--repeats", "1"]
    monkeypatch.setattr(sys, "argv", [*argv, "--strays"])
    bench.main()
    out = capsys.readouterr().out
    assert "20,200 samples" in out and "subsampled from" in out and "stray points" in out
    assert float(re.search(r"IoU ([0-9.]+)%", out).group(1)) > 95.0
