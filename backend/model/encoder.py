"""PointNet++-style set-abstraction encoder in plain torch.

Points with normals ``(B, N, 6)`` -> a short sequence of feature tokens ``(B, T, out_dim)``.
Two set-abstraction levels (farthest-point sampling, kNN grouping, a shared MLP on
``[relative xyz, features]``, max-pool over each group); the second level's centroids are
the output tokens, each with a learned embedding of its position added.
"""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def farthest_point_sample(xyz: torch.Tensor, m: int) -> torch.Tensor:
    """Indices ``(B, m)`` of ``m`` distinct points picked by farthest-point sampling from ``xyz`` (B, N, 3).

    Deterministic: starts from the point farthest from the centroid; vectorised over the batch.
    """
    b, n, _ = xyz.shape
    if m > n:
        raise ValueError(f"cannot sample {m} of {n} points")
    idx = torch.empty(b, m, dtype=torch.long, device=xyz.device)
    rows = torch.arange(b, device=xyz.device)
    dist = torch.full((b, n), float("inf"), device=xyz.device, dtype=xyz.dtype)
    far = ((xyz - xyz.mean(1, keepdim=True)) ** 2).sum(-1).argmax(-1)
    for i in range(m):
        idx[:, i] = far
        d = ((xyz - xyz[rows, far][:, None]) ** 2).sum(-1)
        dist = torch.minimum(dist, d)
        far = dist.argmax(-1)
    return idx


def gather(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``x`` (B, N, C) indexed by ``idx`` (B, ...) -> (B, ..., C)."""
    b = x.shape[0]
    flat = idx.reshape(b, -1)
    out = torch.gather(x, 1, flat[..., None].expand(-1, -1, x.shape[-1]))
    return out.reshape(*idx.shape, x.shape[-1])


@torch.no_grad()
def knn(query: torch.Tensor, xyz: torch.Tensor, k: int) -> torch.Tensor:
    """Indices ``(B, M, k)`` of the ``k`` nearest points of ``xyz`` (B, N, 3) to each ``query`` (B, M, 3)."""
    return torch.cdist(query, xyz).topk(k, dim=-1, largest=False).indices


def mlp(sizes: list[int]) -> nn.Sequential:
    """Shared MLP (pointwise linear layers with LayerNorm + GELU between)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers += [nn.LayerNorm(b), nn.GELU()]
    return nn.Sequential(*layers)


class SetAbstraction(nn.Module):
    """FPS ``m`` centroids, group ``k`` nearest neighbours, shared MLP, max-pool."""

    def __init__(self, m: int, k: int, in_dim: int, sizes: list[int]) -> None:
        super().__init__()
        self.m, self.k = m, k
        self.mlp = mlp([in_dim + 3, *sizes])

    def forward(self, xyz: torch.Tensor, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        centre_idx = farthest_point_sample(xyz, self.m)
        centres = gather(xyz, centre_idx)  # (B, m, 3)
        group_idx = knn(centres, xyz, self.k)  # (B, m, k)
        rel = gather(xyz, group_idx) - centres[:, :, None]
        grouped = torch.cat([rel, gather(feats, group_idx)], dim=-1)
        return centres, self.mlp(grouped).amax(dim=2)


class PointEncoder(nn.Module):
    """(B, N, 6) points + normals -> (B, n_tokens, out_dim) feature tokens."""

    def __init__(
        self,
        n_tokens: int = 32,
        out_dim: int = 256,
        n_centroids: int = 256,
        k1: int = 32,
        k2: int = 16,
        width: int = 128,
    ) -> None:
        super().__init__()
        self.n_tokens = n_tokens
        self.sa1 = SetAbstraction(n_centroids, k1, 3, [width // 2, width // 2, width])
        self.sa2 = SetAbstraction(n_tokens, k2, width, [width, 2 * width])
        self.pos = nn.Sequential(nn.Linear(3, width), nn.GELU(), nn.Linear(width, 2 * width))
        self.out = nn.Sequential(nn.LayerNorm(2 * width), nn.Linear(2 * width, out_dim))

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        xyz, normals = points[..., :3].contiguous(), points[..., 3:6].contiguous()
        c1, f1 = self.sa1(xyz, normals)
        c2, f2 = self.sa2(c1, f1)
        return self.out(f2 + self.pos(c2))
