"""Readable text form: one command per line (see ``grammar.py`` for the commands).

``program_to_words`` / ``words_to_program`` are the token-level forms; the text
is the same words with a line break before every command. Numbers are
quantised (``quantize.py``), so ``text -> program -> text`` is exact and
``program -> text -> program`` equals ``quantize_program(program)``.
Lines starting with ``#`` are comments.
"""

from __future__ import annotations

from backend.cad.grammar import COMMANDS, EOS, GrammarState
from backend.cad.program import Arc, Circle, Line, Loop, Program
from backend.cad.quantize import format_steps, to_steps


class TextParseError(ValueError):
    """The text is not a program; the message names the line and the word."""


def _num(v: float) -> str:
    return format_steps(to_steps(v))


def _loop_words(loop: Loop) -> list[str]:
    if loop.is_circle:
        c = loop.curves[0]
        return ["circle", _num(c.center[0]), _num(c.center[1]), _num(c.radius)]
    first = loop.curves[0]
    words = ["loop", _num(first.start[0]), _num(first.start[1])]
    for i, c in enumerate(loop.curves):
        end = first.start if i == len(loop.curves) - 1 else c.end  # the chain closes exactly
        if isinstance(c, Line):
            words += ["line", _num(end[0]), _num(end[1])]
        elif isinstance(c, Arc):
            words += ["arc", _num(c.mid[0]), _num(c.mid[1]), _num(end[0]), _num(end[1])]
        elif isinstance(c, Circle):
            raise ValueError("a circle must be the only curve of its loop")
    return words


def program_to_words(program: Program) -> list[str]:
    """The program's words, ending with the end-of-program word."""
    words: list[str] = []
    for f in program.features:
        words += ["extrude", f.operation.value, f.extent.kind.value, _num(f.extent.d1)]
        if f.extent.kind.value == "two_sides":
            words.append(_num(f.extent.d2))
        pl = f.sketch.plane
        words += ["plane", *(_num(v) for v in (*pl.origin, *pl.normal, *pl.x_dir))]
        for p in f.sketch.profiles:
            words.append("profile")
            for loop in p.loops:
                words += _loop_words(loop)
    words.append(EOS)
    return words


def words_to_program(words: list[str]) -> Program:
    return GrammarState().feed_all(words).program()


def program_to_text(program: Program) -> str:
    lines: list[list[str]] = []
    for w in program_to_words(program)[:-1]:
        if w in COMMANDS or not lines:
            lines.append([w])
        else:
            lines[-1].append(w)
    return "\n".join(" ".join(line) for line in lines) + "\n"


def text_to_program(text: str) -> Program:
    state = GrammarState()
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("#"):
            continue
        for word in line.split():
            try:
                state.feed(word)
            except ValueError as exc:
                raise TextParseError(f"line {lineno}: {exc}") from None
    try:
        state.feed(EOS)
        return state.program()
    except ValueError as exc:
        raise TextParseError(f"end of text: {exc}") from None
