"""The meaning of ``Value.backward``, written plainly: the specification the kernel is tested
against (micrograd/kernel.py; tests/property/test_kernel.py checks they agree bit for bit).

It is the shape of tinygrad's ``compute_gradient``: sort the nodes the root's gradient
reaches, then walk them from the root, adding ``partial * gradient`` to each input's entry of a
dict. It touches no node. It is slower than the kernel (a dict lookup per edge, a tuple per
node), which is why it is not the kernel.
"""

from __future__ import annotations

from itertools import compress
from typing import Any


def reference_backward(root: Any, gradient: float = 1.0) -> dict[Any, float]:
    """d root / d node times ``gradient``, for every node reached through non-zero partials
    (every other node's is exactly zero). ``backward(gradient)`` adds these to the grads."""

    def through(v: Any) -> Any:  # the inputs a gradient flows to: partial not zero
        return compress(v._parents, v._partials)

    order, seen, stack = [], {root}, [(root, through(root))]
    while stack:  # depth first, each node after all of its inputs; no recursion
        v, inputs = stack[-1]
        for p in inputs:
            if p not in seen:
                seen.add(p)
                stack.append((p, through(p)))
                break
        else:
            stack.pop()
            order.append(v)
    grads = dict.fromkeys(order, 0.0)
    grads[root] = gradient
    for v in reversed(order):  # each node after every node it feeds
        for p, d in zip(v._parents, v._partials, strict=True):
            if d:  # p was reached through this partial
                grads[p] += d * grads[v]
    return grads


__all__ = ["reference_backward"]
