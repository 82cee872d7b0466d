"""Wire format of the local server: limits (defined once) and the pydantic models behind its OpenAPI schema."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.intake.check import MAX_TRIANGLES
from backend.intake.options import MAX_CANDIDATES, MAX_SEED, MAX_TEMPERATURE, MIN_TOP_P, temperature_problem
from backend.reconstruct import ReconstructOptions

MAX_VERTICES = 3 * MAX_TRIANGLES  # a triangle soup: three vertices per face
MAX_BODY_BYTES = 200 * 1024 * 1024  # one request body (JSON or multipart upload)
MAX_QUEUE = 8  # jobs waiting behind the running one; more -> 429
KEEP_FINISHED_S = 15 * 60  # finished jobs stay readable this long ...
KEEP_FINISHED = 64  # ... read results and cancelled/failed jobs: at most this many (oldest evicted first)
KEEP_UNREAD = 64  # unread results are kept apart from those, up to this many
MAX_COORDINATE = 1e9  # larger |x|, |y|, |z| overflow vertex merging (rescale such meshes first)
UPLOAD_FORMATS = ("stl", "obj", "ply", "off", "glb", "xyz")

JobStateName = Literal["queued", "running", "done", "failed", "cancelled"]
JOB_STATES: tuple[str, ...] = ("queued", "running", "done", "failed", "cancelled")
FINISHED_STATES = frozenset({"done", "failed", "cancelled"})


def b64_length(n_bytes: int) -> int:
    """Characters of the padded base64 text of ``n_bytes`` bytes."""
    return 4 * math.ceil(n_bytes / 3)


class MeshData(BaseModel):
    """A triangle mesh as packed little-endian arrays (what the server sends back)."""

    vertices: str = Field(description="base64 of little-endian float32 x, y, z per vertex (12 bytes each)")
    faces: str = Field(
        description="base64 of little-endian int32 vertex indices, 3 per triangle (12 bytes each)"
    )
    vertex_count: int = Field(ge=0, description="number of vertices")
    face_count: int = Field(ge=0, description="number of triangles")


class MeshPayload(MeshData):
    """A triangle mesh as submitted: the counts must agree with the arrays (strict types: no coercion)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    vertices: str = Field(
        max_length=b64_length(12 * MAX_VERTICES),
        description="base64 of little-endian float32 x, y, z per vertex (12 bytes each)",
    )
    faces: str = Field(
        max_length=b64_length(12 * MAX_TRIANGLES),
        description="base64 of little-endian int32 vertex indices, 3 per triangle (12 bytes each)",
    )
    vertex_count: int = Field(
        ge=0, le=MAX_VERTICES, description=f"number of vertices (at most {MAX_VERTICES:,})"
    )
    face_count: int = Field(
        ge=0, le=MAX_TRIANGLES, description=f"number of triangles (at most {MAX_TRIANGLES:,})"
    )


_D = ReconstructOptions()


class JobOptions(BaseModel):
    """How to reconstruct (``backend.reconstruct.ReconstructOptions``); every field has a default.

    Types are strict (``"8"`` or ``true`` is not a number, ``"yes"`` not a boolean): wrong types are 422.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    candidates: int = Field(
        _D.candidates, ge=1, le=MAX_CANDIDATES, description="model programs sampled and verified"
    )
    temperature: float = Field(
        _D.temperature,
        ge=0.0,
        le=MAX_TEMPERATURE,
        allow_inf_nan=False,
        description="sampling temperature: 0 (greedy) or 0.001..2",
    )
    top_p: float = Field(
        _D.top_p, ge=MIN_TOP_P, le=1.0, allow_inf_nan=False, description="nucleus sampling mass"
    )
    seed: int = Field(
        _D.seed, ge=0, le=MAX_SEED, description="random seed; same seed and mesh -> same result"
    )
    decoder: str = Field(
        _D.decoder, min_length=1, max_length=32, description="decoder mode, one of GET /v1/health's decoders"
    )
    use_sections: bool = Field(_D.use_sections, description="add candidates fitted to mesh sections (quick)")
    refine: bool = Field(_D.refine, description="refine the winner's distances and offsets (about 1 s)")
    underside_unseen: bool = Field(
        _D.underside_unseen,
        description="the part was scanned standing on a table: close a point cloud's face on the lowest"
        " level of its z axis and the faces turned downwards above it, which have no samples (meshes are"
        " read as they are; without it, a cloud whose lowest samples ring an empty face gets a note"
        " suggesting it)",
    )

    @field_validator("temperature")
    @classmethod
    def _usable_temperature(cls, value: float) -> float:
        problem = temperature_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class JobSubmission(BaseModel):
    """POST /v1/jobs body."""

    model_config = ConfigDict(extra="forbid")

    mesh: MeshPayload
    options: JobOptions = Field(default_factory=JobOptions)


class JobCreated(BaseModel):
    id: str = Field(description="job id for GET/DELETE /v1/jobs/{id}")
    state: JobStateName = Field(description="always queued")


ScoreValue = float | int | str | bool | None


class JobResult(BaseModel):
    program: dict[str, Any] = Field(
        description='CAD program JSON (format "cadprog/1") in the input mesh\'s frame'
    )
    scores: dict[str, ScoreValue] = Field(description="verification scores against the input (cd, iou, ...)")
    timings: dict[str, ScoreValue] = Field(description="seconds per pipeline stage")
    n_features: int = Field(ge=0, description="extrude features in the program")
    n_curves: int | None = Field(None, ge=0, description="sketch curves in the program")
    source: str = Field(description="where the winning candidate came from (e.g. model, sections)")
    frame: dict[str, Any] | None = Field(
        None, description="normalised frame: input = scale * normalised + translation"
    )
    mesh: MeshData | None = Field(None, description="the rebuilt solid, in the input mesh's frame")


class JobStatus(BaseModel):
    id: str
    state: JobStateName
    progress: float = Field(ge=0.0, le=1.0, description="fraction done, 0 to 1")
    stage: str = Field(description="current stage: queued, validate, encode, decode k/N, verify, ...")
    error: str | None = Field(None, description="why the job failed (state failed)")
    result: JobResult | None = Field(None, description="set when state is done")
    action: str | None = Field(None, description="DELETE only: what it did (cancelled, cancelling, removed)")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    model: str = Field(description="loaded model (checkpoint name)")
    version: str = Field(description="backend version")
    decoders: list[str] = Field(description="decoder modes this model offers (JobOptions.decoder)")
    queue: int = Field(ge=0, description="jobs waiting to run")
    running: int = Field(ge=0, description="jobs running now (0 or 1)")


class ErrorResponse(BaseModel):
    detail: str = Field(description="what is wrong, in words")
