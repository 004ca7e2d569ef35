"""Value: a scalar that remembers how it was computed, and backward() through that graph."""

from __future__ import annotations

from collections.abc import Sequence
from math import isfinite
from numbers import Real

from .ops import OPS, VARIADIC, Op


class OpError(ArithmeticError):
    """An op was evaluated outside its domain, or its value or a derivative is not finite."""

    def __init__(self, op: str, operands: tuple[float, ...], reason: str) -> None:
        self.op, self.operands, self.reason = op, operands, reason
        super().__init__(f"{op}({', '.join(map(repr, operands))}): {reason}")


class Value:
    """A scalar with a gradient; ops on Values record the graph that backward() walks."""

    __slots__ = ("_g", "_op", "_parents", "_partials", "data", "grad")

    data: float
    grad: float
    _op: Op | None
    _parents: tuple[Value, ...]
    _partials: tuple[float, ...]
    _g: float  # scratch: this node's gradient during one backward pass

    def __init__(self, data: float) -> None:
        self.data = _as_float(data)
        self.grad = 0.0
        self._op = None
        self._parents = ()
        self._partials = ()

    def __repr__(self) -> str:
        return f"Value(data={self.data!r}, grad={self.grad!r})"

    def __float__(self) -> float:
        return self.data

    # Every op goes through the registry: _node(OPS[name], inputs, params), as apply() does.
    def __add__(self, other: Value | float) -> Value:
        return _node(OPS["add"], (self, _value(other)))

    def __radd__(self, other: float) -> Value:
        return _node(OPS["add"], (Value(other), self))

    def __sub__(self, other: Value | float) -> Value:
        return _node(OPS["sub"], (self, _value(other)))

    def __rsub__(self, other: float) -> Value:
        return _node(OPS["sub"], (Value(other), self))

    def __mul__(self, other: Value | float) -> Value:
        return _node(OPS["mul"], (self, _value(other)))

    def __rmul__(self, other: float) -> Value:
        return _node(OPS["mul"], (Value(other), self))

    def __truediv__(self, other: Value | float) -> Value:
        return _node(OPS["div"], (self, _value(other)))

    def __rtruediv__(self, other: float) -> Value:
        return _node(OPS["div"], (Value(other), self))

    def __neg__(self) -> Value:
        return _node(OPS["neg"], (self,))

    def __rpow__(self, other: float) -> Value:
        return _node(OPS["powv"], (Value(other), self))

    def exp(self) -> Value:
        return _node(OPS["exp"], (self,))

    def log(self) -> Value:
        return _node(OPS["log"], (self,))

    def tanh(self) -> Value:
        return _node(OPS["tanh"], (self,))

    def sigmoid(self) -> Value:
        return _node(OPS["sigmoid"], (self,))

    def relu(self) -> Value:
        return _node(OPS["relu"], (self,))

    def __pow__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _node(OPS["powv"], (self, other))
        return _node(OPS["pow"], (self,), (_as_float(other),))

    def backward(self, gradient: float = 1.0) -> None:
        """Add d self / d node, times ``gradient``, to the grad of every node self depends on.

        Each call adds once: k calls add exactly k times the gradient to every node.
        """
        seed = _as_float(gradient)
        order = _topological(self)
        for v in order:
            v._g = 0.0
        self._g = seed
        # _g collects this pass alone; grad is touched only once the pass has succeeded.
        for v in reversed(order):
            g = v._g
            if g - g:  # inf or nan
                raise OpError("backward", (self.data,), f"the gradient at {v!r} overflows")
            for p, d in zip(v._parents, v._partials, strict=False):  # equal: see _node
                p._g += d * g
        for v in order:
            v.grad += v._g

    def zero_grad(self) -> None:
        """Set grad to 0 on this node and on every node it was computed from."""
        seen = {self}
        stack = [self]
        while stack:
            v = stack.pop()
            v.grad = 0.0
            for p in v._parents:
                if p not in seen:
                    seen.add(p)
                    stack.append(p)


def _topological(root: Value) -> list[Value]:
    """Every node root depends on, each after all of its parents; no recursion."""
    order: list[Value] = []
    seen = set()
    stack = [(root, False)]
    while stack:
        v, expanded = stack.pop()
        if expanded:
            order.append(v)
        elif v not in seen:
            seen.add(v)
            stack.append((v, True))
            for p in v._parents:
                if p in seen:
                    continue
                if p._parents:
                    stack.append((p, False))
                else:  # a leaf is done as soon as it is seen
                    seen.add(p)
                    order.append(p)
    return order


def register(op: Op) -> Op:
    """Add ``op`` to the registry; an op spelled ``"{}.name()"`` becomes a Value method."""
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} is already registered")
    OPS[op.name] = op
    _add_method(op)
    return op


def apply(op: Op, *args: Value | float, params: tuple[float, ...] = ()) -> Value:
    """Apply ``op`` to Values (numbers become constant leaves); raise OpError, never NaN."""
    return _node(op, tuple(a if isinstance(a, Value) else Value(a) for a in args), params)


def _node(op: Op, parents: tuple[Value, ...], params: tuple[float, ...] = ()) -> Value:
    xs = [p.data for p in parents]
    try:
        y, partials = op.f(*xs, *params)
    except (ArithmeticError, ValueError) as e:
        raise _op_error(op, xs, params, str(e)) from None
    if len(partials) != len(parents):
        raise TypeError(
            f"op {op.name!r} returned {len(partials)} partials for {len(parents)} inputs"
        )
    # A sum of finite numbers is finite unless it overflows: then look at each one.
    if not isfinite(sum(partials, y)) and not all(map(isfinite, (y, *partials))):
        raise _op_error(op, xs, params, "")
    out = _new(Value)
    out.data, out.grad, out._op, out._parents, out._partials = y, 0.0, op, parents, partials
    return out


def dot(a: Sequence[Value | float], b: Sequence[Value | float]) -> Value:
    """sum(a[i] * b[i]) as one node: the fused op a Neuron uses."""
    if len(a) != len(b) or not a:
        raise ValueError(
            f"dot needs two sequences of one equal, non-zero length: {len(a)}, {len(b)}"
        )
    return _node(OPS["dot"], tuple([v if isinstance(v, Value) else Value(v) for v in (*a, *b)]))


_new = object.__new__


def _value(x: Value | float) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _as_float(x: object) -> float:
    if type(x) is float or (isinstance(x, Real) and not isinstance(x, bool)):
        x = float(x)
        if isfinite(x):
            return x
        raise ValueError(f"micrograd needs finite numbers, got {x!r}")
    raise TypeError(f"micrograd needs a real number, got {type(x).__name__}: {x!r}")


def _op_error(op: Op, xs: list[float], params: tuple[float, ...], reason: str) -> OpError:
    domains = op.domains(*params)
    for i, (x, d) in enumerate(
        zip(xs, domains * len(xs) if op.arity == VARIADIC else domains, strict=True)
    ):
        if x not in d:
            where = f"input {i + 1} " if len(xs) > 1 else ""
            return OpError(op.name, (*xs, *params), f"{where}outside the domain {d}")
    if reason and reason != "math range error":
        return OpError(op.name, (*xs, *params), reason)
    return OpError(op.name, (*xs, *params), "the value or a derivative overflows float64")


def _add_method(op: Op) -> None:
    if op.syntax == "{}." + op.name + "()" and not hasattr(Value, op.name):
        setattr(Value, op.name, lambda self: _node(op, (self,)))


for _op in OPS.values():  # an op added to the table as a method needs no code here
    _add_method(_op)
