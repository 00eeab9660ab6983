"""Caches bounded by the bytes their values hold: a least-recently-used cache
(``ByteBoundedCache``, thread-safe) and a small mapping whose newest entry always stays
(``ByteBoundedDict``)."""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Generic, TypeVar

import numpy as np

from visioncompare.kernel.keyed_locks import KeyedLocks

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

OBJECT_OVERHEAD = 64
"""Bytes counted for every object on top of its contents, so that many small values are
bounded too."""


def nbytes_of(value: object, skip: Iterable[object] = ()) -> int:
    """About how many bytes a value holds: its numpy arrays, bytes and strings, through
    dataclasses (their fields and the cached properties they computed), tuples, lists,
    dicts and pandas frames (each object counted once). Objects in ``skip``, and what
    only they hold, are not counted (say, a dataset that another cache holds)."""
    seen: set[int] = {id(item) for item in skip}
    stack = [value]
    total = 0
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += OBJECT_OVERHEAD
        if isinstance(item, np.ndarray):
            total += item.nbytes if item.base is None else 0
            if item.base is not None:
                stack.append(item.base)
        elif isinstance(item, (bytes, bytearray, memoryview, str)):
            total += sys.getsizeof(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            if hasattr(item, "__dict__"):  # fields and functools.cached_property values
                stack.extend(vars(item).values())
            else:
                stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        elif hasattr(item, "memory_usage") and hasattr(item, "columns"):
            total += int(item.memory_usage(index=True, deep=True).sum())
        elif hasattr(item, "nbytes") and isinstance(item.nbytes, int):
            total += item.nbytes
        else:
            total += sys.getsizeof(item)
    return total


class ByteBoundedCache(Generic[V]):
    """Keeps the most recently used values while their sizes add up to ``max_bytes``.

    Args:
        max_bytes: the budget; a value larger than it is not kept at all.
        size_of: the bytes a value holds.
    """

    def __init__(self, max_bytes: int, size_of: Callable[[V], int] = nbytes_of) -> None:
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._items: OrderedDict[str, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._computing = KeyedLocks()  # the keys being computed, one caller at a time

    def get(self, key: str) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: str, value: V) -> bool:
        """Store a value (evicting the least recently used); False if it is too big."""
        size = int(self._size_of(value))
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.max_bytes:
                return False
            while self._items and self._bytes + size > self.max_bytes:
                _, (_, evicted) = self._items.popitem(last=False)
                self._bytes -= evicted
            self._items[key] = (value, size)
            self._bytes += size
            return True

    def get_or_compute(self, key: str, compute: Callable[[], V]) -> V:
        """The cached value, or ``compute()`` stored under ``key``. Callers asking for
        the same key at the same time compute it once: the others wait and read it. An
        exception is not cached (each caller that asks again tries again)."""
        hit = self.get(key)
        if hit is not None:
            return hit
        with self._computing.holding(key):
            hit = self.get(key)
            if hit is not None:
                return hit
            value = compute()
            self.put(key, value)
            return value

    def clear(self, prefix: str = "") -> None:
        """Forget every value (or those whose key starts with ``prefix``)."""
        with self._lock:
            for key in [k for k in self._items if k.startswith(prefix)]:
                self._bytes -= self._items.pop(key)[1]

    @property
    def nbytes(self) -> int:
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class ByteBoundedDict(Mapping[K, V]):
    """A small mapping bounded by the bytes of its values: when a value is stored, the
    oldest entries go until the rest fit in ``max_bytes``. The newest entry always stays,
    however large. Sizes are measured again at every store, so values that grow after
    being stored (cached properties) are counted as they are now. Thread-safe.

    Args:
        max_bytes: the budget of every entry but the newest.
        size_of: the bytes a value holds.
    """

    def __init__(self, max_bytes: int, size_of: Callable[[V], int] = nbytes_of) -> None:
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, key: K) -> V:
        with self._lock:
            return self._items[key]

    def __iter__(self) -> Iterator[K]:
        with self._lock:
            return iter(list(self._items))

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def put(self, key: K, value: V) -> list[V]:
        """Store ``value`` as the newest entry; returns the values that were let go."""
        with self._lock:
            self._items.pop(key, None)
            sizes = [int(self._size_of(v)) for v in self._items.values()]
            total = sum(sizes) + int(self._size_of(value))
            dropped = []
            for old, size in zip(list(self._items), sizes):
                if total <= self.max_bytes:
                    break
                dropped.append(self._items.pop(old))
                total -= size
            self._items[key] = value
            return dropped

    def pop(self, key: K, default: V | None = None) -> V | None:
        with self._lock:
            return self._items.pop(key, default)

    def clear(self) -> list[V]:
        """Forget every entry; returns them."""
        with self._lock:
            values = list(self._items.values())
            self._items.clear()
            return values
