"""``python -m backend reconstruct INPUT... --out-dir DIR``: mesh files (or folders of them) -> CAD programs.

Per input ``<name>.json`` (program in the input frame, cadprog/1), ``<name>.stl`` (rebuilt solid,
input frame) and ``<name>.txt`` (text form of the normalised program, after a ``# frame`` comment
giving the map back: input = scale * normalised + translation; a comment instead when a number lies
outside the text's range). One bad file is reported and the others go on; the exit code is non-zero
only when no input succeeded.

Flags are checked before any file is read (``backend.intake.options``: the error names the flag).
Two inputs never share output names (``intake.files.output_stems``), and each input's files are
written into a temporary folder first and renamed into place together: a failure leaves none of them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from backend.cli import export as export_cli
from backend.intake import options as limits
from backend.intake.files import collect_inputs, output_stems

if TYPE_CHECKING:
    from backend.cad.program import Program
    from backend.reconstruct import ReconstructOptions, ReconstructResult

FAILED_EXIT_CODE = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """INPUT..., --out-dir and the pipeline's options."""
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="mesh files or folders of mesh files")
    parser.add_argument("--out-dir", required=True, help="output folder")
    add_reconstruct_options(parser)
    export_cli.add_format_option(parser)


def add_reconstruct_options(
    parser: argparse.ArgumentParser, *, seed: bool = True, refine: bool = True
) -> None:
    """The pipeline's options, shared with ``evaluate`` (read back by ``options_from_args``).

    ``seed=False`` leaves out ``--seed`` (evaluate's own ``--seed`` means something else; the sampling
    seed stays the default) and ``refine=False`` leaves out ``--no-refine`` (the refinement stays on).
    """
    from backend.decode import DECODERS
    from backend.reconstruct import ReconstructOptions

    d = ReconstructOptions()
    parser.add_argument(
        "--candidates",
        type=limits.argparse_candidates,
        default=d.candidates,
        help=f"model candidates, 0..{limits.MAX_CANDIDATES} (default {d.candidates}; 0: sections only)",
    )
    parser.add_argument(
        "--temperature",
        type=limits.argparse_temperature,
        default=d.temperature,
        help=f"sampling temperature: 0 (greedy) or {limits.MIN_TEMPERATURE:g}..{limits.MAX_TEMPERATURE:g}"
        f" (default {d.temperature})",
    )
    parser.add_argument(
        "--top-p",
        type=limits.argparse_top_p,
        default=d.top_p,
        help=f"nucleus sampling mass, {limits.MIN_TOP_P:g}..1 (default {d.top_p})",
    )
    if seed:
        parser.add_argument(
            "--seed",
            dest="sample_seed",
            metavar="SEED",
            type=limits.argparse_seed,
            default=d.seed,
            help=f"sampling seed, 0..{limits.MAX_SEED} (default {d.seed})",
        )
    else:
        parser.set_defaults(sample_seed=d.seed)
    parser.add_argument("--checkpoint", default=None, help="model folder (default: the shipped checkpoint)")
    parser.add_argument(
        "--unmask-checkpoint",
        default=None,
        help="masked-diffusion model folder for --decoder unmask (default: the shipped one; 'none': off)",
    )
    parser.add_argument(
        "--decoder", default=d.decoder, choices=list(DECODERS), help=f"decoder (default {d.decoder})"
    )
    parser.add_argument(
        "--steps",
        type=limits.argparse_steps,
        default=None,
        help="model passes of the unmask decoder (default: its DEFAULT_STEPS)",
    )
    parser.add_argument(
        "--decode-budget",
        type=limits.argparse_decode_budget,
        default=d.decode_budget_s,
        metavar="S",
        help=f"seconds of autoregressive decoding; candidates unfinished then are dropped (default {d.decode_budget_s:g}; 0: none)",
    )
    parser.add_argument(
        "--fixed-budgets",
        action="store_true",
        help="budgets in work, not seconds: the decoding steps and refinement trials that --decode-budget's"
        " seconds (and the refinement's 1 s) buy on the reference 2-core machine (176 steps for 2 s, 54"
        " trials); the same result under any load, for comparing runs part by part",
    )
    parser.add_argument(
        "--threads",
        type=limits.argparse_threads,
        default=None,
        help="torch CPU threads for encoding and decoding (default: 1 for a small model such as the shipped one)",
    )
    parser.add_argument("--no-sections", action="store_true", help="do not add section candidates")
    parser.add_argument(
        "--no-level-search",
        action="store_true",
        help="do not search the model's best programs' extrusions over the mesh's levels (verify.levels)",
    )
    parser.add_argument(
        "--underside-unseen",
        action="store_true",
        help="the part was scanned standing on a table: close a point cloud's face on the lowest level of"
        " its z axis and the faces turned downwards above it, which have no samples (meshes are read as"
        " they are; without it, a cloud whose lowest samples ring an empty face gets a note suggesting it)",
    )
    if refine:
        parser.add_argument("--no-refine", action="store_true", help="skip the refinement stage")
    else:
        parser.set_defaults(no_refine=False)


def options_from_args(args: argparse.Namespace) -> ReconstructOptions:
    """``ReconstructOptions`` from the arguments ``add_reconstruct_options`` registered."""
    from backend.reconstruct import ReconstructOptions

    return ReconstructOptions(
        candidates=args.candidates,
        temperature=args.temperature,
        top_p=args.top_p,
        seed=args.sample_seed,
        decoder=args.decoder,
        steps=args.steps,
        use_sections=not args.no_sections,
        refine=not args.no_refine,
        decode_budget_s=args.decode_budget,
        fixed_budgets=args.fixed_budgets,
        level_search=not args.no_level_search,
        underside_unseen=args.underside_unseen,
    )


def _write_files(result: ReconstructResult, folder: Path, stem: str) -> list[Path]:
    from backend.cad.serialize import dumps
    from backend.geometry.mesh_io import save_mesh

    f = result.frame
    header = f"# frame scale={f.scale:.9g} translation={' '.join(f'{t:.9g}' for t in f.translation)}"
    paths = [folder / f"{stem}.json", folder / f"{stem}.stl", folder / f"{stem}.txt"]
    paths[0].write_text(dumps(result.program, indent=1))
    save_mesh(result.mesh, paths[1])
    paths[2].write_text(header + "\n" + _text_or_note(result.program_normalized))
    return paths


def _text_or_note(program: Program) -> str:
    """The program's text form, or a comment saying why it has none: the text is the model's token
    language, whose numbers span [-1, 1] of the normalised part, and a reconstruction may reach beyond it
    (a cut through the input and a candidate larger than it). The JSON holds the program either way; a
    missing text must not cost the reconstruction."""
    from backend.cad.quantize import QuantizationRangeError
    from backend.cad.text import program_to_text

    try:
        return program_to_text(program)
    except QuantizationRangeError as exc:
        return f"# no text form: {exc} (the JSON holds the program)\n"


def write_outputs(result: ReconstructResult, out_dir: Path, stem: str) -> list[Path]:
    """The three files of one reconstruction, placed together (``publish``); returns their paths."""
    return publish(out_dir, stem, lambda folder: _write_files(result, folder, stem))


def publish(out_dir: Path, stem: str, write: Callable[[Path], object]) -> list[Path]:
    """Run ``write(folder)`` into a fresh temporary folder inside ``out_dir``, then rename every file it
    wrote into ``out_dir``; on any failure nothing of this call is left (temporaries or renamed files)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{stem}.", suffix=".tmp", dir=out_dir))
    placed: list[Path] = []
    try:
        write(tmp)
        files = sorted(tmp.iterdir())
        for f in files:
            if (out_dir / f.name).is_dir():
                raise IsADirectoryError(f"cannot write {out_dir / f.name}: a folder has that name")
        for f in files:
            os.replace(f, out_dir / f.name)
            placed.append(out_dir / f.name)
    except BaseException:
        for p in placed:
            p.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return placed


def run(args: argparse.Namespace) -> int:
    """Reconstruct every input; 0 when at least one succeeded."""
    from backend.geometry.mesh_io import load_mesh
    from backend.reconstruct import Reconstructor

    paths = collect_inputs(args.inputs)
    if not paths:
        print("no mesh files found in the inputs")
        return FAILED_EXIT_CODE
    out_dir = Path(args.out_dir)
    reconstructor = Reconstructor(
        args.checkpoint, threads=args.threads, unmask_checkpoint=args.unmask_checkpoint
    )
    if not reconstructor.has_model:
        print(f"note: no model checkpoint at {reconstructor.checkpoint}; using section candidates only")
    options = options_from_args(args)
    export_cli.check_formats(args.export_formats)
    ok, failed, seconds = 0, [], []
    stems = output_stems(paths)
    for path, stem in zip(paths, stems):
        if stem != path.stem:
            print(f"note: {path} writes {stem}.* (another input has the name {path.stem})")
    for path, stem in tqdm(list(zip(paths, stems)), desc="reconstruct", unit="part"):
        start = time.perf_counter()
        try:
            result = reconstructor.reconstruct(load_mesh(path), options)

            def write(folder: Path, result=result, stem=stem) -> None:
                _write_files(result, folder, stem)
                export_cli.write_exports(result.program, folder, stem, args.export_formats)

            publish(out_dir, stem, write)
        except Exception as exc:  # one bad file never stops the batch (MeshError etc. are ValueErrors)
            failed.append(path)
            why = str(exc) if isinstance(exc, OSError | ValueError) else f"{type(exc).__name__}: {exc}"
            tqdm.write(f"FAILED {path}: {why}")
            continue
        dt = time.perf_counter() - start
        seconds.append(dt)
        ok += 1
        s = result.scores
        tqdm.write(
            f"{stem}: CD x1000 {s['cd'] * 1000:.3f}  IoU {s['iou']:.3f}  features {result.n_features}"
            f"  curves {result.n_curves}  {dt:.2f} s  source {result.source}"
        )
        if s.get("input_note"):  # what was done to a copy of the input (decimated, holes filled)
            tqdm.write(f"  note: {s['input_note']}")
    med = statistics.median(seconds) if seconds else 0.0
    print(f"{ok}/{len(paths)} reconstructed into {out_dir} (median {med:.2f} s per part)")
    for p in failed:
        print(f"  failed: {p}")
    return 0 if ok else FAILED_EXIT_CODE
