"""Benchmark workloads, written against the API every micrograd version shares (Value with
+ - * ** relu, nn.MLP), so the same code times this checkout, a git ref or micrograd 0.1.0.

Each ``make_*`` takes the micrograd package and returns a function that runs the workload once.
"""

import random
import tracemalloc


def moons_data(n=100, seed=1):
    """``n`` points of two interleaved half-moons with noise 0.1, labels -1/+1 (as make_moons)."""
    import math

    rng = random.Random(seed)
    X, y = [], []
    for i in range(n):
        t = math.pi * (i % (n // 2)) / (n // 2 - 1)
        upper = i < n // 2
        a, b = (math.cos(t), math.sin(t)) if upper else (1 - math.cos(t), 0.5 - math.sin(t))
        X.append([a + rng.gauss(0, 0.1), b + rng.gauss(0, 0.1)])
        y.append(1.0 if upper else -1.0)
    return X, y


def make_moons_step(mg, alpha=1e-4, lr=0.01):
    """One training step of MLP(2, [16, 16, 1]) on 100 points: max-margin loss + L2,
    zero_grad, backward, SGD."""
    random.seed(0)  # micrograd 0.1.0 draws its weights from the random module
    model = mg.nn.MLP(2, [16, 16, 1])
    X, y = moons_data()
    Value = mg.engine.Value

    def step():
        model.zero_grad()
        scores = [model([Value(a), Value(b)]) for a, b in X]
        losses = [(1 + -yi * s).relu() for yi, s in zip(y, scores, strict=False)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg = alpha * sum(p * p for p in model.parameters())
        loss = data_loss + reg
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        return loss.data

    return step


def make_chain(mg, n):
    """Forward and backward through a chain of ``n`` nodes (n/2 multiply-adds)."""
    Value = mg.engine.Value

    def run():
        x = Value(0.5)
        y = x
        for _ in range(n // 2):
            y = y * 0.999 + 0.0005
        y.backward()
        return x.grad

    return run


def make_wide(mg, n=200_000, leaves=1000, seed=0):
    """Forward and backward through a random graph of ``n`` nodes over ``leaves`` inputs, each
    node combining two random earlier ones (shared nodes and diamonds everywhere)."""
    Value = mg.engine.Value
    rng = random.Random(seed)
    plan = [
        (rng.random() < 0.5, rng.randrange(leaves + i), rng.randrange(leaves + i))
        for i in range(n // 3)
    ]

    def run():
        nodes = [Value(rng.uniform(-1, 1)) for _ in range(leaves)]
        for is_mul, i, j in plan:  # three nodes each: op, scale, relu
            a, b = nodes[i], nodes[j]
            nodes.append(((a * b) if is_mul else (a + b) * 0.5).relu())
        nodes[-1].backward()

    return run


def bytes_per_node(mg, n=100_000):
    """Memory held by a chain of ``n`` nodes (x * c), per node, as tracemalloc counts it."""
    Value = mg.engine.Value
    x = Value(1.0)
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    y = x
    for _ in range(n // 2):
        y = y * 1.0  # two nodes: the constant and the product
    used = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    del y
    return used / n


def make_floor_moons_step(alpha=1e-4, lr=0.01):
    """The moons step by hand on plain floats: the speed floor for any scalar engine."""
    random.seed(0)
    sizes = [2, 16, 16, 1]
    W = [
        [[random.uniform(-1, 1) for _ in range(sizes[i])] for _ in range(sizes[i + 1])]
        for i in range(3)
    ]
    B = [[0.0] * sizes[i + 1] for i in range(3)]
    X, y = moons_data()

    def step():
        gW = [[[0.0] * len(r) for r in layer] for layer in W]
        gB = [[0.0] * len(layer) for layer in B]
        n = len(X)
        loss = 0.0
        for x, yi in zip(X, y, strict=False):
            acts, pres, a = [x], [], x
            for li in range(3):
                z = [
                    sum(w * ai for w, ai in zip(row, a, strict=False)) + b
                    for row, b in zip(W[li], B[li], strict=False)
                ]
                pres.append(z)
                a = [v if v > 0.0 else 0.0 for v in z] if li < 2 else z
                acts.append(a)
            margin = 1 - yi * a[0]
            if margin > 0:
                loss += margin / n
                dz = [-yi / n]
                for li in (2, 1, 0):
                    if li < 2:
                        dz = [d if z > 0 else 0.0 for d, z in zip(dz, pres[li], strict=False)]
                    ain, da = acts[li], [0.0] * len(acts[li])
                    for j, (row, d) in enumerate(zip(W[li], dz, strict=False)):
                        grow = gW[li][j]
                        gB[li][j] += d
                        for k in range(len(row)):
                            grow[k] += d * ain[k]
                            da[k] += d * row[k]
                    dz = da
        for li in range(3):
            for j, row in enumerate(W[li]):
                for k in range(len(row)):
                    g = gW[li][j][k] + 2 * alpha * row[k]
                    loss += alpha * row[k] * row[k]
                    row[k] -= lr * g
                B[li][j] -= lr * (gB[li][j] + 2 * alpha * B[li][j])
                loss += alpha * B[li][j] * B[li][j]
        return loss

    return step


WORKLOADS = {
    "moons step": make_moons_step,
    "chain 10k": lambda mg: make_chain(mg, 10_000),
    "chain 1M": lambda mg: make_chain(mg, 1_000_000),
    "wide 200k": make_wide,
}


def supports(mg, workload):
    """Whether this micrograd version can run ``workload``: 0.1.0 recurses in backward, so a
    chain of a million nodes overflows the stack."""
    return not (workload == "chain 1M" and not hasattr(mg, "__version__"))
