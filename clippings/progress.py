"""One self-updating progress line on stderr, shown only on a terminal.

Used by the CLI for long operations (adding several sources, fetching, checking links,
building the search index); below the CLI, code only takes a callback.
"""

from __future__ import annotations

import sys


class Progress:
    def __init__(self, label: str, total: int | None = None, *, enabled: bool = True,
                 min_total: int = 0):
        self.label, self.total, self.done_count = label, total, 0
        self.min_total = min_total
        self.enabled = enabled and sys.stderr.isatty()
        self.shown = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()

    def step(self, item: str = "", note: str = "") -> None:
        """One more item done (its name and a short note are shown)."""
        self.done_count += 1
        self._render(item, note)

    def update(self, done: int, total: int) -> None:
        """`done` of `total` items done (for callers that count themselves)."""
        self.done_count, self.total = done, total
        self._render("", "")

    def _render(self, item: str, note: str) -> None:
        if not self.enabled or (self.total is not None and self.total < self.min_total):
            return
        if self.total:
            width = 30
            filled = width * min(self.done_count, self.total) // self.total
            line = (f"{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                    f"{self.done_count}/{self.total} {note}")
        else:
            line = f"{self.label} {self.done_count}: {item} {note}"
        sys.stderr.write("\r\033[K" + line[:200])
        sys.stderr.flush()
        self.shown = True
