"""Distribution of the procedural generator, to compare with ``shared/realparts/STATS.md``.

``python -m backend.data.stats [n] [seed]`` prints the report.
"""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np

from backend.cad.program import Arc, Line, Program
from backend.cad.tokens import CadTokenizer
from backend.data.generator import generate_program
from backend.model.cad_model import ModelConfig


def _summary(values: list[int]) -> dict:
    a = np.asarray(values, dtype=float)
    return {
        "mean": float(a.mean()),
        "median": float(np.median(a)),
        "p90": float(np.percentile(a, 90)),
        "p95": float(np.percentile(a, 95)),
        "max": int(a.max()),
    }


def _fractions(counter: Counter) -> dict:
    total = sum(counter.values()) or 1
    return {k: counter[k] / total for k in sorted(counter)}


def program_stats(programs: list[Program], tokenizer: CadTokenizer | None = None) -> dict:
    """Statistics of a list of programs (see ``report`` for what they are)."""
    tokenizer = tokenizer or CadTokenizer()
    feats, loops_len, lines_per, tok_len, profiles = [], [], [], [], []
    curves, ops, extents, normals = Counter(), Counter(), Counter(), Counter()
    with_arc = with_circle = 0
    for p in programs:
        feats.append(len(p.features))
        tok_len.append(len(tokenizer.encode(p)))
        kinds: Counter = Counter()
        for f in p.features:
            ops[f.operation.value] += 1
            extents[f.extent.kind.value] += 1
            n = f.sketch.plane.normal
            normals["xyz"[int(np.argmax(np.abs(n)))] if max(map(abs, n)) > 0.999 else "other"] += 1
            profiles.append(len(f.sketch.profiles))
            for pr in f.sketch.profiles:
                for loop in pr.loops:
                    loops_len.append(len(loop.curves))
                    for c in loop.curves:
                        kinds[
                            "line" if isinstance(c, Line) else "arc" if isinstance(c, Arc) else "circle"
                        ] += 1
        curves.update(kinds)
        lines_per.append(kinds["line"])
        with_arc += kinds["arc"] > 0
        with_circle += kinds["circle"] > 0
    n = max(len(programs), 1)
    return {
        "parts": len(programs),
        "features_per_part": _summary(feats),
        "features_histogram": dict(sorted(Counter(feats).items())),
        "profiles_per_sketch": _summary(profiles),
        "curves_per_loop": _summary(loops_len),
        "lines_per_part": _summary(lines_per),
        "curve_mix": _fractions(curves),
        "parts_with_arc": with_arc / n,
        "parts_with_circle": with_circle / n,
        "operation_mix": _fractions(ops),
        "extent_mix": _fractions(extents),
        "plane_normals": _fractions(normals),
        "token_length": _summary(tok_len),
        "over_token_limit": sum(t > ModelConfig.max_tokens for t in tok_len) / n,
    }


def distribution(n: int, seed: int = 0, rich_share: float = 0.0) -> dict:
    """Statistics of the programs of seeds seed .. seed + n - 1; with ``rich_share`` > 0, of the training
    parts those seeds stand for (``dataset.training_part``: that share drawn rich)."""
    if not 0.0 <= rich_share <= 1.0:
        raise ValueError(f"rich_share must lie in [0, 1], got {rich_share}")
    if rich_share > 0:
        from backend.data.dataset import training_part

        stats = program_stats([training_part(s, rich_share)[0] for s in range(seed, seed + n)])
        return stats | {"rich_share": rich_share}
    return program_stats([generate_program(s) for s in range(seed, seed + n)])


def _fmt(d: dict) -> str:
    return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in d.items())


def report(stats: dict) -> str:
    """Printable report of ``distribution``'s dict."""
    rich = f", {stats['rich_share']:.0%} drawn rich as training sees them" if stats.get("rich_share") else ""
    lines = [f"procedural generator: {stats['parts']} parts{rich}"]
    for key in (
        "features_per_part",
        "features_histogram",
        "profiles_per_sketch",
        "curves_per_loop",
        "lines_per_part",
        "curve_mix",
        "operation_mix",
        "extent_mix",
        "plane_normals",
        "token_length",
    ):
        lines.append(f"  {key.replace('_', ' ')}: {_fmt(stats[key])}")
    lines.append(
        f"  parts with an arc / a circle: {stats['parts_with_arc']:.1%} / {stats['parts_with_circle']:.1%}"
    )
    lines.append(
        f"  longer than the model's {ModelConfig.max_tokens} program tokens (skipped in training):"
        f" {stats['over_token_limit']:.1%}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(report(distribution(*(args or [1000]))))
