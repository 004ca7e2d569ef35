"""compare's timing worker: one process per version, answering one JSON request per line.

``python benchmarks/timer.py KIND [TREE]``: KIND is "micrograd" (imported from TREE when given,
else as installed), a peer's name or a floor's name. A request names a workload; the answer is
its CPU time (time.process_time: all threads of the worker), wall time and time in the
collector for one run after a warm-up, ``{"value": ...}`` for the memory workload, or
``{"skip": why}``. Imports nothing of micrograd before TREE is on the path.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads

MEMORY = "memory per node"


def serve(kind: str, tree: str | None = None) -> None:
    """Serve requests for one version: kind is "micrograd" (imported from ``tree`` when given,
    else as installed), a peer's name or a floor's name."""
    sys.setrecursionlimit(200_000)  # micrograd 0.1.0 sorts the graph recursively
    if tree:
        sys.path.insert(0, tree)
    if kind == "micrograd":
        import micrograd
        import micrograd.engine
        import micrograd.nn

        mg = micrograd
    elif kind in workloads.PEERS:
        mg = workloads.peer(kind)
    else:
        mg = None
    collecting = [0.0, 0.0]  # CPU time in the collector; start of the current collection

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            collecting[1] = time.process_time()
        else:
            collecting[0] += time.process_time() - collecting[1]

    gc.callbacks.append(on_gc)
    made = {}
    for line in sys.stdin:
        request = json.loads(line)
        name, paused = request["workload"], request.get("gc paused", False)
        if mg is None:  # a floor: the moons step only
            reason = None if name == "moons step" else "plain-float floor of the moons step only"
        else:
            reason = workloads.unsupported(mg, name)
        if reason:
            reply = {"skip": reason}
        elif name == MEMORY:
            reply = {"value": workloads.bytes_per_node(mg)}
        else:
            if name not in made:
                made[name] = (
                    workloads.FLOORS[kind]() if mg is None else workloads.WORKLOADS[name](mg)
                )
                made[name]()  # warm up
            run = made[name]
            was_enabled = gc.isenabled()
            if paused:
                gc.disable()
            collecting[0] = 0.0
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if was_enabled:
                gc.enable()
            reply = {"cpu": cpu, "wall": wall, "gc": collecting[0]}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
