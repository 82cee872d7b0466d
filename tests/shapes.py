"""Test parts shared across test packages."""

import trimesh


def thin_walls() -> trimesh.Trimesh:
    """A base plate with a back and a side wall, 0.02-0.025 thick (the shape of Fusion 360 66331): walls
    about as thin as the spacing of 8,192 surface samples."""
    base = trimesh.creation.box(extents=(1.0, 0.8, 0.025))
    base.apply_translation((0.0, 0.0, 0.0125))
    back = trimesh.creation.box(extents=(1.0, 0.02, 0.565))
    back.apply_translation((0.0, 0.39, 0.2825))
    side = trimesh.creation.box(extents=(0.025, 0.8, 0.565))
    side.apply_translation((0.4875, 0.0, 0.2825))
    return trimesh.boolean.union([base, back, side], engine="manifold")
