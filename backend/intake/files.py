"""Input files: the mesh files a list of paths names (files as given, folders expanded)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from backend.geometry.mesh_io import SUPPORTED_FORMATS


def collect_inputs(inputs: list[str]) -> list[Path]:
    """Files as given; folders -> their mesh files (direct children, sorted). Missing paths are kept
    so that they are reported as failures."""
    out: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            out += sorted(
                f for f in p.iterdir() if f.is_file() and f.suffix.lower().lstrip(".") in SUPPORTED_FORMATS
            )
        else:
            out.append(p)
    return out


def output_stems(paths: list[Path]) -> list[str]:
    """One output name per input, never shared: the file's stem when no other input has it, else
    stem + "_" + extension (``a.obj`` -> ``a_obj``); a "-2", "-3"... suffix settles what still collides."""
    stems = Counter(p.stem for p in paths)
    wanted = [p.stem if stems[p.stem] == 1 else f"{p.stem}_{p.suffix.lstrip('.').lower()}" for p in paths]
    repeats = Counter(wanted)
    reserved = {w for w in wanted if repeats[w] == 1}  # names that are someone's own, unshared
    out: list[str] = []
    used: set[str] = set()
    for w in wanted:
        name, k = w, 2
        while name in used or (name != w and name in reserved):
            name, k = f"{w}-{k}", k + 1
        used.add(name)
        out.append(name)
    return out
