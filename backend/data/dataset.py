"""Torch dataset of procedural parts: surface points (xyz + normal) -> program tokens.

Seeds are the only state: item ``i`` of shard ``k`` (of ``K`` = DataLoader workers x
distributed ranks) is seed ``seed_start + (k + i * K) * seed_stride``. Training seeds
start at ``TRAIN_SEED_START`` and never reach ``EVAL_SEED_START``; held-out evaluation
parts are ``eval_seeds(n)``; rich training parts are drawn from sub-seeds at ``RICH_SEED_START`` and up.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import trimesh
from torch.utils.data import IterableDataset, get_worker_info

from backend.cad.program import Program
from backend.cad.tokens import CadTokenizer
from backend.data.generator import generate
from backend.data.perturbed import PERTURBED_KINDS, perturbed_view
from backend.geometry.sampling import sample_surface

TRAIN_SEED_START = 0
EVAL_SEED_START = 10**9  # training never reaches it
DEFAULT_MAX_TOKENS = 1024
_POINT_SALT = 0x5EED  # points use their own stream, (seed, salt), independent of the generator's
_PERTURB_SALT = 0x5CA7  # whether (and how) a part is perturbed: a stream of its own too
_RICH_SALT = 0x71C4  # whether a part is drawn rich: a stream of its own as well
RICH_DRAWS = 4  # a rich part is the one with the most features of this many draws
RICH_SEED_START = 2 * EVAL_SEED_START  # their sub-seeds: beyond every training and held-out seed


def eval_seeds(n: int) -> list[int]:
    """The first n held-out evaluation seeds."""
    return list(range(EVAL_SEED_START, EVAL_SEED_START + n))


def sample_points(mesh, n_points: int, seed: int) -> np.ndarray:
    """(n_points, 6) float32: area-uniform surface points and their face normals, deterministic per seed."""
    pts, normals = sample_surface(mesh, n_points, np.random.default_rng([seed, _POINT_SALT]))
    return np.concatenate([pts, normals], axis=1).astype(np.float32)


def perturbation_of(seed: int, perturb_share: float) -> str | None:
    """The perturbation part ``seed`` is seen through (``data.perturbed``), or None (clean): a share
    ``perturb_share`` of the parts, split evenly between the kinds; deterministic per seed."""
    if perturb_share <= 0:
        return None
    rng = np.random.default_rng([seed, _PERTURB_SALT])
    if rng.random() >= perturb_share:
        return None
    return PERTURBED_KINDS[int(rng.integers(len(PERTURBED_KINDS)))]


def is_rich(seed: int, rich_share: float) -> bool:
    """Whether training part ``seed`` is drawn rich (``training_part``): a share ``rich_share`` of the
    seeds, deterministic per seed."""
    return rich_share > 0 and np.random.default_rng([seed, _RICH_SALT]).random() < rich_share


def training_part(seed: int, rich_share: float = 0.0) -> tuple[Program, trimesh.Trimesh]:
    """The (program, mesh) training seed ``seed`` stands for: ``generate(seed)``, or, for a share
    ``rich_share`` of the seeds, the draw with the most features among ``RICH_DRAWS`` sub-seeds (the
    generator draws one feature on half its parts; real designs have more)."""
    return _part(seed, is_rich(seed, rich_share))


def _part(seed: int, rich: bool) -> tuple[Program, trimesh.Trimesh]:
    if not rich:
        return generate(seed)
    draws = [generate(RICH_SEED_START + seed * RICH_DRAWS + j) for j in range(RICH_DRAWS)]
    return max(draws, key=lambda draw: len(draw[0].features))  # the first of equals


def make_item(
    seed: int,
    n_points: int,
    tokenizer: CadTokenizer,
    obs_len: int = 0,
    perturb_share: float = 0.0,
    rich_share: float = 0.0,
) -> dict:
    """One example: {"points": (n_points, 6) float32, "tokens": int64 ids, "seed": int}, and with
    ``obs_len`` > 0 "obs": the mesh's observation ids (``backend.sections.observe``, at most obs_len).
    With ``perturb_share`` > 0 that share of the parts is seen scanned or sampled through the pipeline's
    intake (``perturbation_of``, ``data.perturbed.perturbed_view``; clean when that view is unusable);
    with ``rich_share`` > 0 that share is drawn rich (``training_part``; "rich": True)."""
    drawn_rich = is_rich(seed, rich_share)
    program, mesh = _part(seed, drawn_rich)
    rich = {"rich": True} if drawn_rich else {}
    kind = perturbation_of(seed, perturb_share)
    if kind is not None:
        item = perturbed_view(program, mesh, seed, kind, n_points, tokenizer, obs_len)
        if item is not None:
            return item | rich
    item = {
        "points": torch.from_numpy(sample_points(mesh, n_points, seed)),
        "tokens": torch.tensor(tokenizer.encode(program), dtype=torch.int64),
        "seed": seed,
    }
    if obs_len > 0:
        from backend.sections.observe import observation_ids

        item["obs"] = torch.tensor(observation_ids(mesh, tokenizer, obs_len), dtype=torch.int64)
    return item | rich


class ProceduralDataset(IterableDataset):
    """Endless (or ``num_samples``-long) stream of procedural examples, split across workers and ranks.

    Programs longer than ``max_tokens`` (BOS and EOS included) are skipped. ``num_samples``
    counts seeds (not yielded items) over all shards together.
    """

    def __init__(
        self,
        seed_start: int = TRAIN_SEED_START,
        seed_stride: int = 1,
        n_points: int = 2048,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        num_samples: int | None = None,
        rank: int = 0,
        world_size: int = 1,
        obs_len: int = 0,
        perturb_share: float = 0.0,
        rich_share: float = 0.0,
    ) -> None:
        super().__init__()
        if seed_stride < 1 or world_size < 1 or not 0 <= rank < world_size:
            raise ValueError("need seed_stride >= 1 and 0 <= rank < world_size")
        self.seed_start, self.seed_stride = seed_start, seed_stride
        self.n_points, self.max_tokens, self.num_samples = n_points, max_tokens, num_samples
        self.rank, self.world_size = rank, world_size
        self.obs_len = obs_len
        if not 0.0 <= perturb_share <= 1.0:
            raise ValueError(f"perturb_share must lie in [0, 1], got {perturb_share}")
        self.perturb_share = perturb_share
        if not 0.0 <= rich_share <= 1.0:
            raise ValueError(f"rich_share must lie in [0, 1], got {rich_share}")
        self.rich_share = rich_share
        self.tokenizer = CadTokenizer()

    def shard(self) -> tuple[int, int]:
        """(this shard's index, number of shards) from the DataLoader worker and the distributed rank."""
        info = get_worker_info()
        workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
        return self.rank * workers + worker, self.world_size * workers

    def seeds(self) -> Iterator[int]:
        k, n_shards = self.shard()
        limit = EVAL_SEED_START if self.seed_start < EVAL_SEED_START else None
        i = k
        while self.num_samples is None or i < self.num_samples:
            seed = self.seed_start + i * self.seed_stride
            if limit is not None and seed >= limit:
                return
            yield seed
            i += n_shards

    def __iter__(self) -> Iterator[dict]:
        for seed in self.seeds():
            item = make_item(
                seed, self.n_points, self.tokenizer, self.obs_len, self.perturb_share, self.rich_share
            )
            if len(item["tokens"]) <= self.max_tokens:
                yield item


def _pad(rows: list[torch.Tensor], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id rows: (B, L) ids and the (B, L) bool mask of real ones."""
    lengths = [len(r) for r in rows]
    ids = torch.full((len(rows), max(lengths)), pad_id, dtype=torch.int64)
    mask = torch.zeros((len(rows), max(lengths)), dtype=torch.bool)
    for i, r in enumerate(rows):
        ids[i, : lengths[i]] = r
        mask[i, : lengths[i]] = True
    return ids, mask


def collate(batch: list[dict], pad_id: int = 0) -> dict:
    """Stack points; right-pad tokens with pad_id. Returns points (B, N, 6), tokens (B, L),
    attention_mask (B, L) bool (True on real tokens), seeds (B,), perturbed (B,) bool (a perturbed
    view, ``data.perturbed``) and rich (B,) bool (``training_part``); with observations also obs (B, M)
    and obs_mask (B, M)."""
    tokens, mask = _pad([b["tokens"] for b in batch], pad_id)
    out = {
        "points": torch.stack([torch.as_tensor(b["points"]) for b in batch]),
        "tokens": tokens,
        "attention_mask": mask,
        "seeds": torch.tensor([b["seed"] for b in batch], dtype=torch.int64),
        "perturbed": torch.tensor([bool(b.get("perturbed")) for b in batch], dtype=torch.bool),
        "rich": torch.tensor([bool(b.get("rich")) for b in batch], dtype=torch.bool),
    }
    if "obs" in batch[0]:
        out["obs"], out["obs_mask"] = _pad([b["obs"] for b in batch], pad_id)
    return out
