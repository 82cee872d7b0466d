"""The features placed on a part, one module per family; each lists its features with their weights.

A feature is a function ``(part) -> [Extrude, ...]`` (``part.FeatureFn``) that draws its sizes from
``part.rng``, checks that it fits (``[]`` when not) and marks what it uses. To add one, write it in the
module of its family and list it in that module's ``FEATURES``. The order below is part of the
per-seed determinism: ``pick`` walks the weights in this order.
"""

from __future__ import annotations

from backend.data.generator.features import body, sides, top
from backend.data.generator.part import FeatureFn

FEATURES: dict[FeatureFn, float] = {**top.FEATURES, **sides.FEATURES, **body.FEATURES}

__all__ = ["FEATURES"]
