"""An engine that orders backward by each node's distance from the output (breadth first),
ties in the order of a set of labels: right or wrong depending on the hash seed. The labels
are given in each backward() by order of discovery, so a graph's outcome depends on the seed
alone."""


class Value:
    def __init__(self, data, _children=()):
        self.data, self.grad = float(data), 0.0
        self._prev, self._backward = tuple(_children), lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    __radd__ = __add__
    __rmul__ = __mul__

    def backward(self):
        label = {id(self): "n0"}
        nodes, distance, frontier = {"n0": self}, {"n0": 0}, [self]
        while frontier:
            nxt = []
            for v in frontier:
                for c in v._prev:
                    if id(c) not in label:
                        label[id(c)] = f"n{len(label)}"
                        distance[label[id(c)]] = distance[label[id(v)]] + 1
                        nodes[label[id(c)]] = c
                        nxt.append(c)
            frontier = nxt
        by_distance = {}
        for label in set(nodes):
            by_distance.setdefault(distance[label], []).append(nodes[label])
        self.grad = 1.0
        for d in sorted(by_distance):
            for v in by_distance[d]:
                v._backward()
