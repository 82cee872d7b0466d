"""Checks that run on a mesh file before trimesh parses it, and the OBJ cases trimesh gets wrong.

``precheck`` reads only headers (or scans the text) to tell what a file is and how many triangles it
declares, so a lying or oversized file is refused with a message before any array is built:
binary STL (84-byte header + 50 bytes per triangle) vs ASCII STL, PLY headers (format, elements,
x/y/z properties), OFF counts, OBJ face lines. ``read_obj`` parses OBJ files whose faces use
relative (negative) indices, which refer to the vertices read *so far*, not to the whole file.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from backend.geometry.errors import MeshError

STL_HEADER, STL_RECORD = 84, 50
_CHUNK = 1 << 22
_OBJ_ZERO = re.compile(rb"(?m)^[ \t]*f[ \t][^\n]*?(?<=[ \t])0(?:/|[ \t]|\r?$)")
_OBJ_NEGATIVE = re.compile(rb"(?m)^[ \t]*f[ \t][^\n]*?[ \t]-\d")
_OBJ_FACE = re.compile(rb"(?m)^[ \t]*f[ \t]")


def precheck(path: Path, ext: str, max_triangles: int) -> None:
    """Raise ``MeshError`` when ``path`` is not a plausible ``ext`` file or declares too many triangles."""
    check = {"stl": _stl, "ply": _ply, "off": _off, "obj": _obj}.get(ext)
    if check is not None:
        n = check(path)
        if n > max_triangles:
            raise MeshError(
                f"too many triangles: {path.name} declares {n:,} (the limit is {max_triangles:,});"
                " decimate the mesh first"
            )


def _count_in_file(path: Path, needle: bytes) -> int:
    """Occurrences of ``needle`` (lower case) in the file, case-insensitive, read in chunks."""
    total, tail = 0, b""
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            block = (tail + chunk).lower()
            total += block.count(needle)
            tail = block[1 - len(needle) :]  # too short to hold a whole needle: never counted twice
    return total


def _stl(path: Path) -> int:
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(512)
    declared = int.from_bytes(head[80:84], "little") if len(head) >= STL_HEADER else None
    if declared is not None and size == STL_HEADER + STL_RECORD * declared:
        return declared
    text = head.lstrip()
    if text[:5].lower() == b"solid" and _is_text(head):
        return _count_in_file(path, b"vertex") // 3
    if declared is None:
        raise MeshError(f"{path.name} is not an STL file: {size} bytes is shorter than a binary STL header")
    expected = STL_HEADER + STL_RECORD * declared
    raise MeshError(
        f"{path.name} is not a valid STL file: as binary STL its header says {declared:,} triangles"
        f" ({expected:,} bytes) but the file holds {size:,} bytes, and it is not ASCII STL"
        " (which starts with 'solid')"
    )


def _is_text(head: bytes) -> bool:
    return not any(b < 9 or 13 < b < 32 or b > 126 for b in head)


def _ply(path: Path) -> int:
    with path.open("rb") as f:
        head = f.read(1 << 16)
    if not head.startswith(b"ply"):
        raise MeshError(f"{path.name} is not a PLY file (it does not start with 'ply')")
    end = head.find(b"end_header")
    if end < 0:
        raise MeshError(f"{path.name}: PLY header has no 'end_header' line in its first 64 KiB")
    elements: dict[str, tuple[int, list[str]]] = {}
    current = None
    fmt = None
    for raw in head[:end].decode("ascii", "replace").splitlines()[1:]:
        words = raw.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format":
            fmt = words[1] if len(words) > 1 else ""
        elif words[0] == "element" and len(words) == 3 and words[2].isdigit():
            current = words[1]
            elements[current] = (int(words[2]), [])
        elif words[0] == "property" and current is not None and len(words) >= 3:
            elements[current][1].append(words[-1])
        else:
            raise MeshError(f"{path.name}: PLY header line {raw.strip()[:60]!r} is not understood")
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise MeshError(f"{path.name}: PLY format {fmt!r} is not ascii or binary_little/big_endian")
    if "vertex" not in elements:
        raise MeshError(f"{path.name}: PLY header declares no 'vertex' element")
    missing = [c for c in "xyz" if c not in elements["vertex"][1]]
    if missing:
        raise MeshError(f"{path.name}: PLY vertex element has no {', '.join(missing)} property")
    if "face" in elements and not {"vertex_indices", "vertex_index"} & set(elements["face"][1]):
        raise MeshError(f"{path.name}: PLY face element has no vertex_indices property")
    return elements.get("face", (0, []))[0]


def _off(path: Path) -> int:
    with path.open("rb") as f:
        head = f.read(1 << 12).decode("ascii", "replace")
    lines = [ln.split("#")[0].strip() for ln in head.splitlines()]
    words = " ".join(ln for ln in lines if ln).split()
    if not words or not words[0].endswith("OFF"):
        raise MeshError(f"{path.name} is not an OFF file (it does not start with 'OFF')")
    counts = words[1:3]
    if len(counts) < 2 or not all(c.isdigit() for c in counts):
        if words[0] != "OFF":  # COFF, NOFF, nOFF...: variants trimesh reads or refuses itself
            return 0
        raise MeshError(f"{path.name}: OFF header has no vertex and face counts")
    return int(counts[1])


def _obj(path: Path) -> int:
    data = path.read_bytes()
    zero = _OBJ_ZERO.search(data)
    if zero is not None:
        line = data.count(b"\n", 0, zero.start()) + 1
        raise MeshError(
            f"{path.name} line {line}: face uses vertex index 0; OBJ indices start at 1"
            " (negative ones count back from the last vertex read)"
        )
    return len(_OBJ_FACE.findall(data))


def obj_has_relative_indices(path: Path) -> bool:
    """True when a face line uses a negative (relative) vertex index."""
    return _OBJ_NEGATIVE.search(path.read_bytes()) is not None


def read_obj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and triangle faces (polygons fanned) of an OBJ; relative indices resolved per line."""
    verts: list[list[float]] = []
    faces: list[tuple[int, int, int]] = []
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            words = raw.split()
            if not words:
                continue
            try:
                if words[0] == b"v":
                    verts.append([float(w) for w in words[1:4]])
                elif words[0] == b"f":
                    idx = [int(w.split(b"/")[0]) for w in words[1:]]
                    if 0 in idx:
                        raise ValueError("vertex index 0 (OBJ indices start at 1)")
                    ids = [i - 1 if i > 0 else len(verts) + i for i in idx]
                    bad = [i for i, j in zip(idx, ids) if not 0 <= j < len(verts)]
                    if bad:
                        raise ValueError(f"vertex index {bad[0]} with {len(verts)} vertices read so far")
                    faces += [(ids[0], ids[k], ids[k + 1]) for k in range(1, len(ids) - 1)]
            except ValueError as exc:
                raise MeshError(f"{path.name} line {number}: {exc}") from None
    if any(len(v) != 3 for v in verts):
        raise MeshError(f"{path.name}: a vertex line does not hold three coordinates")
    return np.array(verts, dtype=np.float64).reshape(-1, 3), np.array(faces, dtype=np.int64).reshape(-1, 3)
