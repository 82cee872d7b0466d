"""The observation tokens: what a conditioned model reads, from the same slicer the pipeline uses."""

from __future__ import annotations

import trimesh

from backend.cad.program import Operation, Program
from backend.cad.tokens import CadTokenizer
from backend.data.generator import generate
from backend.geometry.normalize import normalize_mesh
from backend.sections.observe import OBSERVED_AXES, observation_ids, observation_programs, observation_tokens

TOK = CadTokenizer()


def _axis(feature) -> int:
    return max(range(3), key=lambda i: abs(feature.sketch.plane.normal[i]))


def test_a_stepped_part_is_observed_as_slabs_on_its_stepping_axis() -> None:
    base = trimesh.creation.box((1.0, 0.6, 0.2))
    boss = trimesh.creation.box((0.3, 0.3, 0.3))
    boss.apply_translation((0.0, 0.0, 0.25))
    mesh = normalize_mesh(trimesh.util.concatenate([base, boss]))[0]
    programs = observation_programs(mesh)
    assert len(programs) == len(OBSERVED_AXES)
    z = programs[0]
    assert [_axis(f) for f in z.features] == [2, 2]
    assert [f.operation for f in z.features] == [Operation.NEW, Operation.JOIN]
    heights = sorted(round(f.sketch.plane.origin[2] + f.extent.interval()[1], 3) for f in z.features)
    assert heights[0] < heights[1]  # the base slab ends below the boss


def test_observation_ids_are_whole_features_in_the_program_grammar() -> None:
    _, mesh = generate(1_000_000_003)
    full = observation_ids(mesh, TOK, 10_000)
    assert full[0] == TOK.bos_id and full[-1] == TOK.eos_id
    program = TOK.decode(full)  # the observation is itself a valid program
    assert len(program.features) == sum(len(p.features) for p in observation_programs(mesh))
    assert len(program.features) >= 2
    room = len(TOK.encode(Program(program.features[:1]))) + 2  # the first feature and two words more
    short = observation_ids(mesh, TOK, room)
    assert len(short) <= room and short[-1] == TOK.eos_id
    kept = TOK.decode(short).features
    assert kept == program.features[:1]  # whole features only: the second does not fit
    assert observation_ids(mesh, TOK, 10_000) == full  # deterministic


def test_nothing_to_observe_is_just_bos_eos() -> None:
    assert observation_tokens([], TOK) == [TOK.bos_id, TOK.eos_id]


def test_a_point_cloud_is_observed_through_the_robust_route() -> None:
    _, mesh = generate(1_000_000_001)
    cloud = trimesh.PointCloud(trimesh.sample.sample_surface(mesh, 6000, seed=0)[0])
    ids = observation_ids(cloud, TOK, 256)
    assert ids[0] == TOK.bos_id and ids[-1] == TOK.eos_id and len(ids) > 2
    assert TOK.decode(ids).features
