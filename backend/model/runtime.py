"""Where and how the model runs at inference: the device, and the CPU threads while it encodes and decodes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

# Models smaller than this decode on one CPU thread: their per-token matmuls (batch of N candidates) are
# too small to gain from threads, and on a shared machine extra threads made decoding ~10x slower.
SINGLE_THREAD_PARAMETERS = 50_000_000


def pick_device(device: str | torch.device) -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch CPU threads (None: unchanged), then restore the setting."""
    old = torch.get_num_threads()
    if n is not None and n != old:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != old:
            torch.set_num_threads(old)
