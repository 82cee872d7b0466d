"""Input files: the mesh files a list of paths names (files as given, folders expanded)."""

from __future__ import annotations

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
