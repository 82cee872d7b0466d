"""Issue 13 rows 7, 9, 10, 15 (CLI): flags are refused up front naming the flag; two inputs never write
the same file; an input whose outputs cannot all be written leaves none of them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch
import trimesh

from backend.cli import build_parser
from backend.cli import reconstruct as reconstruct_command
from backend.intake.files import output_stems
from tests.tiny_models import tiny_checkpoint

torch.set_num_threads(1)

BAD_FLAGS = [
    # (row, flag, value, words of the error)
    ("7", "--temperature", "1e-40", "must be 0 (greedy) or between 0.001 and 2"),
    ("15", "--temperature", "nan", "must be a finite number"),
    ("15", "--temperature", "3", "must be 0 (greedy) or between"),
    ("15", "--top-p", "0", "must be between 0.001 and 1"),
    ("15", "--candidates", "-3", "must be between 0 and 64"),
    ("15", "--candidates", "2.5", "must be a whole number"),
    ("15", "--seed", "-1", "must be between 0 and 2,147,483,647"),
    ("15", "--steps", "0", "must be between 1 and 1,024"),
    ("15", "--decode-budget", "-1", "must be between 0 (no budget) and 600 s"),
    ("15", "--decode-budget", "inf", "must be a finite number"),
    ("15", "--threads", "0", "must be between 1 and 256"),
]


@pytest.mark.parametrize(
    ("row", "flag", "value", "words"), BAD_FLAGS, ids=[f"{b[1]} {b[2]}" for b in BAD_FLAGS]
)
def test_bad_flag_refused_before_any_file_is_read(capsys, row, flag, value, words):
    argv = ["reconstruct", "/nonexistent/input.stl", "--out-dir", "/nonexistent/out", flag, value]
    with pytest.raises(SystemExit) as exc:
        build_parser(argv).parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}" in err and words in err, err


def test_output_names_never_collide():
    names = output_stems([Path("a.obj"), Path("a.stl"), Path("a_2.stl"), Path("x/b.stl"), Path("y/b.stl")])
    assert names == ["a_obj", "a_stl", "a_2", "b_stl", "b_stl-2"]
    tricky = [Path("x/a.stl"), Path("y/a.stl"), Path("a_stl.obj"), Path("a_stl-2.obj")]
    assert len(set(output_stems(tricky))) == len(tricky)


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    reconstruct_command.add_arguments(parser)
    return parser.parse_args(argv)


def test_folder_with_clashing_names_and_an_unwritable_output(tmp_path, capsys):
    """a.obj, a.stl and a_2.stl give three sets of files (row 9); a folder named like one output makes
    that input fail with none of its files left behind, and the others still written (row 10)."""
    ckpt = str(tiny_checkpoint(tmp_path / "ckpt"))
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    box = trimesh.creation.box((2.0, 1.0, 0.5))
    for name in ("a.obj", "a.stl", "a_2.stl", "c.stl"):
        box.export(inputs / name)
    (out / "c.stl").mkdir(parents=True)  # c's mesh output cannot be written
    argv = [str(inputs), "--out-dir", str(out), "--checkpoint", ckpt, "--candidates", "0", "--no-refine"]
    assert reconstruct_command.run(_args(argv)) == 0
    printed = capsys.readouterr().out
    assert "3/4 reconstructed" in printed and "a folder has that name" in printed
    for stem in ("a_obj", "a_stl", "a_2"):
        assert all((out / f"{stem}{ext}").is_file() for ext in (".json", ".stl", ".txt")), stem
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("c")) == ["c.stl"]  # the folder only
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_threads_flag_reaches_the_reconstructor(tmp_path, monkeypatch):
    import backend.reconstruct as reconstruct_module

    seen = {}

    class Recording(reconstruct_module.Reconstructor):
        def __init__(self, *a, threads=None, **k):
            seen["threads"] = threads
            raise RuntimeError("stop after construction")

    monkeypatch.setattr(reconstruct_module, "Reconstructor", Recording)
    argv = ["evaluate", "--synthetic", "1", "--threads", "2", "--out", str(tmp_path)]
    args = build_parser(argv).parse_args(argv)
    with pytest.raises(RuntimeError, match="stop after construction"):
        args.func(args)
    assert seen["threads"] == 2
