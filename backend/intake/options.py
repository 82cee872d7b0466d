"""The pipeline's option ranges, defined once: the server's schema, the CLI's flags and ``check_options``.

Sampling ranges are chosen so sampling cannot fail: a temperature is 0 (greedy) or at least
``MIN_TEMPERATURE`` (smaller ones only round to greedy, and once overflowed to NaN), and ``top_p``
is at least ``MIN_TOP_P``. The ``argparse_*`` functions are argparse ``type=`` callables, so a bad
flag is refused before any file is read, with an error that names the flag.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

MAX_CANDIDATES = 64  # the add-on's Candidates property allows up to 64
MIN_TEMPERATURE, MAX_TEMPERATURE = 1e-3, 2.0  # plus 0: greedy
MIN_TOP_P = 1e-3
MAX_SEED = 2**31 - 1
MAX_STEPS = 1024  # model passes of the unmask decoder
MAX_DECODE_BUDGET_S = 600.0  # seconds of autoregressive decoding (0: no budget)
MAX_THREADS = 256  # torch CPU threads for encoding and decoding


def temperature_problem(t: float) -> str | None:
    """Why ``t`` is not a usable temperature (None when it is)."""
    if not math.isfinite(t) or not (t == 0 or MIN_TEMPERATURE <= t <= MAX_TEMPERATURE):
        return f"must be 0 (greedy) or between {MIN_TEMPERATURE:g} and {MAX_TEMPERATURE:g}, got {t!r}"
    return None


def check_options(options: Any) -> None:
    """Raise ``ValueError`` naming the first field of ``options`` (a ReconstructOptions) out of range."""
    checks = [
        ("candidates", options.candidates, 0, MAX_CANDIDATES, True),
        ("seed", options.seed, 0, MAX_SEED, True),
        ("top_p", options.top_p, MIN_TOP_P, 1.0, False),
        ("temperature", options.temperature, 0.0, MAX_TEMPERATURE, False),
    ]
    checks.append(("decode_budget_s", options.decode_budget_s, 0.0, MAX_DECODE_BUDGET_S, False))
    if options.steps is not None:
        checks.append(("steps", options.steps, 1, MAX_STEPS, True))
    for name, value, lo, hi, whole in checks:
        if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
            raise ValueError(f"{name} must be a {'whole number' if whole else 'number'}, got {value!r}")
        if not (math.isfinite(value) and lo <= value <= hi):
            raise ValueError(f"{name} must be between {lo:g} and {hi:g}, got {value!r}")
    problem = temperature_problem(float(options.temperature))
    if problem:
        raise ValueError(f"temperature {problem}")


def _integer(text: str, lo: int, hi: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not lo <= value <= hi:
        raise argparse.ArgumentTypeError(f"must be between {lo} and {hi:,}, got {value}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def argparse_candidates(text: str) -> int:
    return _integer(text, 0, MAX_CANDIDATES)  # 0: section candidates only


def argparse_seed(text: str) -> int:
    return _integer(text, 0, MAX_SEED)


def argparse_steps(text: str) -> int:
    return _integer(text, 1, MAX_STEPS)


def argparse_threads(text: str) -> int:
    return _integer(text, 1, MAX_THREADS)


def argparse_temperature(text: str) -> float:
    value = _number(text)
    problem = temperature_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def argparse_top_p(text: str) -> float:
    value = _number(text)
    if not MIN_TOP_P <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between {MIN_TOP_P:g} and 1, got {value!r}")
    return value


def argparse_decode_budget(text: str) -> float:
    value = _number(text)
    if not 0.0 <= value <= MAX_DECODE_BUDGET_S:
        raise argparse.ArgumentTypeError(
            f"must be between 0 (no budget) and {MAX_DECODE_BUDGET_S:g} s, got {value!r}"
        )
    return value
