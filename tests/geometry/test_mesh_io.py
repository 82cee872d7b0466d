import numpy as np
import pytest
import trimesh

from backend.geometry.mesh_io import MeshError, load_mesh, mesh_from_arrays, save_mesh


@pytest.fixture()
def box() -> trimesh.Trimesh:
    return trimesh.creation.box((1.0, 2.0, 3.0))


@pytest.mark.parametrize("ext", ["stl", "obj", "ply", "glb"])
def test_round_trip_formats(tmp_path, box, ext):
    path = save_mesh(box, tmp_path / f"part.{ext}")
    mesh = load_mesh(path)
    assert mesh.is_watertight
    assert mesh.volume == pytest.approx(6.0)
    np.testing.assert_allclose(mesh.bounds, box.bounds, atol=1e-6)


@pytest.mark.parametrize("name", ["binary.ply", "ascii.ply", "points.obj", "points.off", "points.xyz"])
def test_point_cloud_files_load_as_point_clouds(tmp_path, name):
    # a scanner's or a photogrammetry tool's output: vertices without faces, in each format we read
    pts = np.random.default_rng(0).random((300, 3))
    path = tmp_path / name
    if name == "binary.ply":
        trimesh.PointCloud(pts).export(str(path))
    elif name == "ascii.ply":
        trimesh.PointCloud(pts).export(str(path), encoding="ascii")
    elif name.endswith(".obj"):
        path.write_text("".join(f"v {x} {y} {z}\n" for x, y, z in pts))
    elif name.endswith(".off"):
        path.write_text(f"OFF\n{len(pts)} 0 0\n" + "".join(f"{x} {y} {z}\n" for x, y, z in pts))
    else:
        path.write_text("".join(f"{x} {y} {z}\n" for x, y, z in pts))
    cloud = load_mesh(path)
    assert isinstance(cloud, trimesh.PointCloud)
    np.testing.assert_allclose(np.sort(cloud.vertices, axis=0), np.sort(pts, axis=0), atol=1e-5)


def test_glb_scene_is_merged(tmp_path):
    a = trimesh.creation.box((1, 1, 1))
    b = trimesh.creation.box((1, 1, 1))
    b.apply_translation((3, 0, 0))
    scene = trimesh.Scene([a, b])
    path = tmp_path / "scene.glb"
    scene.export(str(path))
    mesh = load_mesh(path)
    assert isinstance(mesh, trimesh.Trimesh)
    assert mesh.volume == pytest.approx(2.0)


def test_missing_empty_garbage_and_unknown(tmp_path):
    with pytest.raises(MeshError, match="not found"):
        load_mesh(tmp_path / "nope.stl")
    empty = tmp_path / "empty.stl"
    empty.write_bytes(b"")
    with pytest.raises(MeshError, match="empty"):
        load_mesh(empty)
    garbage = tmp_path / "garbage.ply"
    garbage.write_bytes(b"\x00\x01 this is not a mesh \xff" * 10)
    with pytest.raises(MeshError, match="garbage.ply"):
        load_mesh(garbage)
    no_faces = tmp_path / "points.obj"
    no_faces.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n")
    with pytest.raises(MeshError, match="no faces"):
        load_mesh(no_faces)
    txt = tmp_path / "part.txt"
    txt.write_text("hello")
    with pytest.raises(MeshError, match="unsupported mesh format"):
        load_mesh(txt)


def test_nan_vertices_in_file(tmp_path):
    path = tmp_path / "nan.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv nan 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\n")
    with pytest.raises(MeshError, match="non-finite"):
        load_mesh(path)


def test_face_index_out_of_range_in_file(tmp_path):
    path = tmp_path / "bad.ply"
    header = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
    faces = "element face 1\nproperty list uchar int vertex_indices\nend_header\n"
    path.write_text(header + faces + "0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n")
    with pytest.raises(MeshError, match="out of range"):
        load_mesh(path)


def test_arrays_checks():
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=float)
    mesh_from_arrays(v, [[0, 1, 2]])
    with pytest.raises(MeshError, match="out of range"):
        mesh_from_arrays(v, [[0, 1, 3]])
    with pytest.raises(MeshError, match="out of range"):
        mesh_from_arrays(v, [[0, 1, -1]])
    with pytest.raises(MeshError, match="non-finite"):
        mesh_from_arrays(np.where(np.eye(3, dtype=bool), np.inf, v), [[0, 1, 2]])
    with pytest.raises(MeshError, match="no faces"):
        mesh_from_arrays(v, np.zeros((0, 3), int))
    with pytest.raises(MeshError, match="shape"):
        mesh_from_arrays(v[:, :2], [[0, 1, 2]])
    with pytest.raises(MeshError, match="triangles"):
        mesh_from_arrays(v, [[0, 1, 2, 0]])
    with pytest.raises(MeshError, match="integers"):
        mesh_from_arrays(v, [[0, 1, 1.5]])
    with pytest.raises(MeshError, match="zero area"):
        mesh_from_arrays(v, [[0, 1, 1]])
    with pytest.raises(MeshError, match="numeric"):
        mesh_from_arrays([["a", "b", "c"]], [[0, 0, 0]])


def test_inputs_are_not_modified(box):
    v, f = box.vertices.copy(), box.faces.copy()
    # duplicate vertices get merged in the result, never in the caller's arrays
    soup_v = v[f].reshape(-1, 3)
    soup_f = np.arange(len(soup_v)).reshape(-1, 3)
    before = soup_v.copy()
    mesh = mesh_from_arrays(soup_v, soup_f)
    assert mesh.is_watertight
    np.testing.assert_array_equal(soup_v, before)
    mesh.vertices[0] += 1.0
    np.testing.assert_array_equal(soup_v, before)
    np.testing.assert_array_equal(box.vertices, v)


def test_closed_pieces_kept_apart_by_the_indices_stay_apart():
    """Two boxes placed against each other (a modeller's primitives): each merged on its own, not sewn into
    one non-manifold surface where their corners coincide; a soup (an STL file), or an open piece, is merged
    as one."""
    a = trimesh.creation.box(extents=(2.0, 2.0, 2.0))
    b = trimesh.creation.box(extents=(2.0, 2.0, 2.0))
    b.apply_translation((2.0, 0.0, 0.0))  # its face at x = 1 lies on a's
    both = trimesh.util.concatenate([a, b])
    kept = mesh_from_arrays(both.vertices, both.faces)
    assert kept.is_watertight and kept.body_count == 2 and len(kept.vertices) == 16
    soup = both.vertices[both.faces].reshape(-1, 3)  # every triangle its own corners
    merged = mesh_from_arrays(soup, np.arange(len(soup)).reshape(-1, 3))
    assert len(merged.vertices) == 12 and not merged.is_watertight  # sewn where the faces coincide
    part_open = trimesh.util.concatenate([a, trimesh.Trimesh(b.vertices, b.faces[2:], process=False)])
    assert len(mesh_from_arrays(part_open.vertices, part_open.faces).vertices) == 12
