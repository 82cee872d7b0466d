"""The grammar of the text/token form, as one automaton that also builds the program.

Text form (one command per line; words separated by spaces)::

    extrude <new|join|cut|intersect> <one_side|symmetric|two_sides> <d1> [<d2>]
    plane <ox> <oy> <oz> <nx> <ny> <nz> <xx> <xy> <xz>
    profile                      # starts a profile; its first loop is the outer one
    loop <x> <y>                 # a chain starting at (x, y) ...
    line <x> <y>                 # ... a line to (x, y)
    arc <mx> <my> <x> <y>        # ... an arc through (mx, my) to (x, y)
    circle <cx> <cy> <r>         # a loop made of one circle
    <eos>                        # end of program (token form only)

A chain closes when a curve returns to its start point; the next loop of the
same profile is a hole. ``GrammarState`` is fed words one at a time, answers
which words may come next (used for constrained decoding) and builds the
``Program`` as it goes (used by the text and token parsers), so the grammar and
the parser cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.cad.program import (
    Arc,
    Circle,
    Extent,
    ExtentKind,
    Extrude,
    Line,
    Loop,
    Operation,
    Plane,
    Profile,
    Program,
    Sketch,
)
from backend.cad.quantize import LIMIT_STEPS, format_steps, from_steps

EOS = "<eos>"
OPERATIONS = tuple(op.value for op in Operation)
EXTENTS = tuple(k.value for k in ExtentKind)
COMMANDS = ("extrude", "plane", "profile", "loop", "line", "arc", "circle")
KEYWORDS = COMMANDS + OPERATIONS + EXTENTS
NUMBER_WORDS = tuple(format_steps(q) for q in range(-LIMIT_STEPS, LIMIT_STEPS + 1))
_NUMBER_TO_STEPS = {w: q for q, w in zip(range(-LIMIT_STEPS, LIMIT_STEPS + 1), NUMBER_WORDS)}
MAX_CURVES_PER_LOOP = 64  # the grammar forces a chain to close at this length


class GrammarError(ValueError):
    """A word that the grammar does not allow at this position."""


@dataclass(frozen=True)
class Allowed:
    """What may come next: some keywords/EOS, and numbers with steps in [lo, hi] minus `exclude`."""

    words: frozenset[str] = frozenset()
    num_range: tuple[int, int] | None = None
    exclude: frozenset[int] = frozenset()

    def accepts(self, word: str) -> bool:
        if word in self.words:
            return True
        q = _NUMBER_TO_STEPS.get(word)
        if q is None or self.num_range is None:
            return False
        return self.num_range[0] <= q <= self.num_range[1] and q not in self.exclude

    def describe(self) -> str:
        parts = sorted(self.words)
        if self.num_range is not None:
            lo, hi = (format_steps(q) for q in self.num_range)
            excluded = ", ".join(format_steps(q) for q in sorted(self.exclude))
            parts.append(f"a number in [{lo}, {hi}]" + (f" other than {excluded}" if excluded else ""))
        return " | ".join(parts) or "nothing"


_ANY = (-LIMIT_STEPS, LIMIT_STEPS)
_POSITIVE = (1, LIMIT_STEPS)


def number_steps(word: str) -> int | None:
    """Steps of a number word, or None when the word is not a number of the vocabulary."""
    return _NUMBER_TO_STEPS.get(word)


@dataclass
class GrammarState:
    """Feed words with ``feed``; ``allowed()`` is what may come next; ``program()`` when done."""

    max_curves_per_loop: int = MAX_CURVES_PER_LOOP
    done: bool = False
    position: int = 0
    _features: list[Extrude] = field(default_factory=list)
    _slot: str = "start"  # what the next word fills
    _nums: list[int] = field(default_factory=list)
    _op: str = ""
    _kind: str = ""
    _extent: Extent | None = None
    _plane: Plane | None = None
    _profiles: list[Profile] = field(default_factory=list)
    _loops: list[Loop] = field(default_factory=list)  # loops of the open profile
    _curves: list = field(default_factory=list)  # curves of the open chain
    _start: tuple[int, int] = (0, 0)
    _cur: tuple[int, int] = (0, 0)

    # --- what may come next ----------------------------------------------------------------------

    def allowed(self) -> Allowed:
        s = self._slot
        if s == "start":
            return Allowed(frozenset({"extrude"}))
        if s == "op":
            return Allowed(frozenset({"new"} if not self._features else OPERATIONS))
        if s == "kind":
            return Allowed(frozenset(EXTENTS))
        if s == "d1":
            if self._kind == ExtentKind.SYMMETRIC.value:
                return Allowed(num_range=_POSITIVE)
            if self._kind == ExtentKind.TWO_SIDES.value:  # leave room for d2 > -d1
                return Allowed(num_range=(1 - LIMIT_STEPS, LIMIT_STEPS))
            return Allowed(num_range=_ANY, exclude=frozenset({0}))
        if s == "d2":
            return Allowed(num_range=(max(-LIMIT_STEPS, 1 - self._nums[0]), LIMIT_STEPS))
        if s == "plane_kw":
            return Allowed(frozenset({"plane"}))
        if s == "plane":
            return Allowed(num_range=_ANY)
        if s == "profile_kw":
            return Allowed(frozenset({"profile"}))
        if s == "outer":
            return Allowed(frozenset({"loop", "circle"}))
        if s == "after_loop":
            return Allowed(frozenset({"loop", "circle", "profile", "extrude", EOS}))
        if s == "chain":
            return Allowed(frozenset({"line", "arc"}))
        if s in ("loop", "circle"):
            if s == "circle" and len(self._nums) == 2:
                return Allowed(num_range=_POSITIVE)
            return Allowed(num_range=_ANY)
        if s in ("line", "arc"):
            return self._allowed_in_curve(s)
        raise AssertionError(s)

    def _allowed_in_curve(self, kind: str) -> Allowed:
        n = len(self._nums)
        is_end = kind == "line" or n >= 2
        if kind == "arc" and n < 2:  # mid point: anything but the current point
            return Allowed(num_range=_ANY, exclude=self._exclude_point(self._cur, n))
        forced = len(self._curves) + 1 >= self.max_curves_per_loop
        axis = n % 2
        if forced and is_end:
            q = self._start[axis]
            return Allowed(num_range=(q, q))
        banned = [self._cur]  # no zero-length curve
        if kind == "arc":
            banned.append((self._nums[0], self._nums[1]))
        if (
            not self._curves
            and kind == "line"
            or (len(self._curves) == 1 and kind == "line" and isinstance(self._curves[0], Line))
        ):
            banned.append(self._start)  # closing now would give a zero-area loop
        if kind == "arc" and not self._curves:
            banned.append(self._start)
        return Allowed(num_range=_ANY, exclude=self._exclude_points(banned, axis))

    def _exclude_points(self, points: list[tuple[int, int]], axis: int) -> frozenset[int]:
        if axis == 0:
            return frozenset()  # x alone never completes a point; y decides
        x = self._nums[-1]
        return frozenset(p[1] for p in points if p[0] == x)

    def _exclude_point(self, point: tuple[int, int], n: int) -> frozenset[int]:
        return self._exclude_points([point], n % 2)

    # --- consuming words -------------------------------------------------------------------------

    def feed(self, word: str) -> None:
        if self.done:
            raise GrammarError(f"word {self.position + 1} ({word!r}): the program has already ended")
        allowed = self.allowed()
        if not allowed.accepts(word):
            raise GrammarError(f"word {self.position + 1} ({word!r}): expected {allowed.describe()}")
        self.position += 1
        q = _NUMBER_TO_STEPS.get(word)
        if q is not None:
            self._nums.append(q)
            self._after_number()
        else:
            self._after_keyword(word)

    def feed_all(self, words: list[str]) -> GrammarState:
        for w in words:
            self.feed(w)
        return self

    def _after_keyword(self, w: str) -> None:
        s = self._slot
        if w == EOS:
            self._close_feature()
            self.done = True
            self._slot = "end"
        elif w == "extrude":
            if s == "after_loop":
                self._close_feature()
            self._op, self._slot = "", "op"
        elif s == "op":
            self._op, self._slot = w, "kind"
        elif s == "kind":
            self._kind, self._slot = w, "d1"
        elif w == "plane":
            self._slot = "plane"
        elif w == "profile":
            if s == "after_loop":
                self._close_profile()
            self._slot = "outer"
        else:  # loop, circle, line, arc
            self._slot = w
        if w in ("extrude", "plane", "profile", "loop", "circle", "line", "arc"):
            self._nums = []

    def _after_number(self) -> None:
        s, n = self._slot, len(self._nums)
        if s == "d1":
            if self._kind == ExtentKind.TWO_SIDES.value:
                self._slot = "d2"
                return
            self._extent = Extent(ExtentKind(self._kind), from_steps(self._nums[0]))
            self._slot = "plane_kw"
        elif s == "d2":
            d1, d2 = (from_steps(q) for q in self._nums)
            self._extent = Extent(ExtentKind.TWO_SIDES, d1, d2)
            self._slot = "plane_kw"
        elif s == "plane" and n == 9:
            v = [from_steps(q) for q in self._nums]
            self._plane = Plane(tuple(v[0:3]), tuple(v[6:9]), tuple(v[3:6]))
            self._slot = "profile_kw"
        elif s == "loop" and n == 2:
            self._start = self._cur = (self._nums[0], self._nums[1])
            self._curves = []
            self._slot = "chain"
        elif s == "circle" and n == 3:
            c = Circle((from_steps(self._nums[0]), from_steps(self._nums[1])), from_steps(self._nums[2]))
            self._loops.append(Loop((c,)))
            self._slot = "after_loop"
        elif (s == "line" and n == 2) or (s == "arc" and n == 4):
            end = (self._nums[-2], self._nums[-1])
            p = lambda qq: (from_steps(qq[0]), from_steps(qq[1]))
            if s == "line":
                self._curves.append(Line(p(self._cur), p(end)))
            else:
                self._curves.append(Arc(p(self._cur), p(self._nums[0:2]), p(end)))
            self._cur = end
            if end == self._start:
                self._loops.append(Loop(tuple(self._curves)))
                self._slot = "after_loop"
            else:
                self._slot = "chain"

    def _close_profile(self) -> None:
        self._profiles.append(Profile(self._loops[0], tuple(self._loops[1:])))
        self._loops = []

    def _close_feature(self) -> None:
        self._close_profile()
        sketch = Sketch(self._plane, tuple(self._profiles))
        self._features.append(Extrude(sketch, self._extent, Operation(self._op)))
        self._profiles = []

    def program(self) -> Program:
        if not self.done:
            raise GrammarError(
                f"the program is incomplete after {self.position} words: expected {self.allowed().describe()}"
            )
        return Program(tuple(self._features))
