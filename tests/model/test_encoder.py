"""Point encoder: shapes, farthest-point sampling, kNN grouping."""

from __future__ import annotations

import pytest
import torch

from backend.model.encoder import PointEncoder, farthest_point_sample, gather, knn

torch.set_num_threads(1)


def test_encoder_shapes() -> None:
    torch.manual_seed(0)
    enc = PointEncoder(n_tokens=8, out_dim=24, n_centroids=32, k1=8, k2=4, width=16)
    out = enc(torch.randn(3, 128, 6))
    assert out.shape == (3, 8, 24)
    assert torch.isfinite(out).all()


def test_encoder_is_permutation_invariant() -> None:
    torch.manual_seed(0)
    enc = PointEncoder(n_tokens=4, out_dim=8, n_centroids=16, k1=8, k2=4, width=8).eval()
    pts = torch.randn(1, 64, 6)
    perm = torch.randperm(64)
    a, b = enc(pts), enc(pts[:, perm])
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_fps_distinct_and_covers_extent() -> None:
    torch.manual_seed(0)
    xyz = torch.rand(2, 500, 3) * torch.tensor([4.0, 1.0, 0.5])
    idx = farthest_point_sample(xyz, 40)
    assert idx.shape == (2, 40)
    for row, pts in zip(idx, xyz):
        assert len(set(row.tolist())) == 40
        picked = pts[row]
        # the picks span (almost) the whole bounding box ...
        span = picked.amax(0) - picked.amin(0)
        assert (span > 0.8 * (pts.amax(0) - pts.amin(0))).all()
        # ... and every point is close to some pick (much closer than random subsets manage)
        cover = torch.cdist(pts, picked).amin(1).max()
        rand_cover = torch.cdist(pts, pts[torch.randperm(500)[:40]]).amin(1).max()
        assert cover < rand_cover


def test_fps_all_points_and_too_many() -> None:
    xyz = torch.randn(1, 10, 3)
    assert sorted(farthest_point_sample(xyz, 10)[0].tolist()) == list(range(10))
    with pytest.raises(ValueError):
        farthest_point_sample(xyz, 11)


def test_knn_matches_brute_force() -> None:
    torch.manual_seed(1)
    xyz = torch.randn(2, 30, 3)
    query = torch.randn(2, 5, 3)
    idx = knn(query, xyz, 4)
    assert idx.shape == (2, 5, 4)
    for b in range(2):
        for m in range(5):
            d = [float(((xyz[b, j] - query[b, m]) ** 2).sum()) for j in range(30)]
            expected = sorted(range(30), key=lambda j: d[j])[:4]
            assert sorted(idx[b, m].tolist()) == sorted(expected)


def test_gather() -> None:
    x = torch.arange(24.0).reshape(2, 4, 3)
    idx = torch.tensor([[[3, 0]], [[1, 1]]])
    out = gather(x, idx)
    assert out.shape == (2, 1, 2, 3)
    assert torch.equal(out[0, 0, 0], x[0, 3]) and torch.equal(out[1, 0, 1], x[1, 1])
