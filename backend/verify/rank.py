"""The ranking rule: fidelity first, then the program a person would edit (see ``backend.verify``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import trimesh

from backend.cad.intent import cut_groups, union_box
from backend.cad.program import Operation, Program

# Pipeline losses (ranking Chamfer distances) this close to the lowest count as a tie.
TIE_RELATIVE, TIE_ABSOLUTE = 0.03, 2e-5

T = TypeVar("T")


LOSS_DIGITS = 6  # losses equal to this many significant digits are equal (rebuild round-off)
# The ranking Chamfer distance's own noise, relative: one standard deviation over the candidate's surface
# samples is 1.6 % (median over 11 Fusion 360 parts, ``scripts/measure_rank_noise.py``); the difference of
# two candidates' losses spreads about 1.4 times that. Closer losses do not say which is more faithful.
RANK_NOISE = 0.015


def operations(program: Program) -> int:
    """The operations a person edits: each feature that adds (or intersects) material, a boss with its
    own height; and each group of cuts (``cad.intent.cut_groups``): the holes cut from one plane over one
    span, or through all, are drawn in one sketch and cut once, whatever their sizes."""
    features = list(program.features)
    cuts = sum(f.operation is Operation.CUT for f in features)
    return len(features) - cuts + len(cut_groups(features, union_box(program)))


def complexity(program: Program) -> tuple[int, int, int]:
    """What a person edits, smallest first: the sketch curves (a circle is one curve); then, for the same
    curves, the program with more operations (``operations``: a hole as its own cut, a boss as its own
    join, each with its own depth) comes first; then, for as many operations, the one with fewer features
    (cuts through one depth in one sketch, not split)."""
    return (program.curve_count, -operations(program), len(program.features))


def tied(
    items: Sequence[T],
    loss: Callable[[T], float],
    tie_relative: float = TIE_RELATIVE,
    tie_absolute: float = TIE_ABSOLUTE,
) -> list[T]:
    """The items whose loss is within the tie tolerance of the lowest: equally faithful."""
    if not items:
        raise ValueError("no candidates to choose from")
    bound = tie_bound(min(loss(it) for it in items), tie_relative, tie_absolute)
    return [it for it in items if loss(it) <= bound]


def tie_bound(lowest: float, tie_relative: float = TIE_RELATIVE, tie_absolute: float = TIE_ABSOLUTE) -> float:
    """The highest loss that still ties with ``lowest`` (equally faithful)."""
    return lowest * (1 + tie_relative) + tie_absolute


def ranked(
    items: Sequence[T], loss: Callable[[T], float], program: Callable[[T], Program], noise: float = 0.0
) -> list[T]:
    """Equally faithful items in the rule's order: ``complexity`` first; for the same complexity the lower
    loss, where "lower" means lower by more than ``noise`` (relative: the loss estimate's own noise) or,
    with ``noise=0``, in ``LOSS_DIGITS`` significant digits; losses closer than that are equal, and of
    equal items the earlier comes first (the model's candidates come first)."""
    order = {id(it): k for k, it in enumerate(items)}

    def digits(it: T) -> float:
        return float(f"{loss(it):.{LOSS_DIGITS}g}")

    keys = {id(it): complexity(program(it)) for it in items}  # once each: it builds the program's keys
    out: list[T] = []
    for key in sorted(set(keys.values())):
        rest = sorted((it for it in items if keys[id(it)] == key), key=lambda it: (digits(it), order[id(it)]))
        while rest:
            bound = digits(rest[0]) * (1 + noise)
            equal = [it for it in rest if digits(it) <= bound]
            out += sorted(equal, key=lambda it: order[id(it)])
            rest = rest[len(equal) :]
    return out


def choose(
    items: Sequence[T],
    loss: Callable[[T], float],
    program: Callable[[T], Program],
    tie_relative: float = TIE_RELATIVE,
    tie_absolute: float = TIE_ABSOLUTE,
    noise: float = 0.0,
) -> T:
    """The rule: among items whose loss is within the tie tolerance of the lowest, the most compact
    program wins (``complexity``), then the lower loss (beyond ``noise``), then the earlier item."""
    return ranked(tied(items, loss, tie_relative, tie_absolute), loss, program, noise)[0]


@dataclass
class Candidate:
    """A rebuilt candidate in the normalised frame and its ranking Chamfer distance."""

    program: Program
    source: str
    mesh: trimesh.Trimesh
    rank_cd: float

    @property
    def complexity(self) -> tuple[int, int, int]:
        return complexity(self.program)


def lowest_by_source(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The lowest-loss candidate of each source (the model's, the sections'), in the order of their
    losses."""
    bases: dict[str, Candidate] = {}
    for c in sorted(candidates, key=lambda c: c.rank_cd):
        bases.setdefault(c.source, c)
    return list(bases.values())


def pick_best(candidates: Sequence[Candidate]) -> Candidate:
    """The pipeline's choice: ``choose`` with the ranking Chamfer distance as the loss (its noise:
    ``RANK_NOISE``)."""
    return choose(candidates, lambda c: c.rank_cd, lambda c: c.program, noise=RANK_NOISE)
