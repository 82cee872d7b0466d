"""``python -m backend reconstruct INPUT... --out-dir DIR``: mesh files (or folders of them) -> CAD programs.

Per input ``<name>.json`` (program in the input frame, cadprog/1), ``<name>.stl`` (rebuilt solid,
input frame) and ``<name>.txt`` (text form of the normalised program, after a ``# frame`` comment
giving the map back: input = scale * normalised + translation). One bad file is reported and the
others go on; the exit code is non-zero only when no input succeeded.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from backend.cli import export as export_cli
from backend.intake.files import collect_inputs

if TYPE_CHECKING:
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
        "--candidates", type=int, default=d.candidates, help=f"model candidates (default {d.candidates})"
    )
    parser.add_argument(
        "--temperature",
        type=float,
        default=d.temperature,
        help=f"sampling temperature (default {d.temperature})",
    )
    if seed:
        parser.add_argument(
            "--seed",
            dest="sample_seed",
            metavar="SEED",
            type=int,
            default=d.seed,
            help=f"sampling seed (default {d.seed})",
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
        type=int,
        default=None,
        help="model passes of the unmask decoder (default: its DEFAULT_STEPS)",
    )
    parser.add_argument("--no-sections", action="store_true", help="do not add section candidates")
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
        seed=args.sample_seed,
        decoder=args.decoder,
        steps=args.steps,
        use_sections=not args.no_sections,
        refine=not args.no_refine,
    )


def _unique_stems(paths: list[Path]) -> list[str]:
    seen: dict[str, int] = {}
    stems = []
    for p in paths:
        n = seen.get(p.stem, 0)
        seen[p.stem] = n + 1
        stems.append(p.stem if n == 0 else f"{p.stem}_{n + 1}")
    return stems


def write_outputs(result: ReconstructResult, out_dir: Path, stem: str) -> list[Path]:
    """The three files of one reconstruction; returns their paths."""
    from backend.cad.serialize import dumps
    from backend.cad.text import program_to_text
    from backend.geometry.mesh_io import save_mesh

    out_dir.mkdir(parents=True, exist_ok=True)
    f = result.frame
    header = f"# frame scale={f.scale:.9g} translation={' '.join(f'{t:.9g}' for t in f.translation)}"
    paths = [out_dir / f"{stem}.json", out_dir / f"{stem}.stl", out_dir / f"{stem}.txt"]
    paths[0].write_text(dumps(result.program, indent=1))
    save_mesh(result.mesh, paths[1])
    paths[2].write_text(header + "\n" + program_to_text(result.program_normalized))
    return paths


def run(args: argparse.Namespace) -> int:
    """Reconstruct every input; 0 when at least one succeeded."""
    from backend.geometry.mesh_io import load_mesh
    from backend.reconstruct import Reconstructor

    paths = collect_inputs(args.inputs)
    if not paths:
        print("no mesh files found in the inputs")
        return FAILED_EXIT_CODE
    out_dir = Path(args.out_dir)
    reconstructor = Reconstructor(args.checkpoint, unmask_checkpoint=args.unmask_checkpoint)
    if not reconstructor.has_model:
        print(f"note: no model checkpoint at {reconstructor.checkpoint}; using section candidates only")
    options = options_from_args(args)
    export_cli.check_formats(args.export_formats)
    ok, failed, seconds = 0, [], []
    for path, stem in tqdm(list(zip(paths, _unique_stems(paths))), desc="reconstruct", unit="part"):
        start = time.perf_counter()
        try:
            result = reconstructor.reconstruct(load_mesh(path), options)
            write_outputs(result, out_dir, stem)
            export_cli.write_exports(result.program, out_dir, stem, args.export_formats)
        except (OSError, ValueError) as exc:  # MeshError, InputMeshError, GeometryError are ValueErrors
            failed.append(path)
            tqdm.write(f"FAILED {path}: {exc}")
            continue
        dt = time.perf_counter() - start
        seconds.append(dt)
        ok += 1
        s = result.scores
        tqdm.write(
            f"{stem}: CD x1000 {s['cd'] * 1000:.3f}  IoU {s['iou']:.3f}  features {result.n_features}"
            f"  curves {result.n_curves}  {dt:.2f} s  source {result.source}"
        )
    med = statistics.median(seconds) if seconds else 0.0
    print(f"{ok}/{len(paths)} reconstructed into {out_dir} (median {med:.2f} s per part)")
    for p in failed:
        print(f"  failed: {p}")
    return 0 if ok else FAILED_EXIT_CODE
