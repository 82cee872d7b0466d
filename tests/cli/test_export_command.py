"""``python -m backend export`` and ``reconstruct --format``: the files, their formats and the errors."""

from __future__ import annotations

import argparse

import pytest
import torch

from backend.cad.serialize import dumps
from backend.cli import main
from backend.cli import reconstruct as reconstruct_command
from backend.data.generator import generate
from tests.cad.programs import plate_with_hole
from tests.tiny_models import tiny_checkpoint

torch.set_num_threads(1)


@pytest.fixture
def program_file(tmp_path):
    path = tmp_path / "plate.json"
    path.write_text(dumps(plate_with_hole(), indent=1))
    return path


def test_export_cadquery_by_extension(program_file, tmp_path, capsys):
    out = tmp_path / "o" / "plate.py"
    assert main(["export", str(program_file), "--out", str(out)]) == 0
    assert "import cadquery as cq" in out.read_text()
    assert "CadQuery script, 3 features" in capsys.readouterr().out


def test_export_step_by_extension(program_file, tmp_path, capsys):
    pytest.importorskip("OCP")
    out = tmp_path / "plate.stp"
    assert main(["export", str(program_file), "--out", str(out)]) == 0
    assert out.read_text().startswith("ISO-10303-21;")
    assert "1 solid(s)" in capsys.readouterr().out


def test_export_a_folder_in_both_formats(program_file, tmp_path, capsys):
    pytest.importorskip("OCP")
    (tmp_path / "bad.json").write_text('{"format": "cadprog/1", "features": []}')
    out = tmp_path / "out"
    argv = ["export", str(tmp_path), "--out-dir", str(out), "--format", "step", "--format", "cadquery"]
    assert main(argv) == 1  # bad.json fails, plate.json exports
    printed = capsys.readouterr().out
    assert "FAILED" in printed and "2/4 exported" in printed
    assert (out / "plate.step").exists() and (out / "plate.py").exists()


def test_export_refuses_unknown_extension_and_several_programs_for_one_file(program_file, tmp_path, capsys):
    assert main(["export", str(program_file), "--out", str(tmp_path / "p.iges")]) == 2
    assert main(["export", str(program_file), str(program_file), "--out", str(tmp_path / "p.py")]) == 2
    assert "unknown extension" in capsys.readouterr().err


def test_reconstruct_format_writes_step_and_cadquery(tmp_path):
    pytest.importorskip("OCP")
    mesh = generate(1_000_000_001)[1]
    mesh.export(tmp_path / "part.stl")
    parser = argparse.ArgumentParser()
    reconstruct_command.add_arguments(parser)
    ckpt = str(tiny_checkpoint(tmp_path / "ckpt"))
    argv = [str(tmp_path / "part.stl"), "--out-dir", str(tmp_path / "out"), "--checkpoint", ckpt]
    argv += ["--candidates", "1", "--no-refine", "--format", "step", "--format", "cadquery"]
    assert reconstruct_command.run(parser.parse_args(argv)) == 0
    for suffix in (".json", ".stl", ".txt", ".step", ".py"):
        assert (tmp_path / "out" / f"part{suffix}").exists(), suffix
