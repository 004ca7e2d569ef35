"""Gradients as a function, and gradients of gradients: ``grad``, ``hvp``, ``hessian``.

``grad(outputs, inputs)`` returns d outputs / d inputs and touches no ``.grad``, in the shape
of ``torch.autograd.grad``. With ``create_graph=True`` each gradient is a Value in the graph,
built from every op's ``partials`` (its derivatives written with the registry's own ops,
micrograd/ops.py), so it can be differentiated again; ``Value.backward(create_graph=True)``
adds such gradients to the grads, as PyTorch does.

The pass is the plain one (tinygrad's ``compute_gradient``): sort the nodes the outputs'
gradients reach, each after all of its inputs, then walk them from the outputs, adding
``partial * gradient`` to each input's entry of a dict. A gradient flows through every partial
but a constant zero: on floats, a zero; with Values, a partial that is the number 0 (a relu
that is off), while a Value that happens to be 0 (the partial x of x * y at x = 0) still
carries the second derivative. On floats this pass is the meaning of ``Value.backward``, which
the kernel (micrograd/kernel.py) computes bit for bit (tests/property/test_kernel.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import isfinite
from numbers import Real
from typing import Any

from .engine import OpError, Value, as_float, constant, dot

Gradient = Any  # a float, or a Value with create_graph


def gradients(
    outputs: Sequence[Value], seeds: Sequence[Gradient], create_graph: bool = False
) -> dict[Value, Gradient]:
    """sum_k seeds[k] * d outputs[k] / d node for every node the seeds reach (each other
    node's is exactly zero): floats through each node's partials, or with ``create_graph``
    Values through each op's ``partials`` (then the seeds are Values). No recursion, no
    ``.grad`` touched. OpError naming the op when its partials cannot be built as Values."""
    edges: dict[Value, list[tuple[Value, Gradient]]] = {}
    order: list[Value] = []
    for root in outputs:  # depth first, each node after all of its inputs
        if root in edges:
            continue
        edges[root] = _edges(root, create_graph)
        stack = [(root, iter(edges[root]))]
        while stack:
            v, inputs = stack[-1]
            for p, _ in inputs:
                if p not in edges:
                    edges[p] = _edges(p, create_graph)
                    stack.append((p, iter(edges[p])))
                    break
            else:
                stack.pop()
                order.append(v)
    # On floats every reached node starts at 0.0, as the kernel's; with Values a node's first
    # contribution is its gradient (each node but an output has one: it was reached from one).
    grads: dict[Value, Gradient] = {} if create_graph else dict.fromkeys(order, 0.0)
    seeded: set[Value] = set()
    for root, seed in zip(outputs, seeds, strict=True):
        grads[root] = grads[root] + seed if root in seeded else seed
        seeded.add(root)
    for v in reversed(order):  # each node after every node it feeds
        g = grads[v]
        for p, d in edges[v]:
            c = d * g if isinstance(d, Value) or d != 1.0 else g  # no "1 *" node in a graph
            grads[p] = grads[p] + c if p in grads else c
    return grads


def _edges(v: Value, create_graph: bool) -> list[tuple[Value, Gradient]]:
    """(input, partial) for each input of ``v`` a gradient flows to (see the module docstring)."""
    if not create_graph:
        return [(p, d) for p, d in zip(v._parents, v._partials, strict=True) if d]
    return [
        (p, d)
        for p, d in zip(v._parents, graph_partials(v), strict=True)
        if isinstance(d, Value) or d
    ]


def graph_partials(v: Value) -> tuple[Gradient, ...]:
    """``v``'s local partials as its op's ``partials`` writes them: Values (or numbers, for
    the constant ones). OpError naming the op when it declares none, or they cannot be built
    (a derivative that is infinite, or overflows, there)."""
    op = v._entry
    if op is None:
        return ()
    operands = (*(p.data for p in v._parents), *v._params)
    if op.partials is None:
        raise OpError(
            op.name,
            operands,
            "create_graph needs its partials written with Values, and its registry entry "
            "declares none (Op(..., partials=...); how: help(micrograd.ops))",
        )
    try:
        ds = tuple(op.partials(v, *v._parents, *v._params))
        for d in ds:
            if not isinstance(d, Value):
                as_float(d, "a partial")
    except (OpError, TypeError, ValueError) as e:
        raise OpError(op.name, operands, f"its partials as Values (create_graph): {e}") from None
    if len(ds) != len(v._parents):
        raise OpError(
            op.name, operands, f"its partials gave {len(ds)} for {len(v._parents)} inputs"
        )
    return ds


def grad(
    outputs: Value | Sequence[Value],
    inputs: Value | Sequence[Value],
    grad_outputs: Gradient | Sequence[Gradient] | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
    materialize_grads: bool = False,
) -> tuple[Gradient, ...]:
    """sum_k grad_outputs[k] * d outputs[k] / d inputs[i] for each input, as a tuple; no
    ``.grad`` changes. ``grad_outputs`` defaults to 1.0 for each output.

    As ``torch.autograd.grad``: with ``create_graph`` the gradients are Values that can be
    differentiated again (``grad_outputs`` may then be Values too); an input the outputs do not
    depend on raises ValueError, or gives None with ``allow_unused``, or zero with
    ``materialize_grads``. A gradient that is not finite raises OpError, as backward does.
    """
    outs, ins = _as_values(outputs, "outputs"), _as_values(inputs, "inputs")
    seeds = _seeds(grad_outputs, len(outs), create_graph)
    grads = gradients(outs, seeds, create_graph)
    if not create_graph:
        _check_finite(grads, outs)
    used: set[Value] | None = None
    result = []
    for i, x in enumerate(ins):
        if x in grads:
            result.append(grads[x])
            continue
        used = _depends_on(outs) if used is None else used
        if x in used or materialize_grads:  # reached only through zero partials: zero
            result.append(constant(0.0) if create_graph else 0.0)
        elif allow_unused:
            result.append(None)
        else:
            raise ValueError(
                f"grad: the outputs do not depend on inputs[{i}] ({x!r}): pass "
                "allow_unused=True for None there, or materialize_grads=True for zero"
            )
    return tuple(result)


def backward_graph(root: Value, gradient: Gradient) -> None:
    """``root.backward(gradient, create_graph=True)``: add each reached node's gradient, a
    Value, to its grad (``grad + gradient``, a node in the graph, as PyTorch accumulates into a
    zeroed grad); every grad changes or none does."""
    (seed,) = _seeds([gradient], 1, True)
    new = [(v, v.grad + g) for v, g in gradients([root], [seed], True).items()]
    for v, g in new:
        v.grad = g


def hvp(f: Callable[..., Value], xs: Sequence[float], v: Sequence[float]) -> list[float]:
    """The Hessian of the scalar ``f(*Values)`` at ``xs``, times the vector ``v``: two passes,
    no Hessian built (Pearlmutter's trick, as ``torch.autograd.functional.hvp``)."""
    leaves = [Value(x) for x in xs]
    if len(v) != len(leaves):
        raise ValueError(f"hvp: v has {len(v)} entries for {len(leaves)} inputs xs")
    gs = grad(_output(f(*leaves), "hvp"), leaves, create_graph=True, materialize_grads=True)
    gv = dot(list(gs), [as_float(c, f"hvp: v[{i}]") for i, c in enumerate(v)])
    return list(grad(gv, leaves, materialize_grads=True))


def hessian(f: Callable[..., Value], xs: Sequence[float]) -> list[list[float]]:
    """The Hessian of the scalar ``f(*Values)`` at ``xs``: ``H[i][j] = d2 f / d x_i d x_j``,
    one second pass per input."""
    leaves = [Value(x) for x in xs]
    gs = grad(_output(f(*leaves), "hessian"), leaves, create_graph=True, materialize_grads=True)
    return [list(grad(g, leaves, materialize_grads=True)) for g in gs]


def _as_values(xs: object, name: str) -> list[Value]:
    if isinstance(xs, Value):
        return [xs]
    if not isinstance(xs, Sequence) or isinstance(xs, str) or not xs:
        raise TypeError(f"grad: {name} must be a Value or a non-empty list of Values, got {xs!r}")
    for i, x in enumerate(xs):
        if not isinstance(x, Value):
            raise TypeError(f"grad: {name}[{i}] must be a Value, got {type(x).__name__}: {x!r}")
    return list(xs)


def _seeds(grad_outputs: object, n: int, create_graph: bool) -> list[Gradient]:
    """One gradient per output: finite floats, or Values (constants for numbers) with
    create_graph."""
    if grad_outputs is None:
        given: list[object] = [1.0] * n
    elif isinstance(grad_outputs, Value | Real) and n == 1:
        given = [grad_outputs]
    elif isinstance(grad_outputs, Sequence) and len(grad_outputs) == n:
        given = list(grad_outputs)
    else:
        raise ValueError(f"grad: grad_outputs must give one gradient per output ({n})")
    seeds = []
    for i, s in enumerate(given):
        if isinstance(s, Value) and not create_graph:
            s = s.data
        if not isinstance(s, Value):
            s = as_float(s, f"grad: grad_outputs[{i}]")
            s = constant(s) if create_graph else s
        seeds.append(s)
    return seeds


def _check_finite(grads: dict[Value, float], outputs: list[Value]) -> None:
    if isfinite(sum(grads.values())):
        return
    v = next(v for v, g in grads.items() if not isfinite(g))
    raise OpError("grad", tuple(o.data for o in outputs), f"the gradient at {v!r} overflows")


def _depends_on(outputs: list[Value]) -> set[Value]:
    """Every node the outputs are computed from, through any partial."""
    seen, stack = set(outputs), list(outputs)
    while stack:
        for p in stack.pop()._parents:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen


def _output(out: object, who: str) -> Value:
    if not isinstance(out, Value):
        raise TypeError(f"{who}: f must return a Value, got {type(out).__name__}: {out!r}")
    return out


__all__ = ["backward_graph", "grad", "gradients", "graph_partials", "hessian", "hvp"]
