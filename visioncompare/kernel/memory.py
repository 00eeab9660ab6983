"""Give memory the process has freed back to the operating system.

Decoding a large image allocates and frees hundreds of megabytes in blocks that glibc's
allocator keeps in its per-thread arenas: freed, but still resident, so the server's
memory would keep growing with every large upload although nothing holds the pixels.
``malloc_trim`` returns those free pages; on a system without glibc nothing happens.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import threading

log = logging.getLogger(__name__)


def _find_malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)  # glibc only (musl has none)
    if trim is not None:
        trim.argtypes = [ctypes.c_size_t]
        trim.restype = ctypes.c_int
    return trim


_MALLOC_TRIM = _find_malloc_trim()
_LOCK = threading.Lock()


def release_free_memory() -> bool:
    """Return freed heap memory to the operating system; False where this cannot be
    done (no glibc)."""
    if _MALLOC_TRIM is None:
        return False
    with _LOCK:
        _MALLOC_TRIM(0)
    return True
