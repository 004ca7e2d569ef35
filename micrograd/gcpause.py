"""gc_paused(): run a block without Python's cyclic garbage collector, then restore it.

micrograd's graphs hold no reference cycles, so reference counting frees each one as soon as
it is dropped; the cyclic collector only scans the nodes a training step creates, again and
again (about a tenth of a moons step's CPU time). micrograd itself never changes the
collector's state: this is the user's lever, for the blocks the user chooses.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable automatic garbage collection inside the block; on leaving it (even by an
    exception) re-enable it if, and only if, it was enabled on entering. Nests; an explicit
    ``gc.collect()`` still works inside. Cycles made inside the block (by code other than
    micrograd's) wait for the next collection after it. The collector's state is global: pause
    it from one thread at a time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
