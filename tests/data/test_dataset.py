"""The procedural dataset: item shapes, token limit, deterministic disjoint seed splits, collate."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from backend.cad.tokens import CadTokenizer
from backend.data.dataset import (
    EVAL_SEED_START,
    RICH_DRAWS,
    RICH_SEED_START,
    TRAIN_SEED_START,
    ProceduralDataset,
    collate,
    eval_seeds,
    is_rich,
    training_part,
)
from backend.data.generator import generate_program


def test_items_are_well_formed() -> None:
    tok = CadTokenizer()
    items = list(ProceduralDataset(n_points=256, num_samples=6))
    assert [it["seed"] for it in items] == list(range(TRAIN_SEED_START, TRAIN_SEED_START + 6))
    for it in items:
        assert it["points"].shape == (256, 6) and it["points"].dtype == torch.float32
        assert it["tokens"].dtype == torch.int64
        assert it["tokens"][0] == tok.bos_id and it["tokens"][-1] == tok.eos_id
        assert tok.decode(it["tokens"].tolist()) == generate_program(it["seed"])
        normals = it["points"][:, 3:]
        assert torch.allclose(normals.norm(dim=1), torch.ones(256), atol=1e-4)
    again = list(ProceduralDataset(n_points=256, num_samples=2))
    assert torch.equal(again[1]["points"], items[1]["points"])


def test_max_tokens_skips_long_programs() -> None:
    items = list(ProceduralDataset(n_points=16, num_samples=30, max_tokens=40))
    assert items and len(items) < 30
    assert all(len(it["tokens"]) <= 40 for it in items)


def test_worker_split_is_disjoint_and_complete() -> None:
    ds = ProceduralDataset(seed_start=100, n_points=16, num_samples=12)
    loader = DataLoader(ds, batch_size=None, num_workers=2)
    seeds = [it["seed"] for it in loader]
    assert sorted(seeds) == list(range(100, 112))
    ranks = [set(ProceduralDataset(num_samples=20, rank=r, world_size=3).seeds()) for r in range(3)]
    assert set.union(*ranks) == set(range(20)) and sum(map(len, ranks)) == 20


def test_training_never_reaches_eval_seeds() -> None:
    assert eval_seeds(3) == [EVAL_SEED_START, EVAL_SEED_START + 1, EVAL_SEED_START + 2]
    ds = ProceduralDataset(seed_start=EVAL_SEED_START - 2, seed_stride=1)
    assert list(ds.seeds()) == [EVAL_SEED_START - 2, EVAL_SEED_START - 1]


def test_collate_pads_and_masks() -> None:
    items = list(ProceduralDataset(n_points=32, num_samples=4))
    batch = collate(items, pad_id=0)
    lengths = [len(it["tokens"]) for it in items]
    assert batch["tokens"].shape == (4, max(lengths)) and batch["points"].shape == (4, 32, 6)
    assert batch["attention_mask"].sum(1).tolist() == lengths
    assert (batch["tokens"][~batch["attention_mask"]] == 0).all()
    assert batch["seeds"].tolist() == [0, 1, 2, 3]


def test_rich_parts_keep_the_draw_with_the_most_features() -> None:
    assert RICH_SEED_START > EVAL_SEED_START + 10**8  # their sub-seeds are no training or held-out seed
    assert training_part(3, 0.0)[0] == generate_program(3)  # no share: the generator's own part
    assert not any(is_rich(s, 0.0) for s in range(50)) and all(is_rich(s, 1.0) for s in range(50))
    assert 20 < sum(is_rich(s, 0.5) for s in range(100)) < 80  # about half, deterministic per seed
    for seed in range(4):
        draws = [generate_program(RICH_SEED_START + seed * RICH_DRAWS + j) for j in range(RICH_DRAWS)]
        rich = training_part(seed, 1.0)[0]
        assert rich in draws and len(rich.features) == max(len(d.features) for d in draws)
    plain = sum(len(generate_program(s).features) for s in range(40))
    assert sum(len(training_part(s, 1.0)[0].features) for s in range(40)) > plain


def test_rich_items_decode_to_their_part_and_are_flagged() -> None:
    tok = CadTokenizer()
    items = list(ProceduralDataset(n_points=32, num_samples=6, rich_share=0.5))
    for it in items:
        assert tok.decode(it["tokens"].tolist()) == training_part(it["seed"], 0.5)[0]
        assert bool(it.get("rich")) == is_rich(it["seed"], 0.5)
    assert collate(items)["rich"].tolist() == [is_rich(it["seed"], 0.5) for it in items]
    with pytest.raises(ValueError, match="rich_share"):
        ProceduralDataset(rich_share=1.5)


def test_perturbed_rich_items_carry_both_flags() -> None:
    tok = CadTokenizer()
    items = list(ProceduralDataset(n_points=32, num_samples=3, obs_len=32, perturb_share=1.0, rich_share=1.0))
    assert items and all(it.get("rich") for it in items)  # perturbed or not (an unusable view stays clean)
    assert any(it.get("perturbed") for it in items)
    batch = collate(items)
    assert batch["rich"].all()
    assert batch["perturbed"].tolist() == [bool(it.get("perturbed")) for it in items]
    for it in items:  # the rich part, seen perturbed: its program (in the frame the pipeline sees) parses
        assert tok.decode(it["tokens"].tolist()).features
