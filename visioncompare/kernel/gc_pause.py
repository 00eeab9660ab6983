"""Pause Python's cyclic garbage collector while a step allocates many objects.

The collector runs after every 700 new container objects and, now and then, walks every
object the process holds. Reading a 500,000-entry COCO results file, or writing one,
creates millions of lists and dicts and no reference cycle, so those walks find nothing
and cost more than the step itself. Reference counting frees everything as before; only
the search for cycles waits until the step ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the ``with`` block (or the decorated
    function); the collector's state before it (on, or off) is restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
