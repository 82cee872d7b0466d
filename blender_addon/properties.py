"""Per-scene reconstruction options shown in the panel (``scene.mesh2cad``)."""

from __future__ import annotations

import bpy

from .state import STATE

MIN_TEMPERATURE = 1e-3  # the backend's smallest sampling temperature (backend/intake/options.py)

_decoder_items: list[tuple[str, str, str]] = []  # kept alive: Blender does not own dynamic enum strings


def _decoders(self: bpy.types.PropertyGroup, context: bpy.types.Context | None) -> list[tuple[str, str, str]]:
    _decoder_items[:] = [(d, d, f"Decoder '{d}' offered by the backend") for d in STATE.decoders()]
    return _decoder_items


class Mesh2CadOptions(bpy.types.PropertyGroup):
    candidates: bpy.props.IntProperty(
        name="Candidates",
        description="Programs the backend samples and verifies; the best one is kept",
        default=4,
        min=1,
        max=64,
    )
    temperature: bpy.props.FloatProperty(
        name="Temperature",
        description="Sampling temperature (0: greedy)",
        default=0.7,
        min=0.0,
        max=2.0,
    )
    seed: bpy.props.IntProperty(name="Seed", description="Random seed of the sampler", default=0, min=0)
    decoder: bpy.props.EnumProperty(name="Decoder", description="Decoding method", items=_decoders)
    underside_unseen: bpy.props.BoolProperty(
        name="Scanned on a table",
        description="A point cloud scanned with the part standing on a table: its underside (the lowest"
        " level along the object's own Z axis) and the lower faces of its overhangs have no points and"
        " are closed (a mesh's holes are filled without it)",
        default=False,
    )

    def as_options(self) -> dict[str, object]:
        """The job's "options" object."""
        return {
            "candidates": self.candidates,
            # the backend takes 0 (greedy) or 0.001..2; what the slider leaves below 0.001 is greedy
            "temperature": self.temperature if self.temperature >= MIN_TEMPERATURE else 0.0,
            "seed": self.seed,
            "decoder": self.decoder or STATE.decoders()[0],
            "underside_unseen": self.underside_unseen,
        }
