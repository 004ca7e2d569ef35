"""Value: a scalar that remembers how it was computed, and backward() through that graph."""

from __future__ import annotations

from collections.abc import Sequence
from math import isfinite
from numbers import Real

from . import kernel
from .fused import FusedOp, activated, dot_parts
from .ops import OPS, VARIADIC, Op, on_change


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

    __slots__ = {
        "_origin": "the op that made the node (see _entry, _params, label)",
        "_parents": "the node's inputs, in order",
        "_partials": "d node / d input for each input, computed with the node",
        "_pass_grad": "this node's gradient during a backward pass (micrograd.kernel)",
        "data": "the number this Value holds (a float)",
        "grad": "d output / d this Value, added by backward() (a float; a Value after "
        "backward(create_graph=True))",
    }

    data: float
    grad: float | Value  # a Value after backward(create_graph=True): see micrograd.autograd
    # The op that made the node, or None for a leaf; (op or None, params, label) when the op
    # has params or the node a label: the common node pays nothing for either.
    _origin: Op | tuple[Op | None, tuple[float, ...], str] | None
    _parents: tuple[Value, ...]
    _partials: tuple[float, ...]
    _pass_grad: float | None

    def __init__(
        self, data: float, _children: tuple[Value, ...] = (), _op: str = "", label: str = ""
    ) -> None:
        if _children or _op:
            raise TypeError(
                "Value(data, _children, _op) cannot build an op node by hand: micrograd's ops "
                "are declared in its registry, micrograd/ops.py (how to add one: "
                "help(micrograd.ops)); build nodes with the ops themselves (a + b, a.tanh(), ...)"
            )
        self.data = data if type(data) is float and not data - data else as_float(data)
        self.grad = 0.0
        self._pass_grad = None
        self._origin = (None, (), _as_label(label)) if label != "" else None
        self._parents = self._partials = ()

    def __repr__(self) -> str:
        return f"Value(data={self.data!r}, grad={self.grad!r})"

    def __format__(self, spec: str) -> str:
        """``f"{v:.4f}"`` formats the data; ``f"{v}"`` is the repr."""
        return format(self.data, spec) if spec else repr(self)

    def __float__(self) -> float:
        """Refused: a Value is not a number (``v.data`` is); TypeError saying why."""
        raise TypeError(_NOT_A_NUMBER)

    def __index__(self) -> int:
        """Refused, as float(v): int(v), range(v), a list index."""
        raise TypeError(_NOT_A_NUMBER)

    def __trunc__(self) -> int:
        """Refused, as float(v): math.trunc(v)."""
        raise TypeError(_NOT_A_NUMBER)

    def __round__(self, ndigits: int | None = None) -> float:
        """Refused, as float(v): ``round(v.data, 2)`` rounds the number."""
        raise TypeError(_NOT_A_NUMBER)

    # The lecture's view of a node: its inputs, its op's symbol, its one chain-rule step.
    @property
    def _prev(self) -> set[Value]:
        """The node's inputs, as a set (as micrograd 0.1.0 keeps them)."""
        return set(self._parents)

    prev = _prev  # as some tutorials spell it

    @property
    def label(self) -> str:
        """The node's name in drawings (the lecture's labels); "" unless set."""
        origin = self._origin
        return origin[2] if isinstance(origin, tuple) else ""

    @label.setter
    def label(self, label: str) -> None:
        op, params = self._entry, self._params
        self._origin = (op, params, _as_label(label)) if label or params else op

    @property
    def _op(self) -> str:
        """The op's symbol as micrograd 0.1.0 and the lecture print it ("+", "*", "**2", "tanh",
        "ReLU"); "" for a leaf."""
        op = self._entry
        return "" if op is None else op.symbol_for(*self._params)

    @property
    def _entry(self) -> Op | None:
        """The registry entry of the op that made this node (None for a leaf)."""
        origin = self._origin
        return origin[0] if isinstance(origin, tuple) else origin

    @property
    def _params(self) -> tuple[float, ...]:
        """The constant parameters the op was applied with (the n of ``x ** n``)."""
        origin = self._origin
        return origin[1] if isinstance(origin, tuple) else ()

    def _local_backward(self) -> None:
        """This node's chain-rule step: add ``partial * self.grad`` to each input's grad."""
        g = self.grad
        try:
            sums = [p.grad + d * g for p, d in zip(self._parents, self._partials)]  # I2
            if not all(map(isfinite, sums)):
                raise OverflowError
        except (TypeError, OverflowError):
            for v in (self, *self._parents):
                problem = _not_a_finite_float(v.grad)
                if problem:
                    raise OpError(
                        "_backward", (self.data,), f"the grad of {v!r} {problem}: set by hand"
                    ) from None
            raise OpError(
                "_backward", (self.data,), f"an input's grad overflows at {self!r}"
            ) from None
        for p, d in zip(self._parents, self._partials):
            p.grad += d * g  # the same sums, in order: a node may be an input twice (a * a)

    def _refuse_backward(self, fn: object) -> None:
        raise TypeError(
            "micrograd does not take a _backward closure: an op's value and local derivatives "
            "are declared once in its registry, micrograd/ops.py (how to add one: "
            "help(micrograd.ops)); node._backward() then does that node's chain-rule step"
        )

    _backward = property(lambda self: self._local_backward, _refuse_backward)

    # Every op goes through the registry: _node(OPS[name], inputs, params), as apply() does.

    def __add__(self, other: Value | float) -> Value:
        """self + other (a number becomes a constant leaf); also number + Value."""
        return binary_node(OPS["add"], self, other if isinstance(other, Value) else constant(other))

    def __radd__(self, other: float) -> Value:
        """number + self."""
        return binary_node(OPS["add"], constant(other), self)

    def __sub__(self, other: Value | float) -> Value:
        """self - other; also number - Value."""
        return binary_node(OPS["sub"], self, other if isinstance(other, Value) else constant(other))

    def __rsub__(self, other: float) -> Value:
        """number - self."""
        return binary_node(OPS["sub"], constant(other), self)

    def __mul__(self, other: Value | float) -> Value:
        """self * other; also number * Value."""
        return binary_node(OPS["mul"], self, other if isinstance(other, Value) else constant(other))

    def __rmul__(self, other: float) -> Value:
        """number * self."""
        return binary_node(OPS["mul"], constant(other), self)

    def __truediv__(self, other: Value | float) -> Value:
        """self / other; also number / Value. OpError when dividing by 0."""
        return binary_node(OPS["div"], self, other if isinstance(other, Value) else constant(other))

    def __rtruediv__(self, other: float) -> Value:
        """number / self."""
        return binary_node(OPS["div"], constant(other), self)

    def __neg__(self) -> Value:
        """-self."""
        return unary_node(OPS["neg"], self)

    def __rpow__(self, other: float) -> Value:
        """number ** self: a positive number to the power of a Value."""
        return binary_node(OPS["powv"], constant(other), self)

    # The shipped method ops, written out so that help(), editors and mypy see them; an op
    # registered later gets its method from _add_method (tests/test_registry.py).
    def exp(self) -> Value:
        """e ** self."""
        return unary_node(OPS["exp"], self)

    def log(self) -> Value:
        """The natural logarithm; OpError unless self > 0."""
        return unary_node(OPS["log"], self)

    def tanh(self) -> Value:
        """The hyperbolic tangent, as the lecture's neuron uses it."""
        return unary_node(OPS["tanh"], self)

    def sigmoid(self) -> Value:
        """1 / (1 + e ** -self)."""
        return unary_node(OPS["sigmoid"], self)

    def relu(self) -> Value:
        """max(self, 0); its derivative at 0 is 0 (PyTorch's convention)."""
        return unary_node(OPS["relu"], self)

    def __pow__(self, other: Value | float) -> Value:
        """self ** n for a number n, or self ** Value (then self > 0)."""
        if isinstance(other, Value):
            return binary_node(OPS["powv"], self, other)
        return _node(OPS["pow"], (self,), (as_float(other, "the exponent"),))

    def backward(self, gradient: float | Value = 1.0, *, create_graph: bool = False) -> None:
        """Add d self / d node, times ``gradient``, to the grad of every node self depends on.

        Each call adds once: k calls add exactly k times the gradient to every node. A
        gradient or a grad that would overflow raises OpError and leaves every grad unchanged.
        With ``create_graph`` the gradients added are Values in the graph (a grad becomes
        ``grad + gradient``, a node), so they can be differentiated again: see
        micrograd.autograd. A grad that is such a Value stays one when a plain backward adds to
        it (its ``.data`` is the number).
        """
        if create_graph:
            from .autograd import backward_graph  # it builds on this module

            return backward_graph(self, gradient)
        # The algorithm and its invariants: micrograd.kernel.
        self._pass_grad = as_float(gradient, "gradient")  # marks self as reached, too
        # A try block costs nothing in 3.11 until it raises: any failure (OpError,
        # KeyboardInterrupt ...) unmarks every node; success unmarks each as it commits.
        try:
            inner, ends = kernel.reach(self)
            bad = kernel.propagate(inner)
            if bad is not None:
                raise OpError("backward", (self.data,), f"the gradient at {bad!r} overflows")
            reached = inner + ends
            if not kernel.commit(reached) and not _commit_onto_graphs(reached):
                raise _grad_error("backward", self, reached)
        except BaseException:
            kernel.unmark(self)
            raise
        return None

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


def _commit_onto_graphs(reached: list[Value]) -> bool:
    """kernel.commit where some grads are Values (left by create_graph): a Value grad becomes
    the node ``grad + _pass_grad``, a float one the float sum; False, and nothing changed,
    when a grad is neither, or a sum (of the Value's number) would not be finite."""
    if not any(isinstance(v.grad, Value) for v in reached):
        return False
    try:
        if not all(isfinite(_number(v.grad) + v._pass_grad) for v in reached):  # type: ignore[operator]
            return False
    except TypeError:  # a grad set by hand to a non-number
        return False
    grads = [v.grad + v._pass_grad for v in reached]  # type: ignore[operator]
    for v, g in zip(reached, grads):  # one length
        v.grad = g
        v._pass_grad = None
    return True


def _number(grad: object) -> object:
    """A grad's number: a Value's data (a grad left by create_graph), else the grad itself."""
    return grad.data if isinstance(grad, Value) else grad


def _grad_error(who: str, root: Value, nodes: list[Value]) -> OpError:
    """The error for a pass whose new grads are not all finite: which node, and why."""
    for v in nodes:
        problem = _not_a_finite_float(_number(v.grad))
        if problem:
            return OpError(who, (root.data,), f"the grad of {v!r} {problem}: .grad was set by hand")
    # Every grad is a finite number: the first sum that is not finite overflows, or the gradient
    # it adds already has (at a node that passes nothing on, which backward does not visit).
    v = next((v for v in nodes if not isfinite(_number(v.grad) + v._pass_grad)), root)  # type: ignore[operator]
    if v._pass_grad is not None and not isfinite(v._pass_grad):
        return OpError(who, (root.data,), f"the gradient at {v!r} overflows")
    return OpError(who, (root.data,), f"adding to the grad of {v!r} overflows")


_NOT_A_NUMBER = (
    "a Value does not turn into a number implicitly: that would cut it out of the graph "
    "(math's functions, float(), int() and round() have no gradient). Use the Value's own ops "
    "(v.exp(), v.log(), v.tanh(), v ** 0.5, ...) to stay in the graph, or v.data for the "
    "plain number"
)


def apply(op: Op, *args: Value | float, params: tuple[float, ...] = ()) -> Value:
    """Apply ``op`` to Values (numbers become constant leaves); raise OpError, never NaN.

    A wrong op, number of inputs or number of params raises TypeError; an input or a param
    that is not a finite number raises TypeError or ValueError naming it.
    """
    try:
        if op.arity == VARIADIC and (not args or len(args) % 2):  # else paired up wrongly
            raise TypeError  # named by _apply_error
        return _node(op, tuple(a if isinstance(a, Value) else Value(a) for a in args), params)
    except (TypeError, ValueError, AttributeError, OverflowError) as e:
        raise (_apply_error(op, args, params) or e) from None


def _apply_error(op: object, args: tuple[object, ...], params: object) -> Exception | None:
    """Why ``apply(op, *args, params=params)`` cannot run, naming the argument (or None)."""
    if not isinstance(op, Op):
        return TypeError(
            f"apply takes a registry entry as op (micrograd.OPS['add'], ...), got "
            f"{type(op).__name__}: {op!r}"
        )
    if not isinstance(params, tuple | list):
        return TypeError(f"apply: params must be a tuple of numbers, got {type(params).__name__}")
    if len(params) != len(op.params):
        names = ", ".join(op.params) or "none"
        return TypeError(
            f"apply: {op.name} takes {len(op.params)} params ({names}), got {params!r}"
        )
    n = len(args)
    if (op.arity == VARIADIC and (n == 0 or n % 2)) or op.arity not in (VARIADIC, n):
        want = "an even, non-zero number of" if op.arity == VARIADIC else str(op.arity)
        return TypeError(f"apply: {op.name} takes {want} inputs, got {n}")
    try:
        for name, p in zip(op.params, params):  # equal lengths: checked above
            as_float(p, f"apply: {op.name}'s param {name}")
        for i, a in enumerate(args):
            if not isinstance(a, Value):
                as_float(a, f"apply: {op.name}'s input {i + 1}")
    except (TypeError, ValueError) as e:
        return e
    return None


def dot(a: Sequence[Value | float], b: Sequence[Value | float]) -> Value:
    """sum(a[i] * b[i]) as one node: the fused op a Neuron uses. TypeError or ValueError
    naming ``a`` or ``b`` (or an element) when they are not two lists of finite numbers or
    Values of one non-zero length."""
    for name, xs in (("a", a), ("b", b)):
        if not isinstance(xs, Sequence) or isinstance(xs, str | bytes):
            raise TypeError(
                f"dot: {name} must be a list of numbers or Values, got {type(xs).__name__}"
            )
    if len(a) != len(b) or not a:
        raise _unequal_lengths_error(a, b)
    try:
        parents = tuple([v if isinstance(v, Value) else Value(v) for v in (*a, *b)])
    except (TypeError, ValueError):
        for name, xs in (("a", a), ("b", b)):
            for i, v in enumerate(xs):
                if not isinstance(v, Value):
                    as_float(v, f"dot: {name}[{i}]")
        raise
    return _node(OPS["dot"], parents)


def _unequal_lengths_error(a: Sequence[object], b: Sequence[object]) -> ValueError:
    return ValueError(f"dot needs two sequences of one equal, non-zero length: {len(a)}, {len(b)}")


# ---------------------------------------------------------------------------------------------
# The node constructors: every node of a graph is made here, and each checks what the kernel
# relies on (micrograd.kernel): one partial per input (I2), a finite value and partials (I3).
# _node is the plain one; the others are it unrolled for the shapes that make up most graphs
# (see the benchmarks), and the property tests run every op through them.

_new = object.__new__


def _node(op: Op, parents: tuple[Value, ...], params: tuple[float, ...] = ()) -> Value:
    xs = [p.data for p in parents]
    try:
        y, partials = op.f(*xs, *params)
        if len(partials) != len(parents):
            raise TypeError(
                f"op {op.name!r} returned {len(partials)} partials for {len(parents)} inputs"
            )
        # A sum of finite floats is finite unless it overflows: then look at each one.
        if not isfinite(sum(xs, sum(partials, y))) and not all(map(isfinite, (*xs, y, *partials))):
            raise _op_error(op, xs, params)
    except (ArithmeticError, ValueError, TypeError) as e:
        raise _as_op_error(op, xs, params, e) from None
    out = _new(Value)
    out.data, out.grad, out._pass_grad = y, 0.0, None
    out._origin, out._parents, out._partials = (op, params, "") if params else op, parents, partials
    return out


def unary_node(op: Op, a: Value) -> Value:
    """``op`` (a one-input registry entry without params) applied to ``a``: what
    ``a.relu()`` does, for callers that hold the op (a Neuron's activation)."""
    x = a.data
    try:
        y, partials = op.f(x)
        if len(partials) != 1:
            raise TypeError(f"op {op.name!r} returned {len(partials)} partials for 1 inputs")
        # The input too: a relu or tanh of inf or nan would be finite (only .data set by hand
        # can hold one).
        s = x + y + partials[0]
        if s - s and not (isfinite(x) and isfinite(y) and isfinite(partials[0])):
            raise _op_error(op, [x], ())
    except (ArithmeticError, ValueError, TypeError) as e:
        raise _as_op_error(op, [x], (), e) from None
    out = _new(Value)
    out.data, out.grad, out._pass_grad = y, 0.0, None
    out._origin, out._parents, out._partials = op, (a,), partials
    return out


def binary_node(op: Op, a: Value, b: Value) -> Value:
    x, z = a.data, b.data
    try:
        y, partials = op.f(x, z)
        if len(partials) != 2:
            raise TypeError(f"op {op.name!r} returned {len(partials)} partials for 2 inputs")
        s = x + z + y + partials[0] + partials[1]
        if s - s and not all(map(isfinite, (x, z, y, *partials))):
            raise _op_error(op, [x, z], ())
    except (ArithmeticError, ValueError, TypeError) as e:
        raise _as_op_error(op, [x, z], (), e) from None
    out = _new(Value)
    out.data, out.grad, out._pass_grad = y, 0.0, None
    out._origin, out._parents, out._partials = op, (a, b), partials
    return out


def dot_node(
    a: tuple[Value, ...], b: tuple[Value, ...], b_data: Sequence[float], op: Op | None = None
) -> Value:
    """``dot(a, b)`` for Values whose lengths already agree, with ``b``'s data given: a Layer
    reads its inputs once for all of its neurons. With ``op`` made by ``fused.dot_then``,
    ``activation(dot(a, b))`` as one node: a Neuron's. ValueError when the lengths differ (a
    Neuron of another size put into a Layer by hand)."""
    a_data = [v.data for v in a]
    if len(a_data) != len(b_data):
        raise _unequal_lengths_error(a, b_data)
    if op is None:
        op, activation = OPS["dot"], None
    elif type(op) is FusedOp:
        activation = op.activation
    elif op is OPS["dot"]:
        activation = None
    else:
        raise TypeError(f"dot_node takes dot or an op made by fused.dot_then, got {op.name!r}")
    try:
        y, partials = dot_parts(a_data, b_data)
        # NOTE: the partials are the inputs, and an inf or nan among them makes the sum of
        # products inf or nan (inf * 0 is nan): a finite y is enough.
        if y - y:
            raise _op_error(op, [*a_data, *b_data], ())
        if activation is not None:  # what op.f computes, without packing the inputs
            y, partials = activated(activation, y, partials)
    except (ArithmeticError, TypeError, ValueError) as e:
        raise _as_op_error(op, [*a_data, *b_data], (), e) from None
    out = _new(Value)
    out.data, out.grad, out._pass_grad = y, 0.0, None
    out._origin, out._parents, out._partials = op, a + b, partials
    return out


def constant(x: float) -> Value:
    """A constant operand as a leaf: ``Value(x)`` without the keyword handling; TypeError or
    ValueError naming "the operand" when ``x`` is not a finite number."""
    out = _new(Value)
    out.data = x if type(x) is float and not x - x else as_float(x, "the operand")
    out.grad, out._pass_grad, out._origin, out._parents, out._partials = 0.0, None, None, (), ()
    return out


# ---------------------------------------------------------------------------------------------
# Arguments and errors: what a number must be, and which error names what went wrong.


def as_float(x: object, what: str = "data") -> float:
    """``x`` as a finite float; TypeError or ValueError naming ``what`` otherwise."""
    if type(x) is float or (isinstance(x, Real) and not isinstance(x, bool | Value)):
        try:
            y = float(x)
        except OverflowError:  # an int (or Fraction ...) beyond float64's range
            raise ValueError(
                f"{what} must be a finite number (float64), got {type(x).__name__} "
                "beyond float64's range (about 1.8e308)"
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


def _as_op_error(op: Op, xs: list[float], params: tuple[float, ...], e: Exception) -> Exception:
    """What to raise when evaluating ``op`` at ``xs`` raised ``e``: OpError, unless ``e`` is
    one already or a TypeError of the op's own (its inputs are all floats)."""
    if isinstance(e, OpError) or (isinstance(e, TypeError) and all(type(x) is float for x in xs)):
        return e
    return _op_error(op, xs, params, str(e))


def _op_error(op: Op, xs: list[float], params: tuple[float, ...], reason: str = "") -> OpError:
    for i, x in enumerate(xs):
        problem = _not_a_finite_float(x)
        if problem:  # only .data assigned by hand can hold one
            where = f"input {i + 1}" if len(xs) > 1 else "the input"
            return OpError(
                op.name,
                (*xs, *params),
                f"{where} {problem}: a Value's .data was set to a non-finite number or a "
                "non-number by hand",
            )
    domains = op.domains(*params)
    # A domain per input (the registry's tests check it), one for all of a variadic op's.
    for i, (x, d) in enumerate(zip(xs, domains * len(xs) if op.arity == VARIADIC else domains)):
        if x not in d:
            where = f"input {i + 1} " if len(xs) > 1 else ""
            return OpError(op.name, (*xs, *params), f"{where}outside the domain {d}")
    if reason and reason != "math range error":
        return OpError(op.name, (*xs, *params), reason)
    return OpError(op.name, (*xs, *params), "the value or a derivative overflows float64")


def _not_a_finite_float(x: object) -> str:
    """Why ``x`` cannot be a Value's data, or "" if it can."""
    if type(x) is float or (isinstance(x, Real) and not isinstance(x, bool)):
        try:
            return "" if isfinite(x) else f"is {x!r}"
        except OverflowError:
            return f"is {_with_article(type(x).__name__)} beyond float64's range"
    return f"is {_with_article(type(x).__name__)}"


def _with_article(noun: str) -> str:
    """The noun with its indefinite article: "a str", "an int"."""
    return f"{'an' if noun[0].lower() in 'aeiou' else 'a'} {noun}"


_methods: dict[str, Op] = {}  # the Value methods _add_method added, by name


def _add_method(op: Op) -> None:
    """Give an op spelled ``"{}.name()"`` its Value method, unless Value has that name."""
    if op.syntax == "{}." + op.name + "()" and not hasattr(Value, op.name):
        setattr(Value, op.name, lambda self: unary_node(op, self))
        _methods[op.name] = op


def _remove_method(op: Op) -> None:
    """Take away the method _add_method gave ``op``, if it gave one."""
    if _methods.get(op.name) is op:
        delattr(Value, op.name)
        del _methods[op.name]


on_change(_add_method, _remove_method)  # an op added to the table as a method needs no code here
