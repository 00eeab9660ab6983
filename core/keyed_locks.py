"""One lock per key, kept in memory only while someone holds it or waits for it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Hashable, Iterator


class KeyedLocks:
    """Locks by key for work done once per key (a cached value, a stored run): callers
    of the same key share one lock, and the lock is forgotten when its last caller
    leaves, so a long-running server does not keep one per key it ever saw."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[threading.Lock, int]] = {}

    @contextlib.contextmanager
    def lock_for(self, key: Hashable) -> Iterator[threading.Lock]:
        """The key's lock, not yet acquired: the caller acquires it, blocking or with a
        timeout, inside this context (and releases it there)."""
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            yield lock
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:  # the last caller: no one holds or waits on it
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        """How many keys have a caller now."""
        with self._guard:
            return len(self._locks)
