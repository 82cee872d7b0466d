"""Issue 13 rows 1, 2, 4, 11, 14: hostile mesh files are refused quickly with a message that names
the problem, before anything is expanded; valid variants (relative OBJ indices) read correctly."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import trimesh

from backend.geometry.gltf import MAX_INSTANCES, MAX_NODE_DEPTH
from backend.geometry.mesh_io import MeshError, load_mesh
from tests.hardening import crafted

TETRA = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf -4 -2 -3\nf -4 -3 -1\nf -4 -1 -2\nf -3 -2 -1\n"


def _text(name: str, text: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / name).write_text(text)
        return tmp / name

    return make


def _far_cube(tmp: Path) -> Path:
    cube = trimesh.creation.box((1, 1, 1))
    cube.apply_translation((1e8, 1e8, 1e8))
    return crafted.stl_binary(tmp / "far.stl", cube)


def _random_stl(tmp: Path) -> Path:
    (tmp / "random.stl").write_bytes(np.random.default_rng(1).bytes(5000))
    return tmp / "random.stl"


BAD_PLY = (
    "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float z\n"
    "element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0\n1 0\n0 1\n3 0 1 2\n"
)

# (row, case, file builder, load_mesh keyword arguments, message pattern)
REFUSED = [
    (
        "1",
        "GLB chain of 200 nodes",
        lambda t: crafted.glb_chain(t / "chain.glb", 200),
        {},
        f"more than {MAX_NODE_DEPTH} levels deep",
    ),
    (
        "1",
        "GLB node cycle",
        lambda t: crafted.glb_scene(
            t / "cycle.glb", [{"mesh": 0, "children": [1]}, {"mesh": 0, "children": [0]}], [0]
        ),
        {},
        "cycle through node 0",
    ),
    (
        "2",
        "GLB instancing bomb (200 x 20k triangles)",
        lambda t: crafted.glb_instancing_bomb(t / "bomb.glb"),
        {},
        "expands to 4,000,000 triangles",
    ),
    (
        "2",
        "GLB doubling children (2^60 placements)",
        lambda t: crafted.glb_doubling(t / "dag.glb"),
        {},
        f"places meshes 1,152,921,504,606,846,975 times \\(the limit is {MAX_INSTANCES:,}\\)",
    ),
    (
        "4",
        "binary STL over the triangle limit (header)",
        lambda t: crafted.stl_binary(t / "big.stl", trimesh.creation.icosphere(1)),
        {"max_triangles": 10},
        "declares 80 \\(the limit is 10\\)",
    ),
    (
        "11",
        "OBJ face with index 0",
        _text("zero.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 0 1 2\nf 1 2 3\n"),
        {},
        "line 5: face uses vertex index 0; OBJ indices start at 1",
    ),
    (
        "11",
        "OBJ relative index before its vertex",
        _text("early.obj", "v 0 0 0\nf -1 -2 -3\n"),
        {},
        "line 2: vertex index -2 with 1 vertices read so far",
    ),
    ("14", "random bytes as .stl", _random_stl, {}, "random.stl is not a valid STL file: as binary STL"),
    (
        "14",
        "STL header count 0xFFFFFFFF",
        lambda t: crafted.stl_header_only(t / "ffff.stl", 0xFFFFFFFF),
        {},
        "header says 4,294,967,295 triangles .* but the file holds 84 bytes",
    ),
    ("14", "PLY without a y property", _text("bad.ply", BAD_PLY), {}, "PLY vertex element has no y property"),
    ("14", "PLY that is not PLY", _text("not.ply", "hello\n"), {}, "not a PLY file"),
    (
        "14",
        "unit cube at offset 1e8 (float32 STL)",
        _far_cube,
        {},
        "zero area; its vertices lie within 0 of each other about 1e\\+08 from the origin.*step by 8",
    ),
]


@pytest.mark.parametrize(("row", "case", "make", "kwargs", "pattern"), REFUSED, ids=[r[1] for r in REFUSED])
def test_refused_quickly_with_a_clear_message(tmp_path, row, case, make, kwargs, pattern):
    path = make(tmp_path)
    start = time.perf_counter()
    with pytest.raises(MeshError, match=pattern):
        load_mesh(path, **kwargs)
    assert time.perf_counter() - start < 2.0, f"row {row}: {case} took too long to refuse"


def test_obj_relative_indices_refer_to_vertices_read_so_far(tmp_path):
    """Two tetrahedra, each written as its 4 vertices and 4 faces with indices -4..-1 (row 11)."""
    second = TETRA.replace("v 0 ", "v 5 ").replace("v 1 ", "v 6 ")
    path = tmp_path / "two.obj"
    path.write_text(TETRA + second)
    mesh = load_mesh(path)
    assert len(mesh.faces) == 8 and mesh.body_count == 2
    np.testing.assert_allclose(mesh.bounds, [[0, 0, 0], [6, 1, 1]])
    assert mesh.volume == pytest.approx(2 / 6)


def test_glb_within_limits_matches_trimesh(tmp_path):
    """The scene-graph reader places nested, rotated and scaled instances like trimesh does."""
    tf = trimesh.transformations
    scene = trimesh.Scene()
    box = trimesh.creation.box((1, 2, 3))
    scene.add_geometry(
        box, node_name="a", transform=tf.rotation_matrix(0.7, [1, 2, 3]) @ tf.scale_matrix(2.0)
    )
    scene.add_geometry(
        trimesh.creation.icosphere(1),
        node_name="b",
        parent_node_name="a",
        transform=tf.translation_matrix([3, 0, 1]),
    )
    scene.add_geometry(box, node_name="c", parent_node_name="b", transform=tf.translation_matrix([0, 5, 0]))
    scene.export(str(tmp_path / "s.glb"))
    ours = load_mesh(tmp_path / "s.glb")
    ref = trimesh.load(str(tmp_path / "s.glb"), force="mesh")
    assert len(ours.faces) == len(ref.faces)
    np.testing.assert_allclose(ours.bounds, ref.bounds, atol=1e-9)
    assert ours.area == pytest.approx(ref.area)


def test_glb_chain_within_the_depth_limit_reads_fast(tmp_path):
    start = time.perf_counter()
    mesh = load_mesh(crafted.glb_chain(tmp_path / "chain.glb", MAX_NODE_DEPTH))
    assert len(mesh.faces) == MAX_NODE_DEPTH
    assert time.perf_counter() - start < 1.0
