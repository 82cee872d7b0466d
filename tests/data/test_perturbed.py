"""Perturbed training views: scanned / sampled parts seen through the pipeline's own intake."""

from __future__ import annotations

import pytest
import torch

from backend.cad.program import Circle
from backend.cad.tokens import CadTokenizer
from backend.data.dataset import ProceduralDataset, make_item, perturbation_of
from backend.data.generator import generate
from backend.data.perturbed import PERTURBED_KINDS, perturbed_view


def test_the_share_and_kind_of_perturbed_parts_follow_the_seed() -> None:
    assert all(perturbation_of(s, 0.0) is None for s in range(50))
    assert all(perturbation_of(s, 1.0) in PERTURBED_KINDS for s in range(50))
    half = [perturbation_of(s, 0.5) for s in range(400)]
    assert half == [perturbation_of(s, 0.5) for s in range(400)]  # deterministic
    assert 150 <= sum(k is not None for k in half) <= 250
    assert {k for k in half if k is not None} == set(PERTURBED_KINDS)


def _structure(program) -> list[tuple]:
    return [
        (f.operation, f.sketch.plane.normal, [type(c) for p in f.sketch.profiles for c in p.outer.curves])
        for f in program.features
    ]


@pytest.mark.parametrize("kind", PERTURBED_KINDS)
def test_a_perturbed_view_keeps_the_design_and_changes_what_the_model_reads(kind: str) -> None:
    tok = CadTokenizer()
    seed = next(s for s in range(100) if perturbation_of(s, 1.0) == kind)
    program, mesh = generate(seed)
    vertices = mesh.vertices.copy()
    clean = make_item(seed, 512, tok, obs_len=64)
    item = perturbed_view(program, mesh, seed, kind, 512, tok, obs_len=64)
    assert item is not None and item["seed"] == seed
    assert (mesh.vertices == vertices).all()  # the generator's mesh is not modified
    assert item["points"].shape == (512, 6) and item["points"].dtype == torch.float32
    assert torch.allclose(item["points"][:, 3:].norm(dim=1), torch.ones(512), atol=1e-3)
    assert not torch.equal(item["points"], clean["points"])
    assert item["obs"].dtype == torch.int64 and 2 <= len(item["obs"]) <= 64
    target = tok.decode(item["tokens"].tolist())  # the design, in the perturbed input's frame
    assert _structure(target) == _structure(program)
    # numbers move by the noisy frame only: a few grid steps at most
    a = [
        c.radius
        for f in program.features
        for p in f.sketch.profiles
        for c in p.outer.curves
        if isinstance(c, Circle)
    ]
    b = [
        c.radius
        for f in target.features
        for p in f.sketch.profiles
        for c in p.outer.curves
        if isinstance(c, Circle)
    ]
    assert a == pytest.approx(b, abs=0.02)
    assert [f.extent.d1 for f in target.features] == pytest.approx(
        [f.extent.d1 for f in program.features], abs=0.02
    )


def test_a_fully_perturbed_stream_is_made_of_perturbed_views() -> None:
    items = list(ProceduralDataset(n_points=128, num_samples=3, obs_len=32, perturb_share=1.0))
    clean = list(ProceduralDataset(n_points=128, num_samples=3, obs_len=32))
    assert [it["seed"] for it in items] == [it["seed"] for it in clean]
    assert all(not torch.equal(a["points"], b["points"]) for a, b in zip(items, clean))


def test_bad_perturbation_settings_are_refused() -> None:
    program, mesh = generate(0)
    with pytest.raises(ValueError, match="unknown perturbation 'rotate'"):
        perturbed_view(program, mesh, 0, "rotate", 64, CadTokenizer(), 0)
    with pytest.raises(ValueError, match="perturb_share"):
        ProceduralDataset(perturb_share=1.5)
