"""Perturbed training views: scanned / sampled parts seen through the pipeline's own intake."""

from __future__ import annotations

import pytest
import torch

from backend.cad.tokens import CadTokenizer
from backend.data.dataset import ProceduralDataset, collate, make_item, perturbation_of
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
def test_a_perturbed_view_is_what_the_pipeline_reads_and_keeps_the_design(kind: str) -> None:
    from backend.geometry.solid import program_to_mesh

    tok = CadTokenizer()
    seed = next(s for s in range(100) if perturbation_of(s, 1.0) == kind)
    program, mesh = generate(seed)
    vertices = mesh.vertices.copy()
    clean = make_item(seed, 512, tok, obs_len=256)
    item = perturbed_view(program, mesh, seed, kind, 512, tok, obs_len=256)
    assert item is not None and item["seed"] == seed and item["perturbed"] == kind
    assert (mesh.vertices == vertices).all()  # the generator's mesh is not modified
    assert item["points"].shape == (512, 6) and item["points"].dtype == torch.float32
    assert torch.allclose(item["points"][:, 3:].norm(dim=1), torch.ones(512), atol=1e-3)
    assert not torch.equal(item["points"], clean["points"])
    if kind == "scan":  # the noisy faces' normals: far fewer lie on an axis than the clean flat faces' do
        on_axis = lambda p: float((p[:, 3:].abs().max(dim=1).values > 1 - 1e-6).float().mean())  # noqa: E731
        assert on_axis(item["points"]) < 0.5 * on_axis(clean["points"])
    assert item["obs"].dtype == torch.int64 and 2 < len(item["obs"]) <= 256
    assert not torch.equal(item["obs"], clean["obs"][: len(item["obs"])]) or len(item["obs"]) != len(
        clean["obs"]
    )
    target = tok.decode(item["tokens"].tolist())  # the design, in the perturbed input's frame
    assert _structure(target) == _structure(program)
    # the target lies over the points the model reads (the frame's direction), within the noise
    lo, hi = item["points"][:, :3].min(dim=0).values.numpy(), item["points"][:, :3].max(dim=0).values.numpy()
    bounds = program_to_mesh(target).bounds
    assert abs(bounds[0] - lo).max() < 0.03 and abs(bounds[1] - hi).max() < 0.03


def test_a_part_whose_view_fails_stays_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    import backend.data.perturbed as perturbed

    def broken(*args, **kwargs):
        raise IndexError("a noisy section broke the slicer")

    monkeypatch.setattr(perturbed, "_view", broken)
    tok = CadTokenizer()
    program, mesh = generate(3)
    assert perturbed_view(program, mesh, 3, "scan", 64, tok, 16) is None  # never raises in a data worker
    item = make_item(3, 64, tok, obs_len=16, perturb_share=1.0)
    assert "perturbed" not in item and tok.decode(item["tokens"].tolist()) == program


def test_a_fully_perturbed_stream_is_made_of_perturbed_views() -> None:
    items = list(ProceduralDataset(n_points=128, num_samples=3, obs_len=32, perturb_share=1.0))
    clean = list(ProceduralDataset(n_points=128, num_samples=3, obs_len=32))
    assert [it["seed"] for it in items] == [it["seed"] for it in clean]
    assert all(not torch.equal(a["points"], b["points"]) for a, b in zip(items, clean))
    batch = collate(items)
    assert batch["perturbed"].tolist() == [True, True, True] and not collate(clean)["perturbed"].any()


def test_bad_perturbation_settings_are_refused() -> None:
    program, mesh = generate(0)
    with pytest.raises(ValueError, match="unknown perturbation 'rotate'"):
        perturbed_view(program, mesh, 0, "rotate", 64, CadTokenizer(), 0)
    with pytest.raises(ValueError, match="perturb_share"):
        ProceduralDataset(perturb_share=1.5)
