"""Fast checks of install.py's pure helpers (no network, no venv creation)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def install():
    spec = importlib.util.spec_from_file_location("mesh2cad_install", ROOT / "install.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _version_of(path: str) -> tuple[int, int]:
    out = subprocess.run(
        [path, "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    major, minor = out.stdout.split()
    return int(major), int(minor)


def test_find_python311_prefers_running_311(install):
    assert install.find_python311("/some/python", (3, 11)) == "/some/python"


def test_find_python311_searches_when_running_other_version(install):
    found = install.find_python311("/not/a/python", (3, 12))
    if found is None:
        pytest.skip("no python3.11 on PATH or in pyenv")
    assert found != "/not/a/python"
    assert _version_of(found) == (3, 11)


def test_find_python311_default_is_311(install):
    found = install.find_python311()
    assert found is not None and _version_of(found) == (3, 11)


def test_interpreter_version_of_missing_path_is_none(install, tmp_path):
    assert install.interpreter_version(tmp_path / "nope") is None
    assert install.interpreter_version(sys.executable) == tuple(sys.version_info[:2])


def test_stamp_detects_changed_pyproject(install, tmp_path):
    repo, venv = tmp_path / "repo", tmp_path / "venv"
    repo.mkdir()
    venv.mkdir()
    pyproject = repo / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["a==1"]\n')
    stamp = install.compute_stamp(pyproject, repo)
    assert not install.stamp_matches(venv, stamp)  # no stamp yet
    install.write_stamp(venv, stamp)
    assert install.stamp_matches(venv, install.compute_stamp(pyproject, repo))
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["a==2"]\n')
    assert not install.stamp_matches(venv, install.compute_stamp(pyproject, repo))


def test_stamp_depends_on_repo_location(install, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        (d / "pyproject.toml").write_text("same\n")
    assert install.compute_stamp(a / "pyproject.toml", a) != install.compute_stamp(b / "pyproject.toml", b)


def test_addon_zip_has_manifest_at_top(install, tmp_path):
    addon = tmp_path / "blender_addon"
    (addon / "sub").mkdir(parents=True)
    (addon / "__pycache__").mkdir()
    (addon / "blender_manifest.toml").write_text(
        'schema_version = "1.0.0"\nid = "mesh2cad"\nversion = "0.1.0"\nname = "Mesh to CAD"\n'
    )
    (addon / "__init__.py").write_text("bl_info = None\n")
    (addon / "sub" / "build.py").write_text("x = 1\n")
    (addon / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0")
    out = tmp_path / "out"
    path = install.build_addon_zip(addon, out)
    assert path == out / "mesh2cad-0.1.0.zip"
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    assert names == {"blender_manifest.toml", "__init__.py", "sub/build.py"}


def test_addon_step_is_noop_without_manifest(install, tmp_path, capsys):
    install.step_addon(tmp_path, None)
    assert "does not exist yet" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()


def test_backend_config_honours_xdg(install, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert install.config_dir() == tmp_path / "cfg" / "mesh2cad"
    path = install.write_backend_config(tmp_path / "venv" / "bin" / "python", tmp_path / "venv", ROOT)
    assert path == tmp_path / "cfg" / "mesh2cad" / "backend.json"
    data = json.loads(path.read_text())
    assert data["python"] == str(tmp_path / "venv" / "bin" / "python")
    assert data["repo"] == str(ROOT)


def test_demo_missing_main_is_reported(install, tmp_path):
    ok, why = install.demo_available(Path(sys.executable), tmp_path)
    assert not ok and "__main__" in why


def test_parse_args(install):
    args = install.parse_args(["--venv", "/tmp/v", "--no-demo", "--blender", "/x/blender", "--skip-addon"])
    assert (args.venv, args.no_demo, args.blender, args.skip_addon) == ("/tmp/v", True, "/x/blender", True)
    args = install.parse_args([])
    assert args.venv == str(ROOT / ".venv") and not args.no_demo and not args.skip_addon
