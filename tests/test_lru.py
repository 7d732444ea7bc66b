"""The one least-recently-used cache (core keypoints and overlays use it)."""

from __future__ import annotations

import threading

from photofinder.core.lru import LRUCache
from photofinder.core.matching import keypoints


def test_the_least_recently_used_item_is_evicted() -> None:
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)  # evicts b, the least recently used
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2 and "b" not in cache and "a" in cache


def test_putting_again_refreshes_and_discard_forgets() -> None:
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)  # now the most recent: b goes next
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b")) == (10, None)
    cache.discard("a")
    cache.discard("missing")
    assert "a" not in cache and len(cache) == 1


def test_hits_and_misses_are_counted_until_cleared() -> None:
    cache: LRUCache[int, str] = LRUCache(4)
    cache.put(1, "one")
    cache.get(1)
    cache.get(2)
    assert (cache.hits, cache.misses) == (1, 1)
    cache.clear()
    assert (cache.hits, cache.misses, len(cache)) == (0, 0, 0)


def test_threads_putting_together_keep_it_bounded() -> None:
    cache: LRUCache[tuple[int, int], int] = LRUCache(50)

    def fill(thread: int) -> None:
        for number in range(2000):
            cache.put((thread, number), number)
            cache.get((thread, number // 2))

    threads = [threading.Thread(target=fill, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 50


def test_keypoint_caches_are_this_cache() -> None:
    assert isinstance(keypoints.feature_cache, LRUCache)
    assert isinstance(keypoints.overlay_cache, LRUCache)
