"""Procedural sketch+extrude parts (being split into modules; see ``features/top.py`` for now)."""

from backend.data.generator.features.top import (
    analytic_bounds,
    generate,
    generate_program,
    raw_program,
    to_normalised_frame,
)

__all__ = ["analytic_bounds", "generate", "generate_program", "raw_program", "to_normalised_frame"]
