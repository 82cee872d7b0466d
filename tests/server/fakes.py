"""A picklable stand-in for ``Reconstructor`` that a worker process can build (``tests.server.fakes``).

``options.seed`` picks what a job does, so one worker can show every way a job ends.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import trimesh

from backend.reconstruct import Cancelled

QUICK, BUSY, SLEEPY, DIES, POLITE = 0, 1, 2, 3, 4


class Result:
    """What ``backend.server.results.result_to_dict`` needs of a ReconstructResult."""

    def __init__(self, mesh: trimesh.Trimesh) -> None:
        self.mesh = mesh

    def to_dict(self) -> dict[str, Any]:
        return {
            "program": {"format": "cadprog/1", "features": []},
            "scores": {"cd": 0.0},
            "timings": {"total": 0.01},
            "n_features": 0,
            "source": "fake",
            "pid": os.getpid(),
        }


class FakeReconstructor:
    decoders = ["ar"]
    has_model = False

    def reconstruct(self, mesh, options, progress=None, should_cancel=None) -> Result:
        if progress is not None:
            progress(0.1, "validate")
        if options.seed == BUSY:  # pure Python, holds the worker's GIL, never looks at should_cancel
            deadline, x = time.monotonic() + 120, 0
            while time.monotonic() < deadline:
                x += 1
        elif options.seed == SLEEPY:
            time.sleep(120)
        elif options.seed == DIES:
            os._exit(3)
        elif options.seed == POLITE:
            while not should_cancel():
                time.sleep(0.01)
            raise Cancelled("cancelled")
        if not hasattr(mesh, "faces"):  # a point cloud: its bounding box stands in for a solid
            return Result(trimesh.creation.box(bounds=mesh.bounds))
        return Result(trimesh.Trimesh(np.asarray(mesh.vertices), np.asarray(mesh.faces), process=False))
