"""The command line, end to end on real files (each command through backend.cli.main)."""

import json
from pathlib import Path

import pytest

from backend.cli import main

REALPARTS = Path(__file__).resolve().parents[1].parent / "shared" / "realparts" / "json_fusion360"


def test_generate_rebuild_metrics(tmp_path, capsys):
    out = tmp_path / "parts"
    assert main(["generate", "--n", "2", "--seed", "5", "--out", str(out)]) == 0
    assert (out / "contact_sheet.png").stat().st_size > 1000
    program = out / "part_000005.json"
    assert json.loads(program.read_text())["format"] == "cadprog/1"
    assert (out / "part_000005.txt").read_text().startswith("extrude new")
    rebuilt = tmp_path / "rebuilt.stl"
    assert main(["rebuild", str(program), "--out", str(rebuilt)]) == 0
    capsys.readouterr()
    assert main(["metrics", str(rebuilt), str(out / "part_000005.stl")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["strict"]["iou"] > 0.99 and report["strict"]["cd_x1000"] < 1.0


def test_stats_prints_the_distribution(capsys):
    assert main(["stats", "--n", "20"]) == 0
    assert "token length" in capsys.readouterr().out


@pytest.mark.skipif(not REALPARTS.is_dir(), reason=f"no real JSON files at {REALPARTS}")
def test_import_writes_a_program(tmp_path):
    source = sorted(REALPARTS.glob("*.json"))[0]
    target = tmp_path / "program.json"
    assert main(["import", str(source), "--out", str(target)]) == 0
    assert json.loads(target.read_text())["features"]


def test_bad_input_is_a_clear_error_not_a_crash(tmp_path, capsys):
    assert main(["rebuild", str(tmp_path / "missing.json"), "--out", str(tmp_path / "x.stl")]) == 2
    assert "missing.json" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "cadprog/1", "features": [{"operation": "merge"}]}')
    assert main(["rebuild", str(bad), "--out", str(tmp_path / "x.stl")]) == 2
    assert "unknown operation 'merge'" in capsys.readouterr().err
