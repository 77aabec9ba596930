"""debate.core.cache: the one bounded cache keeps what was used last and stays in bound."""

from __future__ import annotations

import threading

import pytest

from debate.core.cache import LRUCache


def test_the_entry_used_longest_ago_goes_first():
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get_many(["a", "c"]) == {"a": 1, "c": 3}
    assert len(cache) == 2


def test_put_many_stays_within_the_bound_and_clear_empties_it():
    cache: LRUCache[int, int] = LRUCache(3)
    cache.put_many((i, i * i) for i in range(10))
    assert cache.get_many(range(10)) == {7: 49, 8: 64, 9: 81}
    cache.clear()
    assert len(cache) == 0


def test_a_cache_of_nothing_is_refused():
    with pytest.raises(ValueError):
        LRUCache(0)


def test_threads_writing_at_once_never_exceed_the_bound():
    cache: LRUCache[tuple, int] = LRUCache(50)

    def write(n: int) -> None:
        for i in range(2000):
            cache.put((n, i), i)
            cache.get_many([(n, i - 1), (n, i - 2)])

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 50
