"""The op registry: every op micrograd knows, declared once in one table.

An op's ``f`` maps input floats (then its constant parameters) to the output value and the
local partial derivatives d out / d input_i. Its ``partials`` writes the same partials with
Values and the registry's own ops, ``partials(out, *inputs, *params)`` (the node, its inputs,
its params), so that a gradient can be a graph and be differentiated again
(``create_graph=True``); a partial that is a constant is a plain number. Everything else -- the ``Value`` methods, the
generated tests, the PyTorch translation, the benchmarks, the docs' op list -- reads this table.

To add an op, add one row to ``OPS`` below (or, from outside the package, ``register(Op(...))``;
``registered(op)`` for a ``with`` block): an op spelled ``"{}.name()"`` becomes a Value method,
and the property tests generate its checks from the row.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from math import exp, inf, log, tanh
from operator import mul
from typing import Any


@dataclass(frozen=True, slots=True)
class Domain:
    """The inputs where an op is defined and differentiable: ``lo < x < hi``, ``x`` not a hole.

    With ``closed`` the lower end ``lo`` itself belongs to the domain.
    """

    lo: float = -inf
    hi: float = inf
    closed: bool = False
    holes: tuple[float, ...] = ()

    def __contains__(self, x: float) -> bool:
        above = x >= self.lo if self.closed else x > self.lo
        return above and x < self.hi and x not in self.holes

    def __str__(self) -> str:
        parts = [f"{self.lo:g} {'<=' if self.closed else '<'} x"] if self.lo > -inf else []
        parts += [f"x < {self.hi:g}"] if self.hi < inf else []
        parts += [f"x != {h:g}" for h in self.holes]
        return " and ".join(parts) or "any finite x"


REAL = Domain()
POSITIVE = Domain(lo=0.0)
NONZERO = Domain(holes=(0.0,))

VARIADIC = -1  # arity of an op that takes any even number of inputs


@dataclass(frozen=True, slots=True)
class Op:
    """One differentiable op. See the module docstring for the contract of ``f``."""

    name: str
    arity: int  # number of Value inputs, or VARIADIC
    f: Callable[..., tuple[float, tuple[float, ...]]]  # (*inputs, *params) -> (value, partials)
    syntax: str  # how the Value API spells it, filled with the inputs then the params
    domain: tuple[Domain, ...] | Callable[..., tuple[Domain, ...]] = ()  # per input; () = REAL
    symbol: str | Callable[..., str] = ""  # the node's op as the lecture and 0.1.0 print it
    kinks: Mapping[float, float] = field(default_factory=dict)  # x -> d out/dx there (PyTorch's)
    # name in torch, or f(torch, *tensors, *params); a callable domain, symbol or torch is
    # shown in the op table by its docstring
    torch: str | Callable[..., Any] = ""
    mp: Callable[..., Any] | None = None  # precise value: mp(mpmath, *inputs, *params)
    params: Mapping[str, tuple[float, ...]] = field(default_factory=dict)  # name -> test values
    commutative: bool = False  # swapping the inputs (for dot: the two vectors) changes nothing
    # f's partials written with Values: partials(out, *inputs, *params) -> a Value or a number
    # per input, equal to f's partials within its ulps (tests/property/test_second_order.py)
    partials: Callable[..., tuple[Any, ...]] | None = None

    def __reduce__(self) -> Any:
        # A registered op pickles by its name (its f is often a lambda), so a pickled graph
        # loads wherever the same op is registered; any other op pickles field by field.
        if OPS.get(self.name) is self:
            return (_registered_op, (self.name,))
        return object.__reduce_ex__(self, 2)

    def symbol_for(self, *params: float) -> str:
        """The op's symbol for these params: ``+``, ``*``, ``**2``, ``tanh``, ``ReLU`` ..."""
        return self.symbol(*params) if callable(self.symbol) else self.symbol

    def domains(self, *params: float) -> tuple[Domain, ...]:
        """The domain of each input (for a variadic op, of every input)."""
        d = self.domain(*params) if callable(self.domain) else self.domain
        return d or (REAL,) * max(self.arity, 1)


def _registered_op(name: str) -> Op:
    """The registered op ``name``, for unpickling; a clear error when it is not registered."""
    if name not in OPS:
        raise ValueError(
            f"unpickling needs the op {name!r}: register it first (micrograd.ops.register)"
        )
    return OPS[name]


def registry(*ops: Op) -> dict[str, Op]:
    """Index ops by name; a name may be declared only once."""
    table: dict[str, Op] = {}
    for op in ops:
        if op.name in table:
            raise ValueError(f"op {op.name!r} is declared twice")
        table[op.name] = op
    return table


def _pow(a: float, n: float) -> tuple[float, tuple[float, ...]]:
    # NOTE: x ** 0 has derivative 0 everywhere, 0 included (as in PyTorch).
    return math.pow(a, n), (n * math.pow(a, n - 1) if n else 0.0,)


def _pow_partials(y: Any, a: Any, n: float) -> tuple[Any, ...]:
    return (n * a ** (n - 1.0) if n else 0.0,)  # f's formula on a Value: the same float


def _pow_domain(n: float) -> tuple[Domain, ...]:
    """x != 0 for a negative integer n, 0 < x for a fractional n < 1, 0 <= x for a fractional
    n > 1, any finite x otherwise"""
    if n == int(n):
        return (REAL,) if n >= 0 else (NONZERO,)
    return (Domain(lo=0.0, closed=n > 1),)  # a fractional power of a negative is complex


def _pow_symbol(n: float) -> str:
    """**n"""
    return f"**{n:g}"


def _powv(a: float, b: float) -> tuple[float, tuple[float, ...]]:
    y = math.pow(a, b)
    # NOTE: b * a**(b - 1) as y * (b / a) does not round b - 1 (nor overflow for tiny a and b);
    # as y / a * b where b / a overflows first; where y underflows, a**(b - 1) directly.
    if y < sys.float_info.min:  # the smallest normal float
        da = b * math.pow(a, b - 1)
    else:
        r = b / a
        da = y * r if math.isfinite(r) else y / a * b
    return y, (da, y * log(a))


def _powv_partials(y: Any, a: Any, b: Any) -> tuple[Any, ...]:
    # f's formulas on Values, chosen as f chooses them: the same floats. Where b / a overflows
    # (f then takes y / a * b) the div node raises OpError: wherever f's partial is finite
    # there, |b| <= 1 (else y under- or overflows first), so 1 / a, a derivative of either
    # formula's nodes, overflows as well.
    da = b * a ** (b - 1.0) if y.data < sys.float_info.min else y * (b / a)
    return da, y * a.log()


def _tanh(a: float) -> tuple[float, tuple[float, ...]]:
    # 1 - tanh(a)**2 cancels for large |a|; sech(a)**2 from e = exp(-2|a|) keeps full precision.
    e = exp(-2.0 * abs(a))
    return tanh(a), (4.0 * e / (1.0 + e) ** 2,)


def _tanh_partials(y: Any, a: Any) -> tuple[Any, ...]:
    # f's formula on Values (|a| as a or -a): the same float, and its derivative is exact.
    if abs(a.data) > 400.0:  # e = exp(-800) is 0.0: this partial and every derivative of it
        return (0.0,)
    e = ((a if a.data >= 0.0 else -a) * -2.0).exp()
    return (4.0 * e / (1.0 + e) ** 2,)


def _sigmoid(a: float) -> tuple[float, tuple[float, ...]]:
    # From e = exp(-|a|) <= 1: never overflows, and 1 - s is computed without cancellation.
    e = exp(-abs(a))
    s, rest = (1.0 / (1.0 + e), e / (1.0 + e)) if a >= 0 else (e / (1.0 + e), 1.0 / (1.0 + e))
    return s, (s * rest,)


def _dot(*ab: float) -> tuple[float, tuple[float, ...]]:
    n = len(ab) // 2
    return sum(map(mul, ab[:n], ab[n:])), ab[n:] + ab[:n]


def _dot_partials(y: Any, *ab: Any) -> tuple[Any, ...]:
    n = len(ab) // 2
    return ab[n:] + ab[:n]  # the inputs themselves, as f's


def _torch_dot(torch: Any, *ab: Any) -> Any:
    """torch.dot"""
    n = len(ab) // 2
    return torch.dot(torch.stack(ab[:n]), torch.stack(ab[n:]))


def _mp_dot(mp: Any, *ab: Any) -> Any:
    n = len(ab) // 2
    return mp.fsum(map(mul, ab[:n], ab[n:]))


def _mp_sigmoid(mp: Any, a: Any) -> Any:
    return 1 / (1 + mp.exp(-a))


# fmt: off
OPS = registry(
    Op("add",     2, lambda a, b: (a + b, (1.0, 1.0)),               "{} + {}",     symbol="+", commutative=True, torch="add", mp=lambda mp, a, b: a + b,
       partials=lambda y, a, b: (1.0, 1.0)),
    Op("sub",     2, lambda a, b: (a - b, (1.0, -1.0)),              "{} - {}",     symbol="-", torch="sub", mp=lambda mp, a, b: a - b,
       partials=lambda y, a, b: (1.0, -1.0)),
    Op("mul",     2, lambda a, b: (a * b, (b, a)),                   "{} * {}",     symbol="*", commutative=True, torch="mul", mp=lambda mp, a, b: a * b,
       partials=lambda y, a, b: (b, a)),
    Op("div",     2, lambda a, b: (a / b, (1.0 / b, -a / b / b)),    "{} / {}",     symbol="/", domain=(REAL, NONZERO), torch="div", mp=lambda mp, a, b: a / b,
       partials=lambda y, a, b: (1.0 / b, -a / b / b)),
    Op("neg",     1, lambda a: (-a, (-1.0,)),                        "-{}",         symbol="-", torch="neg", mp=lambda mp, a: -a,
       partials=lambda y, a: (-1.0,)),
    Op("pow",     1, _pow,                                           "{} ** {!r}",  symbol=_pow_symbol, domain=_pow_domain, torch="pow", mp=lambda mp, a, n: mp.power(a, n),
       params={"n": (2.0, 3.0, -1.0, -2.0, 0.5, 1.5, 0.0, 1.0, -0.5)}, partials=_pow_partials),
    Op("powv",    2, _powv,                                          "{} ** {}",    symbol="**", domain=(POSITIVE, REAL), torch="pow", mp=lambda mp, a, b: mp.power(a, b),
       partials=_powv_partials),
    Op("exp",     1, lambda a: (y := exp(a), (y,)),                  "{}.exp()",    symbol="exp", torch="exp", mp=lambda mp, a: mp.exp(a),
       partials=lambda y, a: (y,)),
    Op("log",     1, lambda a: (log(a), (1.0 / a,)),                 "{}.log()",    symbol="log", domain=(POSITIVE,), torch="log", mp=lambda mp, a: mp.log(a),
       partials=lambda y, a: (1.0 / a,)),
    Op("tanh",    1, _tanh,                                          "{}.tanh()",   symbol="tanh", torch="tanh", mp=lambda mp, a: mp.tanh(a),
       partials=_tanh_partials),
    Op("sigmoid", 1, _sigmoid,                                       "{}.sigmoid()", symbol="sigmoid", torch="sigmoid", mp=_mp_sigmoid,
       partials=lambda y, a: (y * (-a).sigmoid(),)),  # s * (1 - s) as f computes it
    Op("relu",    1, lambda a: (a if a >= 0.0 else 0.0, (1.0 if a > 0.0 else 0.0,)),  # relu(-0.0) = -0.0, as PyTorch
                                                                     "{}.relu()",   symbol="ReLU", kinks={0.0: 0.0}, torch="relu", mp=lambda mp, a: max(a, 0),
       partials=lambda y, a: (1.0 if a.data > 0.0 else 0.0,)),  # relu'' = 0, the kink included (PyTorch)
    Op("dot", VARIADIC, _dot,                                        "dot([{}], [{}])", symbol="dot", commutative=True, torch=_torch_dot, mp=_mp_dot,
       partials=_dot_partials),
)
# fmt: on


# Changing the registry. The engine gives a method-spelled op its Value method through these
# hooks, so this module needs nothing of the engine.
_hooks: list[tuple[Callable[[Op], None], Callable[[Op], None]]] = []


def on_change(
    on_register: Callable[[Op], None], on_unregister: Callable[[Op], None]
) -> Callable[[], None]:
    """Call ``on_register(op)`` for every op registered now and from now on, and
    ``on_unregister(op)`` for every op unregistered (how the engine adds and removes methods);
    return the function that stops both."""
    hooks = (on_register, on_unregister)
    _hooks.append(hooks)
    for op in OPS.values():
        on_register(op)
    return lambda: _hooks.remove(hooks)


def register(op: Op) -> Op:
    """Add ``op`` to the registry; an op spelled ``"{}.name()"`` becomes a Value method."""
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} is already registered")
    OPS[op.name] = op
    for on_register, _ in _hooks:
        on_register(op)
    return op


def unregister(name: str) -> Op:
    """Remove the op ``name`` from the registry (and the Value method it added); return it."""
    if name not in OPS:
        raise KeyError(f"no op {name!r} is registered")
    op = OPS.pop(name)
    for _, on_unregister in _hooks:
        on_unregister(op)
    return op


@contextmanager
def registered(*ops: Op) -> Iterator[None]:
    """Register ``ops`` for the duration of a ``with`` block; the registry is as it was after."""
    done: list[Op] = []
    try:
        for op in ops:
            done.append(register(op))  # noqa: PERF401 (one at a time: undone if one fails)
        yield
    finally:
        for op in reversed(done):
            unregister(op.name)


class _Name(str):
    """A param's name that a format's ``{!r}`` writes as the bare name (``x ** n``)."""

    def __repr__(self) -> str:
        return str(self)


def _shown(field: str | Callable[..., Any], prefix: str = "") -> str:
    """A table cell for a name or a callable (by its docstring), as code; "-" if none."""
    text = field.__doc__ if callable(field) else field and prefix + field
    return f"`{text}`" if text else "-"


def op_table(ops: Mapping[str, Op] = OPS) -> str:
    """The registry as a Markdown table: the op list of the docs."""
    rows = [
        "| op | Value API | symbol | domain | kinks: derivative there | PyTorch |",
        "|---|---|---|---|---|---|",
    ]
    for op in ops.values():
        args = ["x", "y"][: max(op.arity, 1)]  # a variadic op's inputs: "x" for each
        names = [_Name(p) for p in op.params]
        spelled = op.syntax.format(*args, *names) if op.arity != VARIADIC else "dot(xs, ys)"
        if callable(op.domain):
            domain = " ".join((op.domain.__doc__ or "-").split())
        else:
            domain = "; ".join(str(d).replace("x", args[i]) for i, d in enumerate(op.domains()))
        kinks = ", ".join(f"x = {k:g}: {d:g}" for k, d in op.kinks.items()) or "-"
        symbol, torch = (_shown(op.symbol), _shown(op.torch, "torch."))
        rows.append(f"| {op.name} | `{spelled}` | {symbol} | {domain} | {kinks} | {torch} |")
    return "\n".join(rows)


__all__: Sequence[str] = [
    "OPS",
    "VARIADIC",
    "Domain",
    "Op",
    "on_change",
    "op_table",
    "register",
    "registered",
    "registry",
    "unregister",
]
