"""The procedural generator: deterministic, valid, canonical, normalised, varied."""

from __future__ import annotations

import numpy as np
import pytest

from backend.cad.canonical import canonicalize
from backend.cad.program import ExtentKind, Operation
from backend.cad.text import program_to_text, program_to_words, text_to_program
from backend.cad.validate import validate
from backend.data.generator import generate, generate_program
from backend.data.stats import program_stats
from backend.geometry.solid import program_to_mesh

N_CHECKED = 200
N_DISTRIBUTION = 300


@pytest.fixture(scope="module")
def parts() -> list:
    return [generate(seed) for seed in range(N_DISTRIBUTION)]


def _has_slivers(mesh, tol: float = 1e-9) -> bool:
    """Axis-facing faces on distinct but nearly equal planes: faces meant to coincide are apart by round-off."""
    for a in range(3):
        facing = np.abs(mesh.face_normals[:, a]) > 0.999
        d = np.diff(np.unique(mesh.vertices[mesh.faces[facing]][:, :, a]))
        if np.any((d > 0) & (d < tol)):
            return True
    return False


def test_deterministic_per_seed() -> None:
    for seed in (0, 7, 123456):
        p1, m1 = generate(seed)
        p2, m2 = generate(seed)
        assert p1 == p2 and generate_program(seed) == p1
        assert np.array_equal(m1.vertices, m2.vertices) and np.array_equal(m1.faces, m2.faces)
    assert generate_program(1) != generate_program(2)


def test_parts_valid_canonical_normalised(parts) -> None:
    for seed, (program, mesh) in enumerate(parts[:N_CHECKED]):
        validate(program)
        assert canonicalize(program) == program, seed
        text = program_to_text(program)
        assert text_to_program(text) == program, seed
        assert program_to_text(text_to_program(text)) == text
        numbers = [float(w) for w in program_to_words(program) if w[0] in "-0123456789"]
        assert all(-1.0 <= v <= 1.0 for v in numbers)
        assert mesh.is_watertight and mesh.volume > 0, seed
        lo, hi = mesh.bounds
        assert abs(float((hi - lo).max()) - 1.0) < 0.011, seed
        assert np.abs(lo + hi).max() < 0.02, seed
        assert not _has_slivers(mesh), seed


def test_mesh_matches_rebuild(parts) -> None:
    from backend.geometry.solid import input_scale

    for program, mesh in parts[:40]:  # the part's mesh is its program's solid, tessellated as an input
        rebuilt = program_to_mesh(program, input_scale(program))
        assert rebuilt.volume == pytest.approx(mesh.volume, rel=1e-9)


def test_distribution_covers_everything(parts) -> None:
    programs = [p for p, _ in parts]
    ops = {f.operation for p in programs for f in p.features}
    kinds = {f.extent.kind for p in programs for f in p.features}
    assert ops == set(Operation) - {Operation.NEW} | {Operation.NEW}
    assert kinds == set(ExtentKind)
    stats = program_stats(programs)
    mix = stats["curve_mix"]
    assert 0.5 < mix["line"] < 0.8 and 0.15 < mix["arc"] < 0.4 and 0.02 < mix["circle"] < 0.15
    assert set(stats["plane_normals"]) == {"x", "y", "z"}
    feats = stats["features_per_part"]
    assert feats["median"] <= 2 and feats["max"] >= 5
    assert stats["profiles_per_sketch"]["max"] >= 2
    assert 0.04 < stats["extent_mix"]["symmetric"] < 0.15
