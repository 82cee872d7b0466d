import argparse
import json

import numpy as np
import torch

from backend.cad.serialize import loads
from backend.cad.text import text_to_program
from backend.cli import reconstruct as reconstruct_command
from backend.data.generator import generate
from backend.geometry.mesh_io import load_mesh
from backend.geometry.normalize import Frame
from tests.tiny_models import tiny_checkpoint

torch.set_num_threads(1)


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    reconstruct_command.add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_writes_three_files_per_input_and_survives_a_bad_file(tmp_path, capsys):
    ckpt = str(tiny_checkpoint(tmp_path / "ckpt"))
    inputs = tmp_path / "in"
    inputs.mkdir()
    for seed in (1_000_000_001, 1_000_000_003):
        mesh = generate(seed)[1].copy()
        mesh.apply_scale(25.0)
        mesh.apply_translation([10.0, 20.0, 30.0])
        mesh.export(inputs / f"part_{seed}.stl")
    (inputs / "broken.stl").write_text("not a mesh")
    (inputs / "notes.txt").write_text("ignored: not a mesh format")
    out = tmp_path / "out"
    argv = [str(inputs), "--out-dir", str(out), "--checkpoint", ckpt, "--candidates", "2", "--no-refine"]
    assert reconstruct_command.run(_args(argv)) == 0
    printed = capsys.readouterr().out
    assert "2/3 reconstructed" in printed and "broken.stl" in printed
    for seed in (1_000_000_001, 1_000_000_003):
        stem = out / f"part_{seed}"
        program = loads((stem.with_suffix(".json")).read_text())
        rebuilt = load_mesh(stem.with_suffix(".stl"))
        source = load_mesh(inputs / f"part_{seed}.stl")
        assert np.abs(rebuilt.bounds - source.bounds).max() < 0.03 * source.extents.max()
        text = stem.with_suffix(".txt").read_text()
        header = text.splitlines()[0]
        assert header.startswith("# frame scale=")
        scale = float(header.split("scale=")[1].split()[0])
        translation = tuple(float(v) for v in header.split("translation=")[1].split())
        normalised = text_to_program(text)
        frame = Frame(scale, translation)
        assert len(frame.program_to_input(normalised).features) == len(program.features)
        json.loads(stem.with_suffix(".json").read_text())


def test_cli_fails_only_when_nothing_succeeds(tmp_path):
    bad = tmp_path / "bad.obj"
    bad.write_text("v 0 0 0\n")
    argv = [str(bad), str(tmp_path / "missing.stl"), "--out-dir", str(tmp_path / "o"), "--no-sections"]
    assert reconstruct_command.run(_args(argv)) != 0


def test_a_program_beyond_the_text_s_range_still_writes_all_three_files(tmp_path):
    """A reconstruction may reach past [-1, 1] of the normalised part (a trim cut through the input and a
    larger candidate, 1.21 long on a real part): the text form cannot hold it, and that must not cost the
    reconstruction. The JSON and the STL are written; the text says why it has no program."""
    from backend.cad.program import Extent, ExtentKind, Operation, Profile, Program
    from backend.decode.autoregressive import DecodeStats
    from backend.geometry.solid import program_to_mesh
    from backend.reconstruct import ReconstructResult
    from tests.cad.programs import feat, rect

    long_cut = Extent(ExtentKind.ONE_SIDE, 1.2)
    base = feat(Profile(rect(-0.5, -0.5, 0.5, 0.5)))
    program = Program((base, feat(Profile(rect(-0.1, -0.1, 0.1, 0.1)), extent=long_cut, op=Operation.CUT)))
    result = ReconstructResult(
        program=program,
        program_normalized=program,
        frame=Frame(1.0, (0.0, 0.0, 0.0)),
        mesh=program_to_mesh(program),
        scores={},
        source="section",
        n_features=2,
        n_curves=8,
        stats=DecodeStats(),
    )
    paths = reconstruct_command.write_outputs(result, tmp_path, "part")
    assert sorted(p.name for p in paths) == ["part.json", "part.stl", "part.txt"]
    assert loads((tmp_path / "part.json").read_text()) == program
    lines = (tmp_path / "part.txt").read_text().splitlines()
    assert lines[0].startswith("# frame scale=") and "outside the token range" in lines[1]


def test_cli_says_when_an_open_export_was_filled(tmp_path, capsys):
    import trimesh

    box = trimesh.creation.box((30.0, 20.0, 10.0))
    open_box = trimesh.Trimesh(box.vertices, box.faces[1:], process=False)  # one triangle lost
    path = tmp_path / "open_box.stl"
    open_box.export(path)
    argv = [
        str(path),
        "--out-dir",
        str(tmp_path / "out"),
        "--candidates",
        "0",
        "--no-refine",
        "--fixed-budgets",
    ]
    assert reconstruct_command.run(_args(argv)) == 0
    printed = capsys.readouterr().out
    assert "note: 1 hole in the surface filled for fitting and scoring (closed)" in printed
    assert "IoU 1.000" in printed
