"""One self-updating progress line on stderr, shown only on a terminal.

    checking 37/80 links, 0:12 · 2 failing

Used by the CLI for long operations (adding several sources, fetching, checking links,
building the search index, exporting); below the CLI, code only takes a callback.
"""

from __future__ import annotations

import sys
import time


def elapsed(seconds: float) -> str:
    """0:12, 3:05, 1:02:03: the way a stopwatch shows time."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """`label done/total noun, elapsed` on one line of stderr, redrawn in place.

    `total` may be given later (`start`) when the caller learns it; without one the
    line shows the count so far. Nothing is drawn when stderr is not a terminal, or
    for fewer than `min_total` items (too fast to need it).
    """

    def __init__(self, label: str, total: int | None = None, *, noun: str = "",
                 enabled: bool = True, min_total: int = 0, stream=None):
        self.label, self.total, self.noun = label, total, noun
        self.done_count = 0
        self.min_total = min_total
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.shown = False
        self.started = time.monotonic()
        self._last_draw = 0.0

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.clear()

    def clear(self) -> None:
        """Take the line away (before the command prints its own output)."""
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False

    def start(self, total: int) -> None:
        """The number of items is known now."""
        self.total = total
        self._render("", "", force=True)

    def step(self, item: str = "", note: str = "") -> None:
        """One more item done (its name and a short note are shown)."""
        self.done_count += 1
        self._render(item, note)

    def update(self, done: int, total: int) -> None:
        """`done` of `total` items done (for callers that count themselves)."""
        self.done_count, self.total = done, total
        self._render("", "")

    def line(self, item: str = "", note: str = "") -> str:
        """The text of the progress line as it would be drawn now."""
        noun = f" {self.noun}" if self.noun else ""
        count = f"{self.done_count}/{self.total}" if self.total is not None \
            else f"{self.done_count}"
        text = f"{self.label} {count}{noun}, {elapsed(time.monotonic() - self.started)}"
        if note:
            text += f" · {note}"
        if item and self.total is None:
            text += f": {item}"
        return text

    def _render(self, item: str, note: str, force: bool = False) -> None:
        if not self.enabled or (self.total is not None and self.total < self.min_total):
            return
        now = time.monotonic()
        finished = self.total is not None and self.done_count >= self.total
        # At most ~20 redraws a second: a fast run must not spend its time drawing.
        if not force and not finished and now - self._last_draw < 0.05:
            return
        self._last_draw = now
        self.stream.write("\r\033[K" + self.line(item, note)[:200])
        self.stream.flush()
        self.shown = True
