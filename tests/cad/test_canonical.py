"""Property tests of ``canonicalize`` on procedural programs and perturbed variants of them.

Variants (loops reversed, start points rotated, plane normals flipped with the extent negated,
in-plane axes turned, holes and profiles shuffled) describe the same solid, so they must have
the same canonical program; canonicalising is idempotent and keeps the volume.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.cad.canonical import canonicalize
from backend.cad.program import (
    Extent,
    ExtentKind,
    Extrude,
    Loop,
    Plane,
    Profile,
    Program,
    Sketch,
    map_profile,
    reverse_loop,
)
from backend.cad.quantize import STEP
from backend.data.generator import analytic_bounds, generate_program, raw_program, to_normalised_frame
from backend.geometry.solid import build_manifold


def _raw_normalised(seed: int) -> Program:
    """An un-canonicalised generator program in the normalised frame (numbers off the token grid)."""
    for attempt in range(20):
        raw = raw_program(np.random.default_rng([seed, attempt]))
        try:
            program = to_normalised_frame(raw, analytic_bounds(raw))
            build_manifold(program)
            build_manifold(canonicalize(program))  # snapping can make a tiny arc degenerate: draw again
            return program
        except ValueError:
            continue
    raise AssertionError(f"no valid raw program for seed {seed}")


def _map_sketch(f: Extrude, fn) -> tuple[Profile, ...]:
    return tuple(map_profile(p, fn) for p in f.sketch.profiles)


def _flip(f: Extrude) -> Extrude:
    """Same solid with the plane normal negated: y flips, so v -> -v, and the extent turns over."""
    pl, e = f.sketch.plane, f.extent
    plane = Plane(pl.origin, pl.x_dir, tuple(-v + 0.0 for v in pl.normal))
    if e.kind is ExtentKind.ONE_SIDE:
        extent = Extent(e.kind, -e.d1)
    elif e.kind is ExtentKind.TWO_SIDES:
        extent = Extent(e.kind, e.d2, e.d1)
    else:
        extent = e
    return Extrude(Sketch(plane, _map_sketch(f, lambda p: (p[0], -p[1]))), extent, f.operation)


def _turn(f: Extrude) -> Extrude:
    """Same solid with the in-plane x axis turned to the old y axis: (u, v) -> (v, -u)."""
    pl = f.sketch.plane
    plane = Plane(pl.origin, pl.y_dir, pl.normal)
    return Extrude(Sketch(plane, _map_sketch(f, lambda p: (p[1], -p[0]))), f.extent, f.operation)


def _perturb_loop(loop: Loop, draw) -> Loop:
    if loop.is_circle:
        return loop
    if draw(st.booleans()):
        loop = reverse_loop(loop)
    k = draw(st.integers(0, len(loop.curves) - 1))
    return Loop(loop.curves[k:] + loop.curves[:k])


def _perturb(program: Program, draw) -> Program:
    feats = []
    for f in program.features:
        if draw(st.booleans()):
            f = _flip(f)
        if draw(st.booleans()):
            f = _turn(f)
        profiles = [
            Profile(
                _perturb_loop(p.outer, draw),
                tuple(draw(st.permutations([_perturb_loop(h, draw) for h in p.holes]))),
            )
            for p in f.sketch.profiles
        ]
        profiles = draw(st.permutations(profiles))
        feats.append(Extrude(Sketch(f.sketch.plane, tuple(profiles)), f.extent, f.operation))
    return Program(tuple(feats))


def _volume(program: Program) -> float:
    return build_manifold(program).volume()


def _quantisation_tolerance(program: Program) -> float:
    """Snapping moves each face by at most half a step: 1 % of the volume or STEP / 2 x the area."""
    solid = build_manifold(program)
    return max(0.01 * solid.volume(), STEP / 2 * solid.surface_area())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), data=st.data())
def test_variants_share_one_canonical_form(seed: int, data) -> None:
    base = _raw_normalised(seed)
    canon = canonicalize(base)
    assert canonicalize(canon) == canon
    variant = _perturb(base, data.draw)
    assert canonicalize(variant) == canon
    assert _volume(canonicalize(variant, quantize=False)) == pytest.approx(
        _volume(base), rel=2e-3
    )  # arcs tessellate from their start
    assert abs(_volume(canon) - _volume(base)) <= _quantisation_tolerance(base)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), data=st.data())
def test_canonical_programs_are_fixed_points_of_their_variants(seed: int, data) -> None:
    program = generate_program(seed)
    variant = _perturb(program, data.draw)
    assert canonicalize(variant) == program
    assert _volume(variant) == pytest.approx(_volume(program), rel=2e-3)
