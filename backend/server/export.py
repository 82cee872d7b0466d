"""``POST /v1/export``: a program (cadprog/1 JSON) -> STEP or CadQuery script text, for the add-on.

The add-on cannot import OpenCascade, so it sends the program it holds and writes the returned text
(STEP files are ASCII) where the user chose. Invalid programs are a 422 with the reason; a missing
OpenCascade install is a 503 whose detail names the install command.
"""

from __future__ import annotations

import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from backend.export import SUFFIXES

MAX_NAME = 128
_OCP_LOCK = threading.Lock()  # one OpenCascade build at a time (the endpoint runs in a thread pool)


class ExportRequest(BaseModel):
    program: dict[str, Any] = Field(description="the program as cadprog/1 JSON")
    format: Literal["step", "cadquery"] = Field(description="step: AP214 B-rep solid; cadquery: a script")
    name: str = Field("part", min_length=1, max_length=MAX_NAME, description="part / product name")


class ExportResult(BaseModel):
    format: str
    suffix: str = Field(description="the file extension to write, with its dot")
    content: str = Field(description="the file's text (STEP files are ASCII)")
    seconds: float
    solids: int | None = Field(None, description="solids in the STEP file (1 for a connected part)")


def safe_name(name: str) -> str:
    """A product / title name without quotes, newlines or other characters that need escaping."""
    return re.sub(r"[^\w .+-]", "_", name).strip() or "part"


def export_program(request: ExportRequest) -> ExportResult:
    """The export as text; raises ``HTTPException`` (422 invalid program, 503 no OpenCascade)."""
    from backend.cad.serialize import ProgramFormatError, program_from_dict
    from backend.geometry.solid import GeometryError

    start = time.perf_counter()
    name = safe_name(request.name)
    try:
        program = program_from_dict(request.program)
    except ProgramFormatError as exc:
        raise HTTPException(422, f"program: {exc}") from None
    if request.format == "cadquery":
        from backend.cad.validate import ProgramError, validate
        from backend.export.cadquery_script import program_to_cadquery
        from backend.geometry.solid import program_scale

        try:
            validate(program, program_scale(program))
        except ProgramError as exc:
            raise HTTPException(422, f"invalid program: {exc}") from None
        text = program_to_cadquery(program, title=name)
        return ExportResult(
            format="cadquery", suffix=SUFFIXES["cadquery"], content=text, seconds=time.perf_counter() - start
        )
    from backend.export.brep import OCPUnavailableError
    from backend.export.step import write_step

    try:
        with _OCP_LOCK, tempfile.TemporaryDirectory(prefix="mesh2cad-export-") as tmp:
            report = write_step(program, Path(tmp) / "part.step", name=name)
            text = report.path.read_text(encoding="ascii", errors="replace")
    except OCPUnavailableError as exc:
        raise HTTPException(503, str(exc)) from None
    except GeometryError as exc:
        raise HTTPException(422, str(exc)) from None
    return ExportResult(
        format="step",
        suffix=SUFFIXES["step"],
        content=text,
        seconds=time.perf_counter() - start,
        solids=report.solids,
    )


router = APIRouter()


@router.post("/v1/export", response_model=ExportResult, tags=["export"])
def export(body: ExportRequest) -> ExportResult:
    """The program as a STEP file (B-rep: planes and cylinders) or a runnable CadQuery script."""
    return export_program(body)
