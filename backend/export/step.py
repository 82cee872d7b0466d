"""STEP export: program -> B-rep solid (``backend.export.brep``) -> AP214 STEP file, and the reader
used to check a written file."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from backend.cad.program import Program
from backend.export.brep import (
    GeometryError,
    count_solids,
    face_types,
    program_to_shape,
    require_ocp,
    shape_volume,
)


@dataclass(frozen=True)
class StepReport:
    path: Path
    solids: int
    faces: dict[str, int]
    volume: float
    seconds: float


def write_shape(shape, path: str | Path, name: str = "part") -> Path:
    """Write one OpenCascade shape to ``path`` as STEP (AP214; the product is called ``name``)."""
    require_ocp()
    from OCP.IFSelect import IFSelect_ReturnStatus
    from OCP.Interface import Interface_Static
    from OCP.STEPCAFControl import STEPCAFControl_Writer
    from OCP.STEPControl import STEPControl_AsIs
    from OCP.TCollection import TCollection_ExtendedString
    from OCP.TDataStd import TDataStd_Name
    from OCP.TDocStd import TDocStd_Document
    from OCP.XCAFDoc import XCAFDoc_DocumentTool

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = TDocStd_Document(TCollection_ExtendedString("XmlOcaf"))
    label = XCAFDoc_DocumentTool.ShapeTool_s(doc.Main()).AddShape(shape, False)
    TDataStd_Name.Set_s(label, TCollection_ExtendedString(name))
    Interface_Static.SetCVal_s("write.step.schema", "AP214IS")
    writer = STEPCAFControl_Writer()
    if not writer.Transfer(doc, STEPControl_AsIs):
        raise GeometryError("OpenCascade could not translate the solid to STEP")
    if writer.Write(str(path)) != IFSelect_ReturnStatus.IFSelect_RetDone:
        raise OSError(f"could not write {path}")
    return path


def write_step(program: Program, path: str | Path, name: str | None = None) -> StepReport:
    """Build the program's B-rep solid and write it to ``path``; returns what was written."""
    start = time.perf_counter()
    shape = program_to_shape(program)
    path = write_shape(shape, path, name or Path(path).stem)
    return StepReport(
        path=path,
        solids=count_solids(shape),
        faces=face_types(shape),
        volume=shape_volume(shape),
        seconds=time.perf_counter() - start,
    )


def read_step(path: str | Path):
    """The shape stored in a STEP file (all roots in one shape)."""
    require_ocp()
    from OCP.IFSelect import IFSelect_ReturnStatus
    from OCP.STEPControl import STEPControl_Reader

    reader = STEPControl_Reader()
    if reader.ReadFile(str(path)) != IFSelect_ReturnStatus.IFSelect_RetDone:
        raise ValueError(f"{path}: not a readable STEP file")
    reader.TransferRoots()
    return reader.OneShape()
