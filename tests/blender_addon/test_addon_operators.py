"""Operators end to end against a stand-in server (fake_backend.py), and their error paths."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import bpy
import pytest
from addon_helpers import add_cube, drain, evaluated, select
from golden_programs import plate_pocket
from mathutils import Matrix

import blender_addon
from blender_addon import build, operators
from blender_addon.client import BackendError, Client
from blender_addon.preferences import Settings
from blender_addon.state import STATE

FAKE_BACKEND = Path(__file__).with_name("fake_backend.py")


@pytest.fixture
def addon():
    blender_addon.register()
    yield
    blender_addon.unregister()


def _write_backend_json(python: Path) -> None:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "mesh2cad" / "backend.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"python": str(python), "written_by": "test"}))


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)
    return path


@pytest.fixture
def fake_backend(tmp_path, monkeypatch):
    """backend.json points at a 'python' that runs fake_backend.py; jobs answer with plate_pocket."""
    program = tmp_path / "program.json"
    program.write_text(json.dumps(plate_pocket()[0]))
    monkeypatch.setenv("FAKE_PROGRAM", str(program))
    monkeypatch.setenv("FAKE_CANCEL_MARKER", str(tmp_path / "cancelled"))
    python = _script(
        tmp_path / "python", f"import runpy\nrunpy.run_path({str(FAKE_BACKEND)!r}, run_name='__main__')\n"
    )
    _write_backend_json(python)
    return tmp_path


def test_reconstruct_without_selection_reports(addon):
    assert bpy.ops.mesh2cad.reconstruct() == {"CANCELLED"}
    assert STATE.last_error == "no mesh selected" and "select" in STATE.last_hint
    assert not STATE.busy


def test_reconstruct_with_backend_not_installed(addon):
    select(add_cube("Part"))
    assert bpy.ops.mesh2cad.reconstruct() == {"CANCELLED"}
    assert "not installed" in STATE.last_error and "install.py" in STATE.last_hint
    assert STATE.last_action == "mesh2cad.open_preferences"  # the error carries its fix
    assert bpy.ops.mesh2cad.start_backend() == {"CANCELLED"}
    assert "install.py" in STATE.last_hint
    assert bpy.ops.mesh2cad.open_preferences() == {"FINISHED"}  # headless: reports where, clears the error
    assert STATE.last_error == "" and STATE.last_action == ""


def test_reconstruct_with_backend_not_running_and_no_auto_start(addon, monkeypatch):
    monkeypatch.setattr(operators, "current_settings", lambda context=None: Settings(auto_start=False))
    select(add_cube("Part"))
    assert bpy.ops.mesh2cad.reconstruct() == {"CANCELLED"}
    assert STATE.last_error == "the backend is not running" and "Start Backend" in STATE.last_hint
    assert STATE.last_action == "mesh2cad.start_backend"


def test_backend_that_dies_at_start_reports_its_output(addon, tmp_path):
    python = _script(
        tmp_path / "python", "import sys\nprint('No module named backend', file=sys.stderr)\nsys.exit(1)\n"
    )
    _write_backend_json(python)
    assert bpy.ops.mesh2cad.start_backend() == {"FINISHED"}
    drain()
    assert "exited (1)" in STATE.last_error and "No module named backend" in STATE.last_error
    assert "install.py" in STATE.last_hint and not STATE.backend_alive()


def test_apply_and_export_without_result_report(addon, tmp_path):
    assert bpy.ops.mesh2cad.apply() == {"CANCELLED"}
    assert "no reconstruction" in STATE.last_error
    assert bpy.ops.mesh2cad.export_program(filepath=str(tmp_path / "x.json")) == {"CANCELLED"}


def test_reconstruct_two_meshes_apply_export_stop(addon, fake_backend):
    a, b = add_cube("A"), add_cube("B", matrix=Matrix.Translation((5, 0, 0)))
    select(a, b)
    assert bpy.ops.mesh2cad.reconstruct() == {"FINISHED"}
    assert STATE.busy
    drain()
    assert STATE.last_error == ""
    assert "A CAD" in bpy.data.collections and "B CAD" in bpy.data.collections
    assert STATE.last_result["source"] == "B" and STATE.last_result["iou"] == pytest.approx(0.987)
    assert STATE.backend_alive() and STATE.decoders() == ["ar", "unmask"]
    assert bpy.context.scene.mesh2cad.as_options()["decoder"] == "ar"
    assert bpy.context.scene.mesh2cad.as_options()["underside_unseen"] is False  # the panel's checkbox, off

    # the API's auth and 4xx paths, on the running server
    with pytest.raises(BackendError, match="token"):
        Client(STATE.backend.port, "wrong").job("job1")
    with pytest.raises(BackendError, match="no faces"):
        STATE.backend.client().submit({"face_count": 0}, {})

    program, volume, _ = plate_pocket()
    out = fake_backend / "program_out.json"
    select(build.result_object(bpy.data.collections["A CAD"]))
    assert bpy.ops.mesh2cad.export_program(filepath=str(out)) == {"FINISHED"}
    assert json.loads(out.read_text()) == program

    select(build.result_object(bpy.data.collections["B CAD"]))
    assert bpy.ops.mesh2cad.apply() == {"FINISHED"}
    baked = bpy.data.objects["B baked"]
    assert "B CAD" not in bpy.data.collections and baked.type == "MESH" and not baked.modifiers
    got, lo, _, open_edges = evaluated(baked)
    assert got == pytest.approx(volume, rel=1e-4) and lo == pytest.approx((5, 0, 0), abs=1e-5)
    assert open_edges == 0 and tuple(baked.matrix_world.translation) == pytest.approx((5, 0, 0))

    popen = STATE.backend.popen
    assert bpy.ops.mesh2cad.stop_backend() == {"FINISHED"}
    assert popen.poll() is not None and not STATE.backend_alive()


def test_cancel_deletes_the_job_and_unregister_stops_the_backend(addon, fake_backend):
    select(add_cube("Part"))
    bpy.context.scene.mesh2cad.seed = 999  # the fake never finishes this job
    assert bpy.ops.mesh2cad.reconstruct() == {"FINISHED"}
    drain(until=lambda: STATE.stage == "decoding")
    assert STATE.progress == pytest.approx(0.5) and STATE.current == "Part"
    assert bpy.ops.mesh2cad.cancel() == {"FINISHED"}
    drain()
    assert (fake_backend / "cancelled").exists() and STATE.stage == "cancelled"
    assert "Part CAD" not in bpy.data.collections
    popen = STATE.backend.popen
    blender_addon.unregister()
    assert popen.poll() is not None
    blender_addon.register()  # for the fixture's unregister


class _Layout:
    """Records what a panel draws (UILayout cannot be created headless)."""

    def __init__(self, calls: list) -> None:
        self.calls, self.enabled, self.scale_y = calls, True, 1.0

    def __getattr__(self, name: str):
        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return _Layout(self.calls)

        return call


def test_panel_draws_every_state(addon):
    from blender_addon.panel import MESH2CAD_PT_panel

    part = add_cube("Part")
    select(part)
    calls: list = []
    panel = type("P", (), {"layout": _Layout(calls)})()
    MESH2CAD_PT_panel.draw(panel, bpy.context)
    STATE.busy, STATE.total, STATE.current, STATE.index, STATE.stage = True, 2, "Part", 1, "decoding"
    STATE.last_result = {
        "source": "Part",
        "collection": "none",
        "cd": 0.001,
        "iou": 0.9,
        "seconds": 2.0,
        "features": 3,
        "note": "2 holes in the surface filled for fitting and scoring (closed)",
    }
    STATE.set_error("the backend exited\n" + "log line\n" * 30, "run `python install.py`")
    MESH2CAD_PT_panel.draw(panel, bpy.context)
    texts = [kw.get("text", "") for name, _, kw in calls if name in ("label", "progress")]
    assert "Selected meshes: 1" in texts and "Part (1/2): decoding" in texts
    assert "IoU: 0.900" in texts and "run `python install.py`" in texts
    assert "2 holes in the surface filled for fitting" in texts  # the backend's note, wrapped
    assert sum(1 for t in texts if t == "log line") <= 12
    assert ("operator", ("mesh2cad.cancel",), {"icon": "X"}) in calls
    assert not any(
        name == "operator" and args == ("mesh2cad.start_backend",) and kw.get("text") == "Start Backend"
        for name, args, kw in calls
    )  # no action, no fix button
    STATE.set_error("the backend is not running", "press Start Backend", "mesh2cad.start_backend")
    MESH2CAD_PT_panel.draw(panel, bpy.context)
    fix = ("operator", ("mesh2cad.start_backend",), {"text": "Start Backend", "icon": "PLAY"})
    assert fix in calls  # the error's action drawn as a button


def test_preferences_of_the_enabled_addon_reach_the_settings():
    import addon_utils

    from blender_addon.preferences import ADDON_ID, current_settings

    assert current_settings() == Settings()  # not enabled: defaults
    addon_utils.enable(ADDON_ID, default_set=True, handle_error=None)
    try:
        prefs = bpy.context.preferences.addons[ADDON_ID].preferences
        prefs.python, prefs.auto_start, prefs.port, prefs.request_timeout = "/opt/py", False, 8765, 3.0
        got = current_settings()
        assert (got.python, got.auto_start, got.port, got.request_timeout) == ("/opt/py", False, 8765, 3.0)
    finally:
        addon_utils.disable(ADDON_ID, default_set=True)
