"""A thread-safe least-recently-used store bounded by the total weight of its values: the
one kept-for-reuse mechanism of the searches and the server (decoded posting lists,
ranked matches, parsed queries, snippet markers, compact files, rendered pages)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable


class LRU:
    """At most `limit` in weight (`weigh(value)`, 1 each by default); the least recently
    used go first. A value heavier than `largest` is not kept at all."""

    def __init__(self, limit: int, weigh: Callable[[object], int] = lambda value: 1,
                 largest: int | None = None):
        self.limit, self.weigh = limit, weigh
        self.largest = limit if largest is None else largest
        self.items: OrderedDict = OrderedDict()
        self.weight = 0
        self.lock = threading.Lock()

    def get(self, key, default=None):
        with self.lock:
            value = self.items.get(key)
            if value is None:
                return default
            self.items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        weight = self.weigh(value)
        if self.limit <= 0 or weight > self.largest:
            return
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.weight -= self.weigh(old)
            self.items[key] = value
            self.weight += weight
            while self.weight > self.limit:
                _, dropped = self.items.popitem(last=False)
                self.weight -= self.weigh(dropped)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.weight = 0

    def __len__(self) -> int:
        return len(self.items)
