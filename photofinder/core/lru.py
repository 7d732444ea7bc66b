"""A bounded least-recently-used map: the one cache shape used by core and the GUI."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRUCache(Generic[K, V]):
    """At most `capacity` items, and with `max_bytes` at most that many bytes as `size_of`
    weighs them; putting one more evicts the least recently used. Thread-safe."""

    def __init__(
        self,
        capacity: int,
        max_bytes: int | None = None,
        size_of: Callable[[V], int] | None = None,
    ) -> None:
        if max_bytes is not None and size_of is None:
            raise ValueError("a byte bound needs `size_of` to weigh the values")
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._items: OrderedDict[K, V] = OrderedDict()
        self._sizes: dict[K, int] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> V | None:
        """The value under `key` (now the most recently used), or None."""
        with self._lock:
            if key not in self._items:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return self._items[key]

    def put(self, key: K, value: V) -> None:
        """Store `value` as the most recently used, evicting the oldest beyond the bounds. A
        value bigger than `max_bytes` on its own is not kept."""
        size = self._size_of(value) if self._size_of is not None else 0
        with self._lock:
            self._forget(key)
            if self.max_bytes is not None and size > self.max_bytes:
                return
            self._items[key] = value
            self._sizes[key] = size
            self._bytes += size
            while len(self._items) > self.capacity or (
                self.max_bytes is not None and self._bytes > self.max_bytes
            ):
                self._forget(next(iter(self._items)))

    def _forget(self, key: K) -> None:
        """Drop `key` and its weight (the lock is held)."""
        if key in self._items:
            del self._items[key]
            self._bytes -= self._sizes.pop(key)

    def discard(self, key: K) -> None:
        """Forget `key` if it is there."""
        with self._lock:
            self._forget(key)

    def clear(self) -> None:
        """Forget everything, counters included."""
        with self._lock:
            self._items.clear()
            self._sizes.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    @property
    def nbytes(self) -> int:
        """The weight of what is kept now (0 without `size_of`)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items
