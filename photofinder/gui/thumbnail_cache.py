"""Decoded thumbnails by catalogue file id: the core's one LRU cache, typed for QImage."""

from __future__ import annotations

from PySide6.QtGui import QImage

from photofinder.core.lru import LRUCache

DEFAULT_CAPACITY = 2000  # 256 px thumbnails: about 250 KB each decoded, ≈ 500 MB at most


class ThumbnailCache(LRUCache[int, QImage]):
    """At most `capacity` thumbnails; the least recently used one goes first."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        super().__init__(capacity)
