"""The scans' margins to the scan intake's bounds: widest rim, farthest small piece, scans changed."""

import sys

import trimesh

from backend.geometry.perturb import scan, scan_from_above
from tests.scripts.load import load_script

measure = load_script("measure_scan_rims")


def test_a_scanned_box_is_measured_within_the_bounds(tmp_path, monkeypatch, capsys):
    trimesh.creation.box((1.0, 0.6, 0.4)).export(tmp_path / "box.stl")
    monkeypatch.setattr(sys, "argv", ["measure_scan_rims.py", str(tmp_path)])
    assert measure.main() == 0
    out = capsys.readouterr().out
    assert "2 scans and turned scans of 1 parts" in out
    rim = float(out.split("widest rim of lost triangles: ")[1].split()[0])
    assert 1.0 < rim < 6.0  # a few lost triangles: narrower than what is covered
    assert "scans whose fitted mesh the intake changed (a hole covered, a piece left out): 0" in out


def test_a_wide_hole_and_a_far_speck_are_seen():
    box = trimesh.creation.box((1.0, 0.6, 0.4))
    assert measure.widest_rim(scan_from_above(box, 0)) > 20  # the lost underside
    speck = trimesh.creation.icosphere(radius=0.01).apply_translation((2.0, 0.0, 0.0))
    assert measure.farthest_small_piece(trimesh.util.concatenate([scan(box, 0), speck])) > 1.0
