"""GLB/GLTF -> triangle arrays, with the scene graph bounded before anything is expanded.

The node graph is walked once (memoised per node, so shared subtrees cost nothing extra) to get
its depth and the number of mesh placements, vertices and triangles it would expand to. Cycles,
a depth over ``MAX_NODE_DEPTH``, more than ``MAX_INSTANCES`` placements or more triangles than the
caller's limit raise ``MeshError`` before one vertex is copied. Only then is each mesh decoded once
and placed by its world transforms (one pass, linear in the placements). Triangle primitives
(modes 4, 5, 6) are read; points and lines are skipped. External buffers must lie next to the
``.gltf`` file; sparse accessors and compressed meshes (Draco, meshopt) are refused with a message.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np

from backend.geometry.errors import MeshError

MAX_NODE_DEPTH = 64  # levels in the node hierarchy (real exports use a handful)
MAX_INSTANCES = 100_000  # mesh placements once instancing is expanded
_SATURATE = 1 << 62  # counts saturate here (a shared-child chain doubles per level)
_COMPONENTS = {5120: "<i1", 5121: "<u1", 5122: "<i2", 5123: "<u2", 5125: "<u4", 5126: "<f4"}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_TRIANGLE_MODES = (4, 5, 6)
_UNSUPPORTED = ("KHR_draco_mesh_compression", "EXT_meshopt_compression", "KHR_meshopt_compression")


class _Bad(Exception):
    """A malformed glTF document (turned into MeshError with the file name)."""


def read_gltf(path: Path, max_triangles: int) -> tuple[np.ndarray, np.ndarray]:
    """(vertices (n, 3) float64, faces (m, 3) int64) of every triangle the default scene places."""
    try:
        doc, bin_chunk = _container(path)
        return _Reader(doc, bin_chunk, path).triangles(max_triangles)
    except MeshError as exc:
        raise MeshError(f"{path.name}: {exc}") from None
    except (_Bad, KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        text = f"{type(exc).__name__}: {exc}" if not isinstance(exc, _Bad) else str(exc)
        raise MeshError(f"cannot read {path.name} as glTF: {text}") from None
    except RecursionError:
        raise MeshError(f"cannot read {path.name} as glTF: its JSON is nested too deeply") from None


def _container(path: Path) -> tuple[dict[str, Any], bytes | None]:
    data = path.read_bytes()
    if data[:4] != b"glTF":
        if path.suffix.lower() == ".glb":
            raise _Bad("not a GLB file (it does not start with 'glTF')")
        return _json(data), None
    if len(data) < 20:
        raise _Bad("GLB header is truncated")
    version, length = struct.unpack_from("<II", data, 4)
    if version != 2:
        raise _Bad(f"GLB version {version} (only version 2 is supported)")
    if length > len(data):
        raise _Bad(f"GLB header says {length:,} bytes but the file holds {len(data):,}")
    doc, bin_chunk, pos = None, None, 12
    while pos + 8 <= length:
        size, kind = struct.unpack_from("<II", data, pos)
        chunk = data[pos + 8 : pos + 8 + size]
        if len(chunk) != size:
            raise _Bad("a GLB chunk runs past the end of the file")
        if kind == 0x4E4F534A and doc is None:
            doc = _json(chunk)
        elif kind == 0x004E4942 and bin_chunk is None:
            bin_chunk = chunk
        pos += 8 + size + (-size % 4)
    if doc is None:
        raise _Bad("GLB has no JSON chunk")
    return doc, bin_chunk


def _json(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _Bad("the glTF JSON is not UTF-8 text") from None
    if not isinstance(doc, dict):
        raise _Bad("the glTF JSON is not an object")
    return doc


def _item(doc: dict[str, Any], key: str, i: Any) -> dict[str, Any]:
    items = doc.get(key)
    if (
        not isinstance(i, int)
        or isinstance(i, bool)
        or not isinstance(items, list)
        or not 0 <= i < len(items)
    ):
        raise _Bad(f"{key}[{i!r}] does not exist")
    if not isinstance(items[i], dict):
        raise _Bad(f"{key}[{i}] is not an object")
    return items[i]


def _count(acc: dict[str, Any]) -> int:
    n = acc.get("count")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise _Bad(f"accessor count {n!r} is not a non-negative integer")
    return n


class _Reader:
    def __init__(self, doc: dict[str, Any], bin_chunk: bytes | None, path: Path) -> None:
        self.doc, self.bin_chunk, self.path = doc, bin_chunk, path
        self.buffers: dict[int, bytes] = {}
        required = [e for e in doc.get("extensionsRequired", []) or [] if e in _UNSUPPORTED]
        if required:
            raise MeshError(
                f"compressed with {required[0]}, which is not supported; export without compression"
            )

    # --- counting (JSON only) -----------------------------------------------------------------------

    def _mesh_counts(self, m: int) -> tuple[int, int]:
        """(vertices, triangles) of mesh ``m``'s triangle primitives."""
        verts = tris = 0
        for prim in _item(self.doc, "meshes", m).get("primitives", []):
            mode = prim.get("mode", 4)
            if mode not in _TRIANGLE_MODES:
                continue
            n_vert = _count(_item(self.doc, "accessors", prim["attributes"]["POSITION"]))
            n_index = _count(_item(self.doc, "accessors", prim["indices"])) if "indices" in prim else n_vert
            verts += n_vert
            tris += n_index // 3 if mode == 4 else max(n_index - 2, 0)
        return verts, tris

    def _roots(self) -> list[int]:
        scenes, nodes = self.doc.get("scenes"), self.doc.get("nodes") or []
        if scenes:
            return list(_item(self.doc, "scenes", self.doc.get("scene", 0)).get("nodes", []))
        children = {c for n in nodes if isinstance(n, dict) for c in n.get("children", []) or []}
        return [i for i in range(len(nodes)) if i not in children]

    def _subtree_counts(self, roots: list[int]) -> tuple[int, int, int, int]:
        """(depth, placements, vertices, triangles) below ``roots``; iterative, memoised, cycle-checked."""
        memo: dict[int, tuple[int, int, int, int]] = {}
        meshes: dict[int, tuple[int, int]] = {}
        on_path: set[int] = set()
        stack: list[tuple[int, bool]] = [(r, False) for r in roots]
        while stack:
            i, done = stack.pop()
            node = _item(self.doc, "nodes", i)
            if done:
                on_path.discard(i)
                kids = [memo[c] for c in node.get("children", []) or []]
                own = (0, 0)
                if "mesh" in node:
                    if node["mesh"] not in meshes:
                        meshes[node["mesh"]] = self._mesh_counts(node["mesh"])
                    own = meshes[node["mesh"]]
                depth = 1 + max((k[0] for k in kids), default=0)
                mine = (int("mesh" in node), *own)
                memo[i] = (depth, *(min(_SATURATE, mine[j - 1] + sum(k[j] for k in kids)) for j in (1, 2, 3)))
                continue
            if i in memo:
                continue
            if i in on_path:
                raise _Bad(f"the node graph has a cycle through node {i}")
            if len(on_path) >= MAX_NODE_DEPTH:
                raise MeshError(f"its node hierarchy is more than {MAX_NODE_DEPTH} levels deep (the limit)")
            on_path.add(i)
            stack.append((i, True))
            stack += [(c, False) for c in node.get("children", []) or [] if c not in memo]
        totals = [memo[r] for r in roots]
        return (
            max((t[0] for t in totals), default=0),
            *(min(_SATURATE, sum(t[j] for t in totals)) for j in (1, 2, 3)),
        )

    # --- expansion ----------------------------------------------------------------------------------

    def triangles(self, max_triangles: int) -> tuple[np.ndarray, np.ndarray]:
        roots = self._roots()
        depth, placements, n_vert, n_tri = self._subtree_counts(roots)
        if depth > MAX_NODE_DEPTH:
            raise MeshError(f"its node hierarchy is {depth} levels deep (the limit is {MAX_NODE_DEPTH})")
        if placements > MAX_INSTANCES:
            raise MeshError(f"its scene places meshes {placements:,} times (the limit is {MAX_INSTANCES:,})")
        if n_tri > max_triangles or n_vert > 3 * max_triangles:
            raise MeshError(
                f"too many triangles: its scene expands to {n_tri:,} triangles and {n_vert:,} vertices"
                f" (the limit is {max_triangles:,} triangles); decimate the mesh first"
            )
        decoded: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        verts: list[np.ndarray] = []
        faces: list[np.ndarray] = []
        offset = 0
        stack = [(r, np.eye(4)) for r in roots]
        while stack:
            i, parent = stack.pop()
            node = _item(self.doc, "nodes", i)
            world = parent @ _local_matrix(node)
            if "mesh" in node:
                if node["mesh"] not in decoded:
                    decoded[node["mesh"]] = self._decode_mesh(node["mesh"])
                v, f = decoded[node["mesh"]]
                verts.append(v @ world[:3, :3].T + world[:3, 3])
                faces.append(f + offset)
                offset += len(v)
            stack += [(c, world) for c in node.get("children", []) or []]
        if not verts:
            return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
        return np.concatenate(verts), np.concatenate(faces)

    def _decode_mesh(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        verts, faces, offset = [], [], 0
        for prim in _item(self.doc, "meshes", m).get("primitives", []):
            mode = prim.get("mode", 4)
            if mode not in _TRIANGLE_MODES:
                continue
            v = self._accessor(prim["attributes"]["POSITION"], "VEC3").astype(np.float64)
            idx = (
                self._accessor(prim["indices"], "SCALAR")[:, 0].astype(np.int64)
                if "indices" in prim
                else np.arange(len(v), dtype=np.int64)
            )
            if mode == 4:
                f = idx[: len(idx) // 3 * 3].reshape(-1, 3)
            elif mode == 5:
                k = np.arange(max(len(idx) - 2, 0))
                odd = (k % 2).astype(bool)
                f = np.stack([idx[k], idx[k + 1 + odd], idx[k + 2 - odd]], axis=1)
            else:
                k = np.arange(1, max(len(idx) - 1, 1))
                f = np.stack([np.full(len(k), idx[0] if len(idx) else 0), idx[k], idx[k + 1]], axis=1)
            if f.size and (f.min() < 0 or f.max() >= len(v)):
                raise MeshError(
                    f"face indices out of range: found {f.min()}..{f.max()} for {len(v)} vertices"
                )
            verts.append(v)
            faces.append(f.reshape(-1, 3) + offset)
            offset += len(v)
        if not verts:
            return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
        return np.concatenate(verts), np.concatenate(faces)

    def _accessor(self, a: int, expected: str) -> np.ndarray:
        acc = _item(self.doc, "accessors", a)
        if "sparse" in acc:
            raise MeshError("it uses sparse accessors, which are not supported")
        if acc.get("type") != expected or acc.get("componentType") not in _COMPONENTS:
            raise _Bad(f"accessor {a} is {acc.get('type')}/{acc.get('componentType')}, expected {expected}")
        dtype, width, count = np.dtype(_COMPONENTS[acc["componentType"]]), _WIDTH[expected], _count(acc)
        if "bufferView" not in acc:
            return np.zeros((count, width), dtype=dtype)
        view = _item(self.doc, "bufferViews", acc["bufferView"])
        data = self._buffer(view.get("buffer"))
        start = int(view.get("byteOffset", 0)) + int(acc.get("byteOffset", 0))
        elem = dtype.itemsize * width
        stride = int(view.get("byteStride") or elem)
        end = start + stride * (count - 1) + elem if count else start
        view_end = int(view.get("byteOffset", 0)) + int(view["byteLength"])
        if start < 0 or stride < elem or end > view_end or view_end > len(data):
            raise _Bad(f"accessor {a} reaches past the end of its buffer")
        arr = np.ndarray(
            (count, width), dtype=dtype, buffer=data, offset=start, strides=(stride, dtype.itemsize)
        )
        out = arr.astype(np.float64) if acc.get("normalized") else arr.copy()
        if acc.get("normalized") and dtype.kind in "iu":
            out = np.maximum(out / np.iinfo(dtype).max, -1.0)
        return out

    def _buffer(self, b: Any) -> bytes:
        if b in self.buffers:
            return self.buffers[b]
        buf = _item(self.doc, "buffers", b)
        uri = buf.get("uri")
        if uri is None:
            if self.bin_chunk is None or b != 0:
                raise _Bad(f"buffer {b} has no data (no uri and no GLB binary chunk)")
            data = self.bin_chunk
        elif isinstance(uri, str) and uri.startswith("data:"):
            data = base64.b64decode(uri.partition(",")[2])
        else:
            folder = self.path.parent.resolve()
            target = (folder / unquote(str(uri))).resolve()
            if not target.is_relative_to(folder) or not target.is_file():
                raise MeshError(f"buffer {b} refers to {str(uri)[:80]!r}, which is not a file next to it")
            data = target.read_bytes()
        self.buffers[b] = data
        return data


def _local_matrix(node: dict[str, Any]) -> np.ndarray:
    if "matrix" in node:
        m = np.array(node["matrix"], dtype=np.float64)
        if m.shape != (16,):
            raise _Bad("a node matrix does not hold 16 numbers")
        return m.reshape(4, 4).T  # column-major
    t = np.array(node.get("translation", (0, 0, 0)), dtype=np.float64).reshape(3)
    x, y, z, w = np.array(node.get("rotation", (0, 0, 0, 1)), dtype=np.float64).reshape(4)
    s = np.array(node.get("scale", (1, 1, 1)), dtype=np.float64).reshape(3)
    r = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    out = np.eye(4)
    out[:3, :3] = r * s
    out[:3, 3] = t
    return out
