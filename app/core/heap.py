"""The heap a process has built by the time it starts serving (modules, the app, its pools:
about 170,000 objects) is kept out of the cyclic garbage collector's full collections, which
would otherwise scan it each time: on a 2 vCPU machine such a pause took 100–160 ms (a request
or a job waiting that long), and about 10 ms once the startup heap is frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def startup_heap_frozen() -> Iterator[None]:
    """Around a process's working life, entered once it has started; thawed at the end (a test
    process starts many apps). Freezing is a constant-time move; collecting first would cost a
    full collection (startup's own garbage, frozen with the rest, is small)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
