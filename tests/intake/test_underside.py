"""A part scanned standing on a table: its unseen underside and overhangs closed on the user's word."""

import numpy as np
import trimesh

from backend.geometry.metrics import evaluate_pair
from backend.geometry.perturb import points, points_from_above
from backend.geometry.solid import program_to_mesh
from backend.intake.clouds import cloud_for_fitting
from backend.intake.underside import closed_underside, overhang_samples, underside_samples
from backend.reconstruct import ReconstructOptions, Reconstructor
from tests.cad.programs import plate_with_hole
from tests.tiny_models import tiny_checkpoint


def _block() -> trimesh.Trimesh:
    block = trimesh.creation.box(extents=(1.0, 0.6, 0.4))
    block.apply_translation((0.2, -0.1, 0.5))  # standing on z = 0.3
    return block


def test_the_rim_of_an_unseen_underside_is_closed_on_the_table():
    cloud = points_from_above(_block(), 0)
    added = underside_samples(np.asarray(cloud.vertices))
    assert len(added) > 500
    np.testing.assert_allclose(added[:, 2], np.asarray(cloud.vertices)[:, 2].min())  # on the table
    assert (added[:, 0] > -0.32).all() and (added[:, 0] < 0.72).all()  # within the block's footprint
    assert (added[:, 1] > -0.42).all() and (added[:, 1] < 0.22).all()
    area = (np.ptp(added[:, 0]) * np.ptp(added[:, 1])) / (1.0 * 0.6)
    assert area > 0.85  # ... and most of it


def test_a_seen_underside_or_a_part_on_feet_gets_nothing():
    whole = points(_block(), 1)
    assert closed_underside(whole) == (whole, 0, 0)  # its underside was sampled: nothing is enclosed or open
    legs = [trimesh.creation.box(extents=(0.1, 0.1, 0.5)) for _ in range(2)]
    legs[0].apply_translation((-0.4, 0.0, 0.25))
    legs[1].apply_translation((0.4, 0.0, 0.25))
    top = trimesh.creation.box(extents=(1.0, 0.3, 0.1))
    top.apply_translation((0.0, 0.0, 0.55))
    bench = trimesh.util.concatenate([*legs, top])
    assert (
        len(underside_samples(np.asarray(points_from_above(bench, 2).vertices))) == 0
    )  # feet enclose nothing


def test_the_pipeline_closes_it_when_told_and_says_so(tmp_path):
    plate = program_to_mesh(plate_with_hole())  # a rounded plate with a hole and a pocket on top
    cloud = points_from_above(plate, 3)
    before = np.asarray(cloud.vertices).copy()
    r = Reconstructor(tiny_checkpoint(tmp_path), device="cpu", unmask_checkpoint="none")
    plain = r.reconstruct(cloud, ReconstructOptions(candidates=0, fixed_budgets=True))
    assert evaluate_pair(plain.mesh, plate)["iou"] < 0.5  # flooded through its open underside: a shell
    assert "Scanned on a table" in plain.scores["input_note"]  # ... and the user is told what to tick
    told = r.reconstruct(cloud, ReconstructOptions(candidates=0, fixed_budgets=True, underside_unseen=True))
    assert "the underside closed with" in told.scores["input_note"]
    assert evaluate_pair(told.mesh, plate)["iou"] > 0.9
    np.testing.assert_array_equal(np.asarray(cloud.vertices), before)  # the user's cloud is unchanged
    mesh = r.reconstruct(plate, ReconstructOptions(candidates=0, fixed_budgets=True, underside_unseen=True))
    assert "reads point clouds" in mesh.scores["input_note"]
    dense = np.asarray(points_from_above(plate, 4, 60_000).vertices)  # a scanner's density, and its noise
    dense = dense + np.random.default_rng(4).normal(scale=0.002, size=dense.shape)
    told = r.reconstruct(
        trimesh.PointCloud(dense), ReconstructOptions(candidates=0, fixed_budgets=True, underside_unseen=True)
    )
    note = told.scores["input_note"]  # read at the budget's density, where the rim's band holds its gaps
    assert "subsampled from 60,000" in note and "the underside closed with" in note
    assert evaluate_pair(told.mesh, plate)["iou"] > 0.85  # noisy: 0.89


def _bracket() -> trimesh.Trimesh:
    """A post with an arm reaching out at its top: the arm's lower face is turned downwards, above the table."""
    post = trimesh.creation.box(extents=(0.2, 0.3, 1.0))
    post.apply_translation((0.0, 0.0, 0.5))
    arm = trimesh.creation.box(extents=(1.0, 0.3, 0.2))
    arm.apply_translation((0.4, 0.0, 0.9))
    return trimesh.boolean.union([post, arm], engine="manifold")


def test_the_lower_face_of_an_overhang_is_closed_where_it_was_unseen():
    cloud = np.asarray(points_from_above(_bracket(), 0).vertices)
    added = overhang_samples(np.vstack([cloud, underside_samples(cloud)]))
    under_arm = (added[:, 0] > 0.1) & (added[:, 0] < 0.9)
    assert under_arm.sum() > 300  # the arm's lower face (0.7 x 0.3) at the cloud's density
    np.testing.assert_allclose(added[under_arm, 2], 0.8, atol=0.03)  # on it, within a voxel or two
    assert under_arm.all()  # nowhere else: the post's base is the cap's, its inside no one's
    assert len(overhang_samples(np.asarray(points(_bracket(), 1).vertices))) < 20  # a complete cloud: none


def test_the_pipeline_closes_an_overhang_when_told(tmp_path):
    bracket = _bracket()
    cloud = points_from_above(bracket, 0)
    r = Reconstructor(tiny_checkpoint(tmp_path), device="cpu", unmask_checkpoint="none")
    told = r.reconstruct(cloud, ReconstructOptions(candidates=0, fixed_budgets=True, underside_unseen=True))
    assert evaluate_pair(told.mesh, bracket)["iou"] > 0.9  # the cap alone: 0.31 (the arm a shell)


def test_the_note_says_what_was_added_when_only_overhangs_were():
    bench = trimesh.boolean.union(
        [_box((1.0, 0.4, 0.1), (0.0, 0.0, 0.55)), _box((0.1, 0.4, 0.5), (-0.45, 0, 0.25))]
        + [_box((0.1, 0.4, 0.5), (0.45, 0, 0.25))],
        engine="manifold",
    )
    cloud = points_from_above(bench, 0)
    p = np.asarray(cloud.vertices)
    added = overhang_samples(p)
    assert ((added[:, 2] > 0.45) & (added[:, 2] < 0.55)).sum() > 500  # the top's lower face, between the legs
    _, _, note = cloud_for_fitting(cloud, underside_unseen=True)
    assert note.startswith(f"{len(added):,} samples added on faces turned downwards the scanner could not")


def _box(extents, at) -> trimesh.Trimesh:
    box = trimesh.creation.box(extents=extents)
    box.apply_translation(at)
    return box
