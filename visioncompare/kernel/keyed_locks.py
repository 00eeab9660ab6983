"""One lock per key, kept in memory only while someone holds it or waits for it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterator


class KeyedLocks:
    """Locks by key for work done once per key (a cached value, a stored run): callers
    of the same key take turns, and the lock is forgotten when its last caller leaves,
    so a long-running server does not keep one per key it ever saw."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[threading.Lock, int]] = {}

    @contextlib.contextmanager
    def holding(
        self,
        key: Hashable,
        poll: float | None = None,
        waiting: Callable[[], None] | None = None,
    ) -> Iterator[None]:
        """Hold the key's lock inside this context.

        Args:
            key: what the work is for.
            poll: with ``waiting``, how often (seconds) to call it while another caller
                holds the lock.
            waiting: called every ``poll`` seconds while waiting; it may raise to give up
                waiting (the lock is then never held).
        """
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            if waiting is None or poll is None:
                lock.acquire()
            else:
                while not lock.acquire(timeout=poll):
                    waiting()
            try:
                yield
            finally:
                lock.release()
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:  # the last caller: no one holds or waits on it
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def __contains__(self, key: Hashable) -> bool:
        """Whether someone holds or waits for the key's lock now."""
        with self._guard:
            return key in self._locks

    def __len__(self) -> int:
        """How many keys have a caller now."""
        with self._guard:
            return len(self._locks)
