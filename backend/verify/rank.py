"""The ranking rule: fidelity first, then the program a person would edit (see ``backend.verify``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import trimesh

from backend.cad.program import Program

# Pipeline losses (ranking Chamfer distances) this close to the lowest count as a tie.
TIE_RELATIVE, TIE_ABSOLUTE = 0.03, 2e-5

T = TypeVar("T")


LOSS_DIGITS = 6  # losses equal to this many significant digits are equal (rebuild round-off)


def complexity(program: Program) -> tuple[int, int]:
    """What a person edits, smallest first: the sketch curves (a circle is one curve); then, for the same
    curves, the program that gives them more features (a hole as its own cut, a boss as its own join:
    each with its own depth and operation) comes first."""
    return (program.curve_count, -len(program.features))


def tied(
    items: Sequence[T],
    loss: Callable[[T], float],
    tie_relative: float = TIE_RELATIVE,
    tie_absolute: float = TIE_ABSOLUTE,
) -> list[T]:
    """The items whose loss is within the tie tolerance of the lowest: equally faithful."""
    if not items:
        raise ValueError("no candidates to choose from")
    lowest = min(loss(it) for it in items)
    return [it for it in items if loss(it) <= lowest * (1 + tie_relative) + tie_absolute]


def preference(program: Program, loss: float) -> tuple:
    """Among equally faithful items, smaller is preferred: ``complexity``, then the loss (to ``LOSS_DIGITS``)."""
    return (complexity(program), float(f"{loss:.{LOSS_DIGITS}g}"))


def choose(
    items: Sequence[T],
    loss: Callable[[T], float],
    program: Callable[[T], Program],
    tie_relative: float = TIE_RELATIVE,
    tie_absolute: float = TIE_ABSOLUTE,
) -> T:
    """The rule: among items whose loss is within the tie tolerance of the lowest, the most compact
    program wins (``complexity``), then the lower loss (to ``LOSS_DIGITS``), then the earlier item."""
    return min(
        tied(items, loss, tie_relative, tie_absolute), key=lambda it: preference(program(it), loss(it))
    )


@dataclass
class Candidate:
    """A rebuilt candidate in the normalised frame and its ranking Chamfer distance."""

    program: Program
    source: str
    mesh: trimesh.Trimesh
    rank_cd: float

    @property
    def complexity(self) -> tuple[int, int]:
        return complexity(self.program)


def pick_best(candidates: Sequence[Candidate]) -> Candidate:
    """The pipeline's choice: ``choose`` with the ranking Chamfer distance as the loss."""
    return choose(candidates, lambda c: c.rank_cd, lambda c: c.program)
