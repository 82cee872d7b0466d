"""Headless Blender (bpy from PyPI) fixtures for the add-on tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

bpy = pytest.importorskip("bpy")

from blender_addon import state  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_blender(tmp_path, monkeypatch):
    """An empty scene, a forgotten add-on state and no backend.json (XDG_CONFIG_HOME in tmp)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    state.reset()
    yield
    state.reset()
