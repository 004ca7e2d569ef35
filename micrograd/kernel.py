"""The backward pass: reach, propagate, commit. ``Value.backward`` runs these three in order.

A node has ``_parents`` (its inputs, in order), ``_partials`` (d node / d input, one per
input), ``grad`` and ``_pass_grad``. The plain meaning of a pass is
``micrograd.testing.reference.reference_backward``, twenty lines over a dict of gradients; this
module computes the same floats, bit for bit (tests/property/test_kernel.py), in a slot on the
nodes and without a dict.

1. ``reach(root)``: every node root's gradient reaches through non-zero partials, sorted so that
   each node comes after all of its inputs. ``inner`` holds root and the nodes with a non-zero
   partial; ``ends`` the others (leaves, and nodes whose partials are all zero, such as a relu
   that is off): nothing flows out of an end, so no pass visits one.
2. ``propagate(inner)``: in reverse order, add ``partial * _pass_grad`` to each input's
   ``_pass_grad``, as the chain rule says.
3. ``commit(inner + ends)``: add each node's ``_pass_grad`` to its ``grad``, all or nothing.

Invariants:

- I1. ``_pass_grad`` is None on every node outside a pass; during one, a float on exactly the
  nodes reach() returned (root holds the gradient it was given, the others 0.0 at first).
- I2. ``len(_partials) == len(_parents)`` (the node constructors check it): zip needs no
  ``strict=``.
- I3. ``data`` and every partial are finite when a node is made (the constructors check it).
- I4. reach() follows only non-zero partials, so a parent reached only through zero partials
  keeps ``_pass_grad`` None. Propagation MUST skip zero partials: adding ``0.0 * g`` to such a
  parent would add to None. (Skipping them changes no sum: I3 makes ``0.0 * g`` a zero.)
- I5. A pass that fails or is interrupted (an overflow, KeyboardInterrupt, MemoryError) leaves
  every ``grad`` as it was and, by ``unmark``, every ``_pass_grad`` None again (I1).

Finiteness, one idiom: a sum of finite floats is finite unless it overflows, so a list is checked
by its sum, and only when that is not finite, item by item. Where a call costs too much (the
unrolled constructors, propagate), a float's finiteness is spelled ``x - x``: 0.0 when ``x`` is
finite, nan when it is inf or nan.
"""

from __future__ import annotations

from itertools import compress
from math import isfinite
from typing import Any, Protocol, TypeVar

N = TypeVar("N", bound="Node")


class Node(Protocol):
    """What the pass reads and writes on a node (a ``Value``): its inputs are nodes of its kind."""

    grad: Any  # a float; a Value after backward(create_graph=True), where commit declines
    _pass_grad: float | None

    @property
    def _parents(self: N) -> tuple[N, ...]: ...

    @property
    def _partials(self) -> tuple[float, ...]: ...


def reach(root: N) -> tuple[list[N], list[N]]:
    """``(inner, ends)`` of step 1, with ``_pass_grad`` set to 0.0 on each but root (which the
    caller has set, to anything but None). No recursion: the graph may be deep. Whatever stops
    it (KeyboardInterrupt, MemoryError), the caller unmarks (I5)."""
    inner: list[N] = []
    ends: list[N] = []
    if not any(root._partials):
        return inner, [root]
    # compress(parents, partials): the parents through non-zero partials, filtered in C. Two
    # stacks, the nodes being visited and their edges left, in step: no tuple per node.
    nodes = [root]
    stack = [compress(root._parents, root._partials)]
    while stack:
        for p in stack[-1]:
            if p._pass_grad is None:  # not yet reached in this pass
                p._pass_grad = 0.0
                if any(p._partials):
                    nodes.append(p)
                    stack.append(compress(p._parents, p._partials))
                    break
                ends.append(p)
        else:
            stack.pop()
            inner.append(nodes.pop())
    return inner, ends


def propagate(inner: list[N]) -> N | None:
    """Step 2; the first node whose gradient is not finite (the pass stops there), or None."""
    for v in reversed(inner):  # each node after every node it feeds
        g = v._pass_grad
        if g:  # a zero gradient adds zeros: skipped
            if g - g:
                return v
            ps = v._parents
            if len(ps) == 1:  # an activation: its one partial is not zero (I4)
                ps[0]._pass_grad += v._partials[0] * g  # type: ignore[operator]
                continue
            ds = v._partials
            if len(ps) == 2:  # a binary op, unrolled: no zip to build
                p, q = ps
                d, e = ds
                if d:  # I4
                    p._pass_grad += d * g  # type: ignore[operator]
                if e:
                    q._pass_grad += e * g  # type: ignore[operator]
                continue
            for p, d in zip(ps, ds):  # I2
                if d:  # I4
                    p._pass_grad += d * g  # type: ignore[operator]
    return None


def commit(reached: list[N]) -> bool:
    """Step 3: ``grad += _pass_grad`` and ``_pass_grad = None`` on every node, or, when a new
    grad would not be a finite float, False and nothing changed."""
    try:
        grads = [v.grad + v._pass_grad for v in reached]
        if not isfinite(sum(grads)) and not all(map(isfinite, grads)):
            return False
    except (TypeError, ArithmeticError, ValueError):  # a grad set by hand to a non-number,
        return False  # or a Value (left by create_graph), whose sums the engine makes
    for v, x in zip(reached, grads):  # one length
        v.grad = x
        v._pass_grad = None
    return True


def unmark(root: N) -> None:
    """Set ``_pass_grad`` back to None on root and every node marked from it, wherever a pass
    stopped (I5): a node is marked only from a marked node, so the marked ones are reached
    through marked ones."""
    root._pass_grad = None
    stack = [root]
    while stack:
        for p in stack.pop()._parents:
            if p._pass_grad is not None:
                p._pass_grad = None
                stack.append(p)


__all__ = ["Node", "commit", "propagate", "reach", "unmark"]
