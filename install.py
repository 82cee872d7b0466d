#!/usr/bin/env python3
"""One-command installer for mesh2cad (stdlib only).

    python3.11 install.py [--venv PATH] [--no-demo] [--blender PATH] [--skip-addon]

Steps:
  1. python    find a Python 3.11 interpreter (this one, python3.11 on PATH, or pyenv's)
  2. venv      create the backend virtual environment (default: .venv in the repo root) if missing
  3. deps      pip install -e ".[dev,step]" (skipped when the stamp in the venv matches pyproject.toml)
  4. register  record the backend's python in <config>/mesh2cad/backend.json for the add-on
  5. addon     zip blender_addon/ into out/ and install it into Blender when a blender executable is found
  6. demo      run `<venv python> -m backend demo` (unless --no-demo)

Exits 0 on success, 2 when no Python 3.11 can be found, 1 when a step fails (the step is named).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent
REQUIRED = (3, 11)
STAMP_NAME = ".mesh2cad-install.stamp"
EXTRAS = "dev,step"  # optional-dependency groups of pyproject.toml that install.py installs
ADDON_DIR_NAME = "blender_addon"
MANIFEST_NAME = "blender_manifest.toml"
ZIP_EXCLUDE_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".git"}
ZIP_EXCLUDE_SUFFIXES = (".pyc", ".pyo", ".blend1")

PYTHON_HELP = (
    "Python 3.11 is required (the backend pins torch and friends for 3.11).\n"
    "Get it with one of:\n"
    "  - pyenv:            pyenv install 3.11 && pyenv shell 3.11\n"
    "  - Debian/Ubuntu:    sudo apt install python3.11 python3.11-venv\n"
    "  - macOS (Homebrew): brew install python@3.11\n"
    "  - Windows / other:  https://www.python.org/downloads/ (3.11.x)\n"
    "then run:  python3.11 install.py"
)


class StepError(Exception):
    """A step failed; the message says why."""


# ---------------------------------------------------------------- output


def say(msg: str = "") -> None:
    print(msg, flush=True)


def run_step(number: int, total: int, name: str, func, *args):
    """Run one step with a header and a timing line; StepError carries the step name out."""
    say(f"\n[{number}/{total}] {name}")
    t0 = time.monotonic()
    try:
        result = func(*args)
    except StepError as exc:
        say(f"  FAILED after {time.monotonic() - t0:.1f}s: {exc}")
        raise StepError(f"step '{name}' failed: {exc}") from None
    say(f"  done in {time.monotonic() - t0:.1f}s")
    return result


# ---------------------------------------------------------------- python discovery


def interpreter_version(path: str | os.PathLike) -> tuple[int, int] | None:
    """(major, minor) of the interpreter at `path`, or None when it does not run."""
    try:
        out = subprocess.run(
            [str(path), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    m = re.fullmatch(r"(\d+)\.(\d+)", out.stdout.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def python311_candidates(
    current_executable: str | None = None,
    current_version: tuple[int, int] | None = None,
) -> list[str]:
    """Interpreters worth trying, best first (not yet verified, except the running one)."""
    exe = sys.executable if current_executable is None else current_executable
    ver = tuple(sys.version_info[:2]) if current_version is None else tuple(current_version)
    cands: list[str] = []
    if exe and ver == REQUIRED:
        cands.append(exe)
    for name in ("python3.11", "python3.11.exe"):
        found = shutil.which(name)
        if found:
            cands.append(found)
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    pattern = os.path.join(pyenv_root, "versions", "3.11*", "bin", "python3.11")
    cands += sorted(glob.glob(pattern), reverse=True)
    if os.name == "nt":  # the py launcher
        launcher = shutil.which("py")
        if launcher:
            try:
                out = subprocess.run(
                    [launcher, "-3.11", "-c", "import sys; print(sys.executable)"],
                    capture_output=True,
                    text=True,
                    timeout=30,
                )
                if out.returncode == 0 and out.stdout.strip():
                    cands.append(out.stdout.strip())
            except (OSError, subprocess.SubprocessError):
                pass
    seen: set[str] = set()
    unique = []
    for c in cands:
        if c not in seen:
            seen.add(c)
            unique.append(c)
    return unique


def find_python311(
    current_executable: str | None = None,
    current_version: tuple[int, int] | None = None,
) -> str | None:
    """Path of a working Python 3.11 interpreter, or None."""
    exe = sys.executable if current_executable is None else current_executable
    ver = tuple(sys.version_info[:2]) if current_version is None else tuple(current_version)
    for cand in python311_candidates(exe, ver):
        if cand == exe and ver == REQUIRED:
            return cand
        if interpreter_version(cand) == REQUIRED:
            return cand
    return None


# ---------------------------------------------------------------- venv + stamp


def venv_python(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def compute_stamp(pyproject: Path, repo_root: Path | None = None) -> str:
    """Hash of pyproject.toml (plus the repo it was installed from, for the editable install)."""
    h = hashlib.sha256()
    h.update(pyproject.read_bytes())
    h.update(b"\0")
    h.update(str((repo_root or pyproject.parent).resolve()).encode())
    h.update(b"\0" + EXTRAS.encode())
    return h.hexdigest()


def stamp_path(venv: Path) -> Path:
    return venv / STAMP_NAME


def stamp_matches(venv: Path, stamp: str) -> bool:
    try:
        return stamp_path(venv).read_text().strip() == stamp
    except OSError:
        return False


def write_stamp(venv: Path, stamp: str) -> None:
    stamp_path(venv).write_text(stamp + "\n")


def stream(cmd: list[str], cwd: Path | None = None, prefix: str = "    ") -> int:
    """Run `cmd`, echoing its output line by line; return the exit status."""
    say(f"  $ {' '.join(str(c) for c in cmd)}")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    try:
        proc = subprocess.Popen(
            [str(c) for c in cmd],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env=env,
        )
    except OSError as exc:
        raise StepError(f"could not start {cmd[0]}: {exc}") from None
    assert proc.stdout is not None
    for line in proc.stdout:
        say(prefix + line.rstrip("\n"))
    return proc.wait()


def step_venv(python: str, venv: Path) -> Path:
    py = venv_python(venv)
    if venv.exists():
        if not (venv / "pyvenv.cfg").exists() or not py.exists():
            raise StepError(f"{venv} exists but is not a virtual environment; remove it or pass --venv")
        ver = interpreter_version(py)
        if ver != REQUIRED:
            raise StepError(
                f"{venv} uses Python {ver and '.'.join(map(str, ver))}, not 3.11; "
                "remove it (or pass --venv PATH) and re-run"
            )
        say(f"  using existing venv {venv} (Python 3.11)")
        return py
    say(f"  creating venv {venv} with {python}")
    rc = stream([python, "-m", "venv", str(venv)])
    if rc != 0 or not py.exists():
        raise StepError(f"`{python} -m venv {venv}` exited {rc}")
    return py


def step_deps(py: Path, venv: Path, repo_root: Path) -> None:
    stamp = compute_stamp(repo_root / "pyproject.toml", repo_root)
    if stamp_matches(venv, stamp):
        say("  pyproject.toml unchanged since the last install (stamp matches): skipping pip")
        return
    # No --index-url / --no-index / --isolated: the machine's pip config (find-links, mirrors) applies.
    spec = f".[{EXTRAS}]"
    rc = stream([str(py), "-m", "pip", "install", "--progress-bar", "off", "-e", spec], cwd=repo_root)
    if rc != 0:
        raise StepError(f"pip install -e '{spec}' exited {rc}")
    write_stamp(venv, stamp)
    say(f"  wrote stamp {stamp_path(venv)}")


# ---------------------------------------------------------------- backend registration


def config_dir() -> Path:
    """The user's config folder for mesh2cad ($XDG_CONFIG_HOME or ~/.config; %APPDATA% on Windows)."""
    base = os.environ.get("XDG_CONFIG_HOME")
    if not base and os.name == "nt":
        base = os.environ.get("APPDATA")
    if not base:
        base = os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "mesh2cad"


def write_backend_config(py: Path, venv: Path, repo_root: Path, directory: Path | None = None) -> Path:
    directory = directory or config_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "backend.json"
    data = {
        "python": str(Path(os.path.abspath(py))),
        "venv": str(Path(os.path.abspath(venv))),
        "repo": str(repo_root.resolve()),
        "written_by": "install.py",
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def step_register(py: Path, venv: Path, repo_root: Path) -> None:
    path = write_backend_config(py, venv, repo_root)
    say(f"  backend python {py} recorded in {path}")


# ---------------------------------------------------------------- add-on


def manifest_id_version(manifest: Path) -> tuple[str, str]:
    """(id, version) from blender_manifest.toml; falls back to ('mesh2cad', '0.0.0')."""
    text = manifest.read_text(encoding="utf-8")
    data: dict = {}
    try:
        import tomllib

        data = tomllib.loads(text)
    except Exception:  # older Python (no tomllib) or malformed TOML: fall back to a regex
        for key in ("id", "version"):
            m = re.search(rf'^\s*{key}\s*=\s*"([^"]*)"', text, re.MULTILINE)
            if m:
                data[key] = m.group(1)
    ext_id = str(data.get("id") or "mesh2cad")
    version = str(data.get("version") or "0.0.0")
    safe = lambda s: re.sub(r"[^A-Za-z0-9._-]", "_", s)
    return safe(ext_id), safe(version)


def build_addon_zip(addon_dir: Path, out_dir: Path) -> Path:
    """Zip the contents of `addon_dir` (manifest at the top of the zip) into out_dir/<id>-<version>.zip."""
    manifest = addon_dir / MANIFEST_NAME
    if not manifest.is_file():
        raise StepError(f"{manifest} not found")
    ext_id, version = manifest_id_version(manifest)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{ext_id}-{version}.zip"
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for root, dirs, files in os.walk(addon_dir):
            dirs[:] = sorted(d for d in dirs if d not in ZIP_EXCLUDE_DIRS and not d.startswith("."))
            for name in sorted(files):
                if name.endswith(ZIP_EXCLUDE_SUFFIXES) or name.startswith("."):
                    continue
                full = Path(root) / name
                zf.write(full, full.relative_to(addon_dir).as_posix())
    os.replace(tmp, target)
    return target


def find_blender(explicit: str | None) -> str | None:
    if explicit:
        p = Path(explicit).expanduser()
        if p.is_dir():  # a macOS .app bundle or an unpacked folder
            for sub in ("Contents/MacOS/Blender", "blender", "blender.exe"):
                if (p / sub).is_file():
                    return str(p / sub)
        return str(p) if p.is_file() else shutil.which(explicit)
    return shutil.which("blender")


def step_addon(repo_root: Path, blender_arg: str | None) -> None:
    addon_dir = repo_root / ADDON_DIR_NAME
    if not (addon_dir / MANIFEST_NAME).is_file():
        say(f"  note: {ADDON_DIR_NAME}/{MANIFEST_NAME} does not exist yet; nothing to build or install")
        return
    zip_path = build_addon_zip(addon_dir, repo_root / "out")
    say(f"  built {zip_path}")
    blender = find_blender(blender_arg)
    if blender_arg and not blender:
        raise StepError(f"--blender {blender_arg}: no such executable")
    if not blender:
        say("  no `blender` executable found (pass --blender PATH to install automatically).")
        say("  Install it by hand in Blender 4.2+:")
        say("    1. Edit > Preferences > Get Extensions")
        say(f"    2. the menu at the top right (v) > Install from Disk... > choose {zip_path}")
        return
    rc = stream(
        [
            blender,
            "--background",
            "--command",
            "extension",
            "install-file",
            "-r",
            "user_default",
            "-e",
            str(zip_path),
        ]
    )
    if rc != 0:
        raise StepError(f"blender extension install-file exited {rc}")
    say("  add-on installed and enabled in Blender (repository user_default)")


# ---------------------------------------------------------------- demo


def demo_available(py: Path, repo_root: Path) -> tuple[bool, str]:
    """Whether `python -m backend demo` exists; (False, reason) when not."""
    if not (repo_root / "backend" / "__main__.py").is_file():
        return False, "backend/__main__.py does not exist yet"
    try:
        out = subprocess.run(
            [str(py), "-m", "backend", "--help"], cwd=repo_root, capture_output=True, text=True, timeout=300
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"`python -m backend --help` did not run: {exc}"
    if not re.search(r"\bdemo\b", out.stdout + out.stderr):
        return False, "`python -m backend --help` lists no `demo` command yet"
    return True, ""


def step_demo(py: Path, repo_root: Path) -> None:
    ok, why = demo_available(py, repo_root)
    if not ok:
        say(f"  note: skipping the demo: {why}")
        return
    rc = stream([str(py), "-m", "backend", "demo"], cwd=repo_root)
    if rc != 0:
        raise StepError(f"`python -m backend demo` exited {rc}")


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Install the mesh2cad backend (venv + deps), the Blender add-on, and run the demo."
    )
    p.add_argument(
        "--venv",
        default=str(REPO_ROOT / ".venv"),
        help="virtual environment to create/use (default: .venv in the repo root)",
    )
    p.add_argument("--no-demo", action="store_true", help="do not run `python -m backend demo` at the end")
    p.add_argument(
        "--blender",
        metavar="PATH",
        help="Blender executable to install the add-on into (default: `blender` on PATH, if any)",
    )
    p.add_argument("--skip-addon", action="store_true", help="do not build or install the Blender add-on")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    venv = Path(args.venv).expanduser()
    if not venv.is_absolute():
        venv = Path.cwd() / venv
    venv = Path(os.path.abspath(venv))
    t_start = time.monotonic()
    say(f"mesh2cad install: repo {REPO_ROOT}, venv {venv}")

    python = find_python311()
    if python is None:
        running = f"{sys.version.split()[0]} at {sys.executable}"
        say(f"\nERROR: no Python 3.11 interpreter found (running {running}).")
        say(PYTHON_HELP)
        return 2

    total = 4 + (0 if args.skip_addon else 1) + (0 if args.no_demo else 1)
    n = 0
    try:
        n += 1
        say(f"\n[{n}/{total}] python")
        say(f"  using Python 3.11 at {python}")
        n += 1
        py = run_step(n, total, "venv", step_venv, python, venv)
        n += 1
        run_step(n, total, "deps", step_deps, py, venv, REPO_ROOT)
        n += 1
        run_step(n, total, "register", step_register, py, venv, REPO_ROOT)
        if not args.skip_addon:
            n += 1
            run_step(n, total, "addon", step_addon, REPO_ROOT, args.blender)
        if not args.no_demo:
            n += 1
            run_step(n, total, "demo", step_demo, py, REPO_ROOT)
    except StepError as exc:
        say(f"\nERROR: {exc}")
        return 1
    except KeyboardInterrupt:
        say("\ninterrupted")
        return 130
    say(f"\nall done in {time.monotonic() - t_start:.1f}s. Backend python: {py}")
    say("next: .venv/bin/python -m pytest" if venv == REPO_ROOT / ".venv" else f"next: {py} -m pytest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
