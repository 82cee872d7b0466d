"""``python -m backend export PROGRAM.json... (--out FILE | --out-dir DIR) [--format step|cadquery]``.

Program JSON (cadprog/1) -> STEP solid (``.step``/``.stp``: planes and true cylinders, through
OpenCascade: the ``step`` extra) and / or a CadQuery script (``.py``). With ``--out`` the format
follows the extension; with ``--out-dir`` each program gives ``<stem>.step`` / ``<stem>.py`` for
every ``--format`` (default: step). ``reconstruct --format ...`` writes the same extra files through
``add_format_option`` / ``write_exports``.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from backend.export import EXPORT_FORMATS, SUFFIXES

EXTENSIONS = {".step": "step", ".stp": "step", ".py": "cadquery"}


def add_format_option(parser: argparse.ArgumentParser, help_default: str = "none") -> None:
    parser.add_argument(
        "--format",
        dest="export_formats",
        action="append",
        choices=EXPORT_FORMATS,
        default=None,
        help=f"also write this export (repeatable): step (B-rep STEP file), cadquery (script); default {help_default}",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "programs", nargs="+", metavar="PROGRAM", help="program JSON files or folders of them"
    )
    out = parser.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", help="output file for one PROGRAM: .step / .stp (STEP) or .py (CadQuery)")
    out.add_argument("--out-dir", help="output folder: <stem>.step / <stem>.py per program")
    add_format_option(parser, help_default="step (with --out: from its extension)")


def write_export(program, path: Path, fmt: str) -> str:
    """Write one export of ``program`` to ``path``; returns a one-line summary."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "cadquery":
        from backend.export.cadquery_script import program_to_cadquery

        path.write_text(program_to_cadquery(program, title=path.stem))
        return f"wrote {path}: CadQuery script, {len(program.features)} features"
    from backend.export.step import write_step

    r = write_step(program, path)
    faces = ", ".join(f"{n} {kind}" for kind, n in sorted(r.faces.items()))
    return f"wrote {path}: {r.solids} solid(s), faces {faces}, volume {r.volume:.6g}, {r.seconds:.2f} s"


def write_exports(program, out_dir: Path, stem: str, formats: list[str] | None) -> list[Path]:
    """``<out_dir>/<stem><suffix>`` for each format (none when ``formats`` is empty)."""
    paths = []
    for fmt in dict.fromkeys(formats or []):
        path = out_dir / f"{stem}{SUFFIXES[fmt]}"
        write_export(program, path, fmt)
        paths.append(path)
    return paths


def check_formats(formats: list[str] | None) -> None:
    """Fail before any work when STEP is asked for and OpenCascade is missing (a clear message)."""
    if formats and "step" in formats:
        from backend.export.brep import OCPUnavailableError, require_ocp

        try:
            require_ocp()
        except OCPUnavailableError as exc:
            raise ValueError(str(exc)) from None


def _program_files(items: list[str]) -> list[Path]:
    out: list[Path] = []
    for item in items:
        p = Path(item)
        out += sorted(p.glob("*.json")) if p.is_dir() else [p]
    return out


def run(args: argparse.Namespace) -> int:
    """Export every program; 0 when all succeeded, 1 when any failed (each failure is reported)."""
    import time

    from backend.cad.serialize import loads

    files = _program_files(args.programs)
    if args.out is not None:
        if len(files) != 1:
            raise ValueError(f"--out takes one program, got {len(files)}; use --out-dir")
        suffix = Path(args.out).suffix.lower()
        if suffix not in EXTENSIONS:
            raise ValueError(f"--out {args.out}: unknown extension {suffix!r} (use .step, .stp or .py)")
        jobs = [(files[0], Path(args.out), EXTENSIONS[suffix])]
    else:
        formats = list(dict.fromkeys(args.export_formats or ["step"]))
        jobs = [(f, Path(args.out_dir) / f"{f.stem}{SUFFIXES[fmt]}", fmt) for f in files for fmt in formats]
    check_formats([fmt for _, _, fmt in jobs])
    failed, seconds = 0, []
    for src, dst, fmt in jobs:
        start = time.perf_counter()
        try:
            print(write_export(loads(src.read_text()), dst, fmt))
        except (OSError, ValueError) as exc:  # ProgramFormatError and GeometryError are ValueErrors
            failed += 1
            print(f"FAILED {src} -> {dst}: {exc}")
            continue
        seconds.append(time.perf_counter() - start)
    if len(jobs) > 1:
        med = statistics.median(seconds) if seconds else 0.0
        print(f"{len(jobs) - failed}/{len(jobs)} exported (median {med:.3f} s per file)")
    return 1 if failed else 0
