"""Random expression graphs as straight-line programs, and the Hypothesis strategies that draw them.

A *program* is a list of instructions over leaves, so one program runs on any engine (through
``Program.run``), on plain floats, on mpmath and on PyTorch, and prints as the Python that
reproduces it.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from ..engine import Value, apply
from ..ops import OPS, REAL, VARIADIC, Domain, Op
from .floats import LEAST_SUBNORMAL, MAX, SMALLEST_NORMAL

BOUND = 1e3  # drawn programs keep every value and local partial within +-BOUND ...
MARGIN = 0.05  # ... and every op input this far from its domain's edges and its kinks
# Binary operators: a plain number may stand on either side (Program.lines(numbers=True)).
INFIX = ("{} + {}", "{} - {}", "{} * {}", "{} / {}", "{} ** {}")


@dataclass(frozen=True)
class Instr:
    """``op`` applied to earlier names ("x0" a leaf, "v3" an instruction) or float constants."""

    op: str
    args: tuple[str | float, ...]
    params: tuple[float, ...] = ()


@dataclass(frozen=True)
class Program:
    """Leaves, then instructions; the last instruction is the output.

    A malformed program raises when built: TypeError for a part of the wrong type, ValueError
    for an unknown op, a name not defined before its use, the wrong number of inputs or params,
    or a leaf, constant or param that is not a finite float64 number (nan, inf, an int beyond
    float64's range); each names the leaf or the instruction. An op unregistered since is named
    when the program runs.
    """

    leaves: tuple[float, ...]
    instrs: tuple[Instr, ...]

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError (TypeError for a wrong type) saying what is malformed and where."""
        if not isinstance(self.leaves, tuple | list) or not all(
            isinstance(x, Real) and not isinstance(x, bool) for x in self.leaves
        ):
            raise TypeError(
                f"Program leaves must be a tuple of floats, got {_brief.repr(self.leaves)}"
            )
        for i, x in enumerate(self.leaves):
            _finite(x, f"Program leaf x{i}")
        if not isinstance(self.instrs, tuple | list) or not self.instrs:
            raise ValueError(
                f"a Program needs at least one instruction, got {_brief.repr(self.instrs)}"
            )
        names = {f"x{i}" for i in range(len(self.leaves))}
        for j, ins in enumerate(self.instrs):
            if not isinstance(ins, Instr):
                raise TypeError(
                    f"Program instruction {j}: an instruction must be an Instr, "
                    f"got {type(ins).__name__}: {_brief.repr(ins)}"
                )
            where = _Where(j, ins)  # formatted only for an error: validate runs on every draw
            if not isinstance(ins.op, str):
                raise TypeError(f"{where}: the op must be a registry name (a str)")
            if not isinstance(ins.args, tuple | list) or not isinstance(ins.params, tuple | list):
                raise TypeError(f"{where}: args and params must be tuples")
            op = OPS.get(ins.op)
            if op is None:
                raise ValueError(f"{where}: no op {ins.op!r} in the registry ({', '.join(OPS)})")
            n = len(ins.args)
            if (op.arity == VARIADIC and (n == 0 or n % 2)) or op.arity not in (VARIADIC, n):
                want = "an even number of" if op.arity == VARIADIC else str(op.arity)
                raise ValueError(f"{where}: {op.name} takes {want} inputs, got {n}")
            if len(ins.params) != len(op.params):
                raise ValueError(
                    f"{where}: {op.name} takes {len(op.params)} params "
                    f"({', '.join(op.params) or 'none'}), got {len(ins.params)}"
                )
            for k, a in enumerate(ins.args):
                if isinstance(a, str):
                    if a not in names:
                        raise ValueError(
                            f"{where}: {a!r} is not defined before it (defined: "
                            f"{', '.join(sorted(names, key=_order))})"
                        )
                elif isinstance(a, Real) and not isinstance(a, bool):
                    _finite(a, where, f"the constant input {k + 1}")
                else:
                    raise TypeError(
                        f"{where}: an input must be a name or a float, got {_brief.repr(a)}"
                    )
            for name, p in zip(op.params, ins.params, strict=True):
                if isinstance(p, bool) or not isinstance(p, Real):
                    raise TypeError(
                        f"{where}: the param {name} must be a real number, "
                        f"got {type(p).__name__}: {_brief.repr(p)}"
                    )
                _finite(p, where, f"the param {name}")
            names.add(f"v{j}")

    def run(
        self,
        leaf: Callable[[float], Any],
        call: Callable[[Op, list[Any], tuple[float, ...]], Any],
        const: Callable[[float], Any] | None = None,
        leaves: Sequence[Any] | None = None,
    ) -> tuple[list[Any], Any]:
        """Evaluate with ``leaf(x)`` for leaves, ``const(c)`` for constants and
        ``call(op, args, params)`` for instructions; return (leaves, output)."""
        const = const or leaf
        env = {f"x{i}": leaf(x) for i, x in enumerate(self.leaves if leaves is None else leaves)}
        for j, ins in enumerate(self.instrs):
            if ins.op not in OPS:  # unregistered since the program was built
                raise ValueError(f"Program instruction {j}: no op {ins.op!r} in the registry")
            args = [env[a] if isinstance(a, str) else const(a) for a in ins.args]
            env[f"v{j}"] = call(OPS[ins.op], args, ins.params)
        return [env[f"x{i}"] for i in range(len(self.leaves))], env[f"v{len(self.instrs) - 1}"]

    def lines(self, numbers: bool = False) -> list[str]:
        """One line of Value-API Python per leaf and per instruction (no import, no backward).

        Every constant is written ``Value(c)``; with ``numbers``, as a student writes it: a
        plain number on either side of an operator (``2.0 - x0``, ``x1 / 3.0``: the
        engine's reflected methods), and every other sum of two nodes as ``sum([a, b])``
        (0 + a + b: the same number, through ``__radd__``)."""
        lines = [f"x{i} = Value({x!r})" for i, x in enumerate(self.leaves)]
        for j, ins in enumerate(self.instrs):
            op = OPS[ins.op]
            named = [isinstance(a, str) for a in ins.args]
            bare = numbers and op.syntax in INFIX and any(named)
            args = [a if isinstance(a, str) else _constant(a, bare) for a in ins.args]
            if numbers and op.name == "add" and all(named) and j % 2:
                lines.append(f"v{j} = sum([{', '.join(args)}])")
            else:
                lines.append(f"v{j} = {spell(op, args, ins.params)}")
        return lines

    def __str__(self) -> str:
        return "\n".join(
            [
                "from micrograd import Value, dot",
                *self.lines(),
                f"v{len(self.instrs) - 1}.backward()",
            ]
        )


def _constant(c: float, bare: bool) -> str:
    """A constant as Python: ``Value(c)``, or the plain number (negative ones in parentheses,
    as ``-2.0 ** x`` is ``-(2.0 ** x)``)."""
    if not bare:
        return f"Value({c!r})"
    return f"({c!r})" if math.copysign(1.0, c) < 0 else repr(c)


def _order(name: str) -> tuple[int, int]:
    return (0 if name[0] == "x" else 1, int(name[1:]))


_brief = reprlib.Repr()  # an error message quotes a 400-digit int or a long list in brief
_brief.maxlong, _brief.maxtuple, _brief.maxlist, _brief.maxother = 24, 12, 12, 60


def _brief_instr(ins: Instr) -> str:
    return f"Instr({_brief.repr(ins.op)}, {_brief.repr(ins.args)}, {_brief.repr(ins.params)})"


class _Where:
    """``Program instruction j (vj = Instr(...))``, formatted when an error message needs it."""

    def __init__(self, j: int, ins: Instr) -> None:
        self.j, self.ins = j, ins

    def __str__(self) -> str:
        return f"Program instruction {self.j} (v{self.j} = {_brief_instr(self.ins)})"


def _finite(x: float, what: str | _Where, part: str = "") -> None:
    """Raise ValueError naming ``what`` (and ``part`` of it) unless the real number x is a
    finite float64."""
    try:
        ok = math.isfinite(float(x))
    except OverflowError:  # an int (or Fraction) beyond float64's range
        where = f"{what}: {part}" if part else str(what)
        raise ValueError(
            f"{where} must be a finite float64 number, got {type(x).__name__} beyond "
            "float64's range (about 1.8e308)"
        ) from None
    if not ok:
        where = f"{what}: {part}" if part else str(what)
        raise ValueError(f"{where} must be a finite float64 number, got {x!r}")


def spell(op: Op, args: Sequence[str], params: Sequence[float] = ()) -> str:
    """The Python that applies ``op`` to the expressions ``args`` through the Value API."""
    if op.arity == VARIADIC:
        half = len(args) // 2
        return op.syntax.format(", ".join(args[:half]), ", ".join(args[half:]))
    return op.syntax.format(*args, *params)


def run_engine(program: Program) -> tuple[list[Value], Value]:
    """The program on micrograd Values."""
    return program.run(Value, lambda op, args, params: apply(op, *args, params=params), const=float)


def program_of(root: Value, leaves: Sequence[Value]) -> Program:
    """The graph that computes ``root`` from ``leaves`` as a Program: ``leaves[i]`` is ``xi``,
    every other leaf a constant, every node an instruction (its registry op and params). So a
    gradient built with ``create_graph`` can be analysed (``error_bounds``) and printed.
    ValueError when root is a leaf, or a node's op is not in the registry (a fused op)."""
    names: dict[Value, str] = {x: f"x{i}" for i, x in enumerate(leaves)}
    instrs: list[Instr] = []
    stack = [(root, iter(root._parents))]
    seen = {root}
    while stack:  # depth first, each node after all of its inputs; no recursion
        v, inputs = stack[-1]
        for p in inputs:
            if p not in seen and p not in names:
                seen.add(p)
                stack.append((p, iter(p._parents)))
                break
        else:
            stack.pop()
            op = v._entry
            if v in names or op is None:
                continue  # an input, or a constant (written in place)
            if OPS.get(op.name) is not op:
                raise ValueError(f"program_of: the op {op.name!r} of a node is not in the registry")
            args = tuple(names.get(p, p.data) for p in v._parents)
            names[v] = f"v{len(instrs)}"
            instrs.append(Instr(op.name, args, v._params))
    if root not in names or names[root][0] == "x":
        raise ValueError("program_of: root must be a node computed from the leaves, not a leaf")
    return Program(tuple(x.data for x in leaves), tuple(instrs))


def run_float(program: Program, leaves: Sequence[float] | None = None) -> float:
    """The program's output on plain floats, through each op's ``f``."""
    return program.run(float, lambda op, args, params: op.f(*args, *params)[0], leaves=leaves)[1]  # type: ignore[no-any-return]


def safe(x: float, domain: Domain, kinks: Collection[float] = ()) -> bool:
    """x lies in ``domain``, at least MARGIN from its edges, holes and ``kinks``."""
    edges = [e for e in (domain.lo, domain.hi) if math.isfinite(e)] + [*domain.holes, *kinks]
    return x in domain and all(abs(x - e) >= MARGIN for e in edges)


@st.composite
def points(
    draw: st.DrawFn, domain: Domain, kinks: Collection[float] = (), scale: float = 3.0
) -> float:
    """A float in ``domain`` within +-scale, safe from edges and kinks."""
    lo, hi = max(domain.lo + MARGIN, -scale), min(domain.hi - MARGIN, scale)
    x = draw(st.floats(lo, hi))
    for e in sorted({*domain.holes, *kinks}):
        if abs(x - e) < MARGIN:  # step over the hole or kink, inwards
            x = e + 2 * MARGIN if e + 2 * MARGIN <= hi else e - 2 * MARGIN
    return x


# Where formulas and domains change, simplest first: zero and its sign, the least subnormal,
# a half and small integers; +-20 and +-400, where exp-based formulas overflow an intermediate
# step (exp(2x) past x = 355) while the result is finite; +-1e300 and +-MAX, where a product or
# a sum overflows; the signed least subnormal and the least normal, where precision is lost.
EDGES = (
    *(0.0, -0.0, LEAST_SUBNORMAL, 0.5, 1.0, -1.0, 2.0),
    *(20.0, -20.0, 400.0, -400.0, 1e300, -1e300, MAX, -MAX),
    *(-LEAST_SUBNORMAL, SMALLEST_NORMAL),
)


def edge_points(domain: Domain = REAL, kinks: Collection[float] = ()) -> list[float]:
    """The inputs every op check tries beyond the drawn ones: EDGES, then the kinks and the
    domain's finite ends and holes; each float once (0.0 and -0.0 are two), in that order."""
    points: dict[tuple[float, float], float] = {}
    for x in (*EDGES, *kinks, domain.lo, domain.hi, *domain.holes):
        if math.isfinite(x):
            points.setdefault((x, math.copysign(1.0, x)), x)
    return list(points.values())


def op_params(op: Op) -> st.SearchStrategy[tuple[float, ...]]:
    """Constant parameters for ``op``, from the values its registry entry lists."""
    return st.tuples(*(st.sampled_from(values) for values in op.params.values()))


@st.composite
def programs(
    draw: st.DrawFn, ops: Sequence[Op] | None = None, max_leaves: int = 3, max_instrs: int = 8
) -> Program:
    """Random programs over ``ops`` (default: the whole registry, read at draw time).

    Values are computed while drawing, so every op gets safe inputs: no filtering, and any op
    added to the registry is drawn too. Results nothing reads are summed into the output (with
    ``add``, or with the first two-input op of ``ops`` when ``add`` is not among them).
    """
    ops = sorted(OPS.values(), key=lambda op: op.name) if ops is None else list(ops)
    if not ops:
        raise ValueError("programs() needs at least one op")
    join = _joiner(ops)
    leaves = draw(st.lists(points(Domain()), min_size=1, max_size=max_leaves))
    values = {f"x{i}": x for i, x in enumerate(leaves)}
    instrs: list[Instr] = []
    used: set[str] = set()

    def emit(ins: Instr, y: float) -> None:
        values[f"v{len(instrs)}"] = y
        instrs.append(ins)
        used.update(a for a in ins.args if isinstance(a, str))

    for _ in range(draw(st.integers(1, max_instrs))):
        op = draw(st.sampled_from(ops))
        params = draw(op_params(op))
        domains = op.domains(*params)
        if op.arity == VARIADIC:
            domains = domains[:1] * (2 * draw(st.integers(1, 3)))
        args: list[str | float] = []
        for d in domains:
            names_ok = [k for k, v in values.items() if safe(v, d, op.kinks)]
            if names_ok and draw(st.integers(0, 3)) > 0:
                args.append(draw(st.sampled_from(names_ok)))
            else:
                args.append(draw(points(d, op.kinks)))
        y = _value(op, [values[a] if isinstance(a, str) else a for a in args], params)
        if y is not None:
            emit(Instr(op.name, tuple(args), params), y)
    if not instrs:
        if join is None or join.name != "add":
            reject()  # nothing drew within BOUND and there is no add to fall back on: rare
        emit(Instr("add", ("x0", 0.0)), leaves[0])
    if join is not None:
        unread = [f"v{j}" for j in range(len(instrs) - 1) if f"v{j}" not in used]
        for name in unread:
            last = f"v{len(instrs) - 1}"
            emit(Instr(join.name, (last, name)), join.f(values[last], values[name])[0])
    return Program(tuple(leaves), tuple(instrs))


def _value(op: Op, xs: list[float], params: tuple[float, ...]) -> float | None:
    """op's value at xs when it and its partials stay within +-BOUND, else None."""
    try:
        y, partials = op.f(*xs, *params)
    except (ArithmeticError, ValueError):
        return None  # cannot happen for safe inputs unless the entry is wrong
    return y if max(abs(y), *map(abs, partials)) <= BOUND else None


def _joiner(ops: Sequence[Op]) -> Op | None:
    """A two-input op of ``ops`` that is defined everywhere (add, mul, sub ...), if any."""
    for name in ("add", "sub", "mul"):
        for op in ops:
            if op.name == name:
                return op
    return None


__all__ = [
    "BOUND",
    "MARGIN",
    "Instr",
    "Program",
    "op_params",
    "points",
    "program_of",
    "programs",
    "run_engine",
    "run_float",
    "safe",
    "spell",
]
