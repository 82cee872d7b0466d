"""The scan intake benchmark: each scan of a part timed through the mesh intake, with what it did."""

import sys

import trimesh

from tests.scripts.load import load_script

bench = load_script("benchmark_scan_intake")


def test_each_scan_is_timed_with_its_note(tmp_path, monkeypatch, capsys):
    trimesh.creation.box((1.0, 0.6, 0.4)).export(tmp_path / "box.stl")
    monkeypatch.setattr(
        sys, "argv", ["benchmark_scan_intake.py", str(tmp_path / "box.stl"), "--repeats", "1"]
    )
    bench.main()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "box scan",
        "box scan-from-above",
        "box scan-with-floaters",
    ]
    assert lines[0].endswith("nothing done")  # a few lost triangles: the seal's
    assert "1 hole in the surface filled" in lines[1]
    assert "8 small pieces floating away from the part left out" in lines[2]
