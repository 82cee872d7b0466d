"""Small software renderer for previews and contact sheets (no OpenGL, no display).

Flat-shaded triangles drawn back to front with PIL (painter's algorithm) from a
fixed three-quarter view. Good enough to see a part; not a replacement for
Blender's Workbench render used by the demo.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import trimesh
from PIL import Image, ImageDraw

BACKGROUND = (245, 245, 245)
BASE_COLOR = np.array([90, 140, 200], dtype=float)
LIGHT = np.array([0.4, 0.3, 0.85]) / np.linalg.norm([0.4, 0.3, 0.85])


def _view_matrix(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(el), -math.sin(el)], [0, math.sin(el), math.cos(el)]])
    # camera looks along -z after rotation: x right, z up -> screen y
    return rx @ rz


def render_mesh(
    mesh: trimesh.Trimesh,
    size: int = 256,
    azimuth: float = 35.0,
    elevation: float = -60.0,
    color: Sequence[float] | None = None,
) -> Image.Image:
    """Render a mesh into a square RGB image, fitted to the frame."""
    img = Image.new("RGB", (size, size), BACKGROUND)
    if len(mesh.faces) == 0:
        return img
    rot = _view_matrix(azimuth, elevation)
    verts = (np.asarray(mesh.vertices, dtype=float) - mesh.bounds.mean(axis=0)) @ rot.T
    extent = max(np.ptp(verts[:, :2], axis=0).max(), 1e-12)
    scale = 0.85 * size / extent
    xy = np.stack([verts[:, 0] * scale + size / 2, -verts[:, 1] * scale + size / 2], axis=1)
    tris = np.asarray(mesh.faces)
    normals = np.asarray(mesh.face_normals) @ rot.T
    visible = normals[:, 2] > 0  # back-face culling for closed meshes
    if not visible.any():
        visible[:] = True
    depth = verts[tris, 2].mean(axis=1)
    base = BASE_COLOR if color is None else np.asarray(color, dtype=float)
    shade = 0.35 + 0.65 * np.clip(np.abs(normals @ LIGHT), 0, 1)
    draw = ImageDraw.Draw(img)
    order = np.argsort(depth)  # far to near
    for i in order[visible[order]]:
        rgb = tuple(int(c) for c in np.clip(base * shade[i], 0, 255))
        draw.polygon([tuple(p) for p in xy[tris[i]]], fill=rgb)
    return img


def contact_sheet(
    images: Sequence[Image.Image], columns: int = 4, labels: Sequence[str] | None = None
) -> Image.Image:
    """Tile images into one sheet, with an optional caption under each."""
    if not images:
        raise ValueError("no images for the contact sheet")
    w, h = images[0].size
    rows = math.ceil(len(images) / columns)
    caption = 14 if labels else 0
    sheet = Image.new("RGB", (columns * w, rows * (h + caption)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for k, im in enumerate(images):
        x, y = (k % columns) * w, (k // columns) * (h + caption)
        sheet.paste(im, (x, y))
        if labels:
            draw.text((x + 4, y + h), labels[k], fill=(30, 30, 30))
    return sheet
