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
    """A scalar with a gradient; ops on Values record the graph that backward() walks.

    ``Value(data, label="a")`` makes a leaf. ``_children`` and ``_op`` are accepted as in
    micrograd 0.1.0, but only empty: nodes are made by ops, which are declared in the registry
    (``micrograd/ops.py``), never by hand.
    """

    __slots__ = ("_g", "_origin", "_parents", "_partials", "data", "grad", "label")

    data: float
    grad: float
    label: str
    _origin: Op | tuple[Op, tuple[float, ...]] | None  # the op (with its params, if any)
    _parents: tuple[Value, ...]
    _partials: tuple[float, ...]
    _g: float  # scratch: this node's gradient during one backward pass

    def __init__(
        self, data: float, _children: tuple[Value, ...] = (), _op: str = "", label: str = ""
    ) -> None:
        if _children or _op:
            raise TypeError(
                "Value(data, _children, _op) cannot build an op node by hand: micrograd's ops "
                "are declared in its registry, micrograd/ops.py (README: 'Add an op in one "
                "table row'); build nodes with the ops themselves (a + b, a.tanh(), ...)"
            )
        self.data = _as_float(data)
        self.grad = self._g = 0.0
        self._origin = None
        self._parents = self._partials = ()
        self.label = _as_label(label)

    def __repr__(self) -> str:
        return f"Value(data={self.data!r}, grad={self.grad!r})"

    def __float__(self) -> float:
        raise TypeError(_NOT_A_NUMBER)

    __int__ = __index__ = __complex__ = __round__ = __trunc__ = __floor__ = __ceil__ = __float__

    # The lecture's view of a node: its inputs, its op's symbol, its one chain-rule step.
    @property
    def _prev(self) -> set[Value]:
        """The node's inputs, as a set (as micrograd 0.1.0 keeps them)."""
        return set(self._parents)

    @property
    def _op(self) -> str:
        """The op's symbol as micrograd 0.1.0 and the lecture print it ("+", "*", "**2", "tanh",
        "ReLU"); "" for a leaf."""
        origin = self._origin
        if origin is None:
            return ""
        return origin.spelled() if isinstance(origin, Op) else origin[0].spelled(*origin[1])

    @property
    def _fn(self) -> Op | None:
        """The registry entry of the op that made this node (None for a leaf)."""
        origin = self._origin
        return origin if origin is None or isinstance(origin, Op) else origin[0]

    @property
    def _params(self) -> tuple[float, ...]:
        """The constant parameters the op was applied with (the n of ``x ** n``)."""
        return () if self._origin is None or isinstance(self._origin, Op) else self._origin[1]

    def _local_backward(self) -> None:
        """This node's chain-rule step: add ``partial * self.grad`` to each input's grad."""
        g = self.grad
        sums = [p.grad + d * g for p, d in zip(self._parents, self._partials, strict=True)]
        if not all(map(isfinite, sums)):  # partials and grads are finite: only overflow is left
            raise OpError("_backward", (self.data,), f"an input's grad overflows at {self!r}")
        for p, d in zip(self._parents, self._partials, strict=True):
            p.grad += d * g  # the same sums, in order: a node may be an input twice (a * a)

    def _refuse_backward(self, fn: object) -> None:
        raise TypeError(
            "micrograd does not take a _backward closure: an op's value and local derivatives "
            "are declared once in its registry, micrograd/ops.py (README: 'Add an op in one "
            "table row'); node._backward() then does that node's chain-rule step"
        )

    _backward = property(lambda self: self._local_backward, _refuse_backward)

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
        return _node(OPS["pow"], (self,), (_as_float(other, "the exponent"),))

    def backward(self, gradient: float = 1.0) -> None:
        """Add d self / d node, times ``gradient``, to the grad of every node self depends on.

        Each call adds once: k calls add exactly k times the gradient to every node. A
        gradient or a grad that would overflow raises OpError and leaves every grad unchanged.
        """
        seed = _as_float(gradient, "gradient")
        order = _topological(self)
        for v in order:
            v._g = 0.0
        self._g = seed
        # _g collects this pass alone; grad is touched only once the whole pass has succeeded.
        # NOTE: a node whose gradient is exactly 0 adds exactly 0 to its inputs: skip it.
        for v in reversed(order):
            g = v._g
            if g:
                if g - g:  # inf or nan
                    raise OpError("backward", (self.data,), f"the gradient at {v!r} overflows")
                for p, d in zip(v._parents, v._partials, strict=False):  # equal: see _node
                    p._g += d * g
        for v in order:
            if v._g and not isfinite(v.grad + v._g):
                raise OpError("backward", (self.data,), f"adding to the grad of {v!r} overflows")
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


_NOT_A_NUMBER = (
    "a Value does not turn into a number implicitly: that would cut it out of the graph "
    "(math.exp(v) has no gradient). Use the Value's own ops (v.exp(), v.log(), v.tanh(), "
    "v ** 0.5, ...) to stay in the graph, or v.data for the plain number"
)


def _topological(root: Value) -> list[Value]:
    """Every node whose gradient root's can reach through non-zero partials, each after all of
    its inputs; no recursion. An input reached only through zero partials gets no gradient."""
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
            for p, d in zip(v._parents, v._partials, strict=False):
                if not d or p in seen:
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
    out.data, out.grad, out._g, out.label = y, 0.0, 0.0, ""
    out._origin, out._parents, out._partials = (op, params) if params else op, parents, partials
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


def _as_float(x: object, what: str = "data") -> float:
    """``x`` as a finite float; TypeError or ValueError naming ``what`` otherwise."""
    if type(x) is float or (isinstance(x, Real) and not isinstance(x, bool | Value)):
        try:
            y = float(x)
        except OverflowError:  # an int (or Fraction ...) beyond float64's range
            raise ValueError(
                f"{what} must be a finite number (float64), got {type(x).__name__} "
                f"beyond float64's range ({len(str(abs(int(x))))} digits)"  # type: ignore[call-overload]
            ) from None
        if isfinite(y):
            return y
        raise ValueError(f"{what} must be a finite number (float64), got {x!r}")
    kind = "a Value" if isinstance(x, Value) else f"{type(x).__name__}: {x!r}"
    raise TypeError(f"{what} must be a real number, got {kind}")


def _as_label(label: object) -> str:
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}: {label!r}")
    return label


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
