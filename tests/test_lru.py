"""clippings.lru.LRU: what every kept-for-reuse store of the searches and the server
relies on (weight limit, least recently used first, too heavy never kept)."""

from __future__ import annotations

from clippings.lru import LRU


def test_the_least_recently_used_go_first_by_weight():
    kept = LRU(10, weigh=len)
    kept.put("a", "xxxx")
    kept.put("b", "xxxx")
    assert kept.get("a") == "xxxx"          # a is now the most recent
    kept.put("c", "xxxx")                   # 12 > 10: b goes, not a
    assert kept.get("b") is None and kept.get("a") and kept.get("c")
    assert kept.weight == 8


def test_a_replaced_value_is_weighed_once_and_a_too_heavy_one_not_kept():
    kept = LRU(10, weigh=len, largest=5)
    kept.put("a", "xxx")
    kept.put("a", "xxxxx")
    assert kept.weight == 5 and len(kept) == 1
    kept.put("b", "x" * 6)
    assert kept.get("b") is None and kept.get("a") == "xxxxx"
    kept.clear()
    assert kept.weight == 0 and kept.get("a", "gone") == "gone"


def test_a_limit_of_zero_keeps_nothing():
    kept = LRU(0)
    kept.put("a", 1)
    assert kept.get("a") is None
