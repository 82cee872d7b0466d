"""Small crafted hostile files for the hardening tests and benchmarks (issue 13)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import trimesh


def write_glb(path: Path, doc: dict[str, Any], binary: bytes) -> Path:
    """A GLB container around ``doc`` (JSON) and ``binary`` (the BIN chunk)."""
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    binary += b"\0" * (-len(binary) % 4)
    total = 12 + 8 + len(js) + 8 + len(binary)
    data = struct.pack("<III", 0x46546C67, 2, total)
    data += (
        struct.pack("<II", len(js), 0x4E4F534A) + js + struct.pack("<II", len(binary), 0x004E4942) + binary
    )
    path.write_bytes(data)
    return path


def glb_scene(path: Path, nodes: list[dict[str, Any]], roots: list[int], triangles: int = 1) -> Path:
    """A GLB whose one mesh holds ``triangles`` random triangles, placed by ``nodes`` (mesh 0 each)."""
    v = np.random.default_rng(0).random((3 * triangles, 3)).astype("<f4")
    idx = np.arange(3 * triangles, dtype="<u4")
    vb, ib = v.tobytes(), idx.tobytes()
    doc = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": len(vb) + len(ib)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(vb)},
            {"buffer": 0, "byteOffset": len(vb), "byteLength": len(ib)},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 3 * triangles, "type": "VEC3"},
            {"bufferView": 1, "componentType": 5125, "count": 3 * triangles, "type": "SCALAR"},
        ],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "mode": 4}]}],
        "nodes": nodes,
        "scenes": [{"nodes": roots}],
        "scene": 0,
    }
    return write_glb(path, doc, vb + ib)


def glb_chain(path: Path, n: int) -> Path:
    """``n`` nodes chained parent -> child, each placing the same 1-triangle mesh (issue 13 row 1)."""
    nodes = [
        {"mesh": 0, "translation": [0.01 * i, 0, 0], **({"children": [i + 1]} if i + 1 < n else {})}
        for i in range(n)
    ]
    return glb_scene(path, nodes, [0])


def glb_instancing_bomb(path: Path, placements: int = 200, triangles: int = 20_000) -> Path:
    """One ``triangles``-triangle mesh placed by ``placements`` sibling nodes (issue 13 row 2)."""
    nodes = [{"mesh": 0, "translation": [float(i), 0, 0]} for i in range(placements)]
    return glb_scene(path, nodes, list(range(placements)), triangles)


def glb_doubling(path: Path, levels: int = 60) -> Path:
    """Each node lists the next one twice: 2**levels placements from ``levels`` nodes."""
    nodes = [{"mesh": 0, "children": [i + 1, i + 1]} for i in range(levels - 1)] + [{"mesh": 0}]
    return glb_scene(path, nodes, [0])


def stl_binary(path: Path, mesh: trimesh.Trimesh, declared: int | None = None) -> Path:
    """Binary STL of ``mesh``; ``declared`` overrides the triangle count in the header."""
    tri = np.asarray(mesh.vertices, dtype="<f4")[mesh.faces]
    records = np.zeros(len(tri), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    records["v"] = tri
    count = len(tri) if declared is None else declared
    path.write_bytes(b"\0" * 80 + struct.pack("<I", count) + records.tobytes())
    return path


def stl_header_only(path: Path, declared: int) -> Path:
    """An 84-byte binary STL header declaring ``declared`` triangles and no records."""
    path.write_bytes(b"\0" * 80 + struct.pack("<I", declared))
    return path


def cylinder(triangles: int) -> trimesh.Trimesh:
    """A closed cylinder of about ``triangles`` triangles (sides + fan caps): few vertices per face."""
    sections = max(3, triangles // 4)
    return trimesh.creation.cylinder(radius=0.5, height=1.0, sections=sections)
