"""The progress line: total and elapsed time, drawn on a terminal only.

The commands run as real processes with stderr on a pseudo-terminal, as a user sees
them; with stderr in a pipe nothing is drawn.
"""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from clippings.progress import Progress, elapsed
from helpers import REPO
from servers import send


def on_terminal(*args: str) -> tuple[int, str, str]:
    """Run `clippings ARGS` with stderr on a pseudo-terminal: (exit code, stdout, what
    was drawn on the terminal)."""
    master, slave = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "clippings", *args], stdout=subprocess.PIPE,
                          stderr=slave, timeout=120, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    return proc.returncode, proc.stdout.decode(), drawn.decode()


def test_check_shows_links_done_of_the_total_and_the_time(library, http_server):
    ok = http_server.route("/ok", send(200, b"<html><title>Artikel</title><p>"
                                           + b"Wort " * 300))
    library.write_text(f"@online{{a, title = {{A}}, url = {{{ok}}}}}\n"
                       f"@online{{b, title = {{B}}, url = {{{http_server.url('/x')}}}}}\n",
                       encoding="utf-8")
    code, out, drawn = on_terminal("--library", str(library), "check")
    assert code == 1
    assert re.search(r"checking 2/2 links, 0:\d\d · 1 failing", drawn), drawn
    assert "checking" not in out
    # In a pipe (a script, CI) nothing is drawn.
    piped = subprocess.run([sys.executable, "-m", "clippings", "--library", str(library),
                            "check"], capture_output=True, text=True, cwd=REPO)
    assert "checking" not in piped.stderr


def test_a_long_export_shows_its_size_and_time(library, tmp_path):
    library.write_text("".join(f"@misc{{k{i}, title = {{Titel {i}}}, date = {{2020}}}}\n"
                               for i in range(600)), encoding="utf-8")
    out = tmp_path / "refs.bib"
    code, _, drawn = on_terminal("--library", str(library), "export", "--format",
                                 "biblatex", "-o", str(out))
    assert code == 0 and out.read_text(encoding="utf-8").count("@misc") == 600
    assert re.search(r"exporting 600 entries, 0:\d\d", drawn), drawn


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_text():
    assert [elapsed(s) for s in (0, 12, 185, 3723)] == ["0:00", "0:12", "3:05", "1:02:03"]
    p = Progress("checking", noun="links", stream=Terminal())
    p.start(80)
    for _ in range(37):
        p.step()
    assert p.line() == "checking 37/80 links, 0:00"
    assert p.line(note="2 failing") == "checking 37/80 links, 0:00 · 2 failing"
    assert Progress("fetching", noun="entries").line(item="k") == "fetching 0 entries, 0:00: k"


def test_nothing_is_drawn_off_a_terminal_or_below_the_minimum():
    pipe = io.StringIO()
    with Progress("checking", 3, stream=pipe) as p:
        p.step()
    assert pipe.getvalue() == ""
    term = Terminal()
    with Progress("indexing", 10, stream=term, min_total=200) as p:
        p.step()
    assert term.getvalue() == ""
