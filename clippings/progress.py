"""One self-updating progress line on stderr, shown only on a terminal.

    checking 37/80 links, 0:12 · 2 failing

Used by the CLI for long operations (adding several sources, fetching, checking links,
building the search index, exporting); below the CLI, code only takes a callback.
"""

from __future__ import annotations

import sys
import threading
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
    line shows the count so far. With `counts=False` the line names the total only
    (`exporting 5000 entries, 0:07`), for work that reports no steps. `ticking` redraws
    every half second, so the clock runs while one slow item is waited for. Nothing is
    drawn when stderr is not a terminal, or for fewer than `min_total` items (too fast
    to need it).
    """

    def __init__(self, label: str, total: int | None = None, *, noun: str = "",
                 enabled: bool = True, min_total: int = 0, stream=None,
                 ticking: bool = False, counts: bool = True):
        self.label, self.total, self.noun = label, total, noun
        self.counts = counts
        self.done_count = 0
        self.min_total = min_total
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.shown = False
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._last = ("", "")
        self._draw_lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True) \
            if ticking and self.enabled else None

    def __enter__(self) -> "Progress":
        if not self.counts:
            self._render("", "", force=True)   # no steps will come: show it at once
        if self._ticker is not None:
            self._ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.clear()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self._render(*self._last, force=True)

    def clear(self) -> None:
        """Take the line away (before the command prints its own output)."""
        with self._draw_lock:
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
        if not self.counts:
            count = f"{self.total}" if self.total is not None else ""
        elif self.total is not None:
            count = f"{self.done_count}/{self.total}"
        else:
            count = f"{self.done_count}"
        text = f"{self.label} {count}{noun}, {elapsed(time.monotonic() - self.started)}"
        if note:
            text += f" · {note}"
        if item and self.total is None:
            text += f": {item}"
        return text

    def _render(self, item: str, note: str, force: bool = False) -> None:
        if not self.enabled or (self.total is not None and self.total < self.min_total):
            return
        self._last = (item, note)
        now = time.monotonic()
        finished = self.total is not None and self.done_count >= self.total
        # At most ~20 redraws a second: a fast run must not spend its time drawing.
        if not force and not finished and now - self._last_draw < 0.05:
            return
        with self._draw_lock:
            if self._stop.is_set():
                return
            self._last_draw = now
            self.stream.write("\r\033[K" + self.line(item, note)[:200])
            self.stream.flush()
            self.shown = True
