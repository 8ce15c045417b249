"""What a one-shot `clippings search` loads: only the command it runs, and not Whoosh's
English word-variation rules (which still work when asked for)."""

from __future__ import annotations

import os
import subprocess
import sys

from clippings.search import index
from test_search import make_library


def test_a_search_of_a_current_index_loads_only_what_it_needs(tmp_path):
    bib = make_library(tmp_path)
    index.update(bib)   # current: the search only checks it
    probe = ("import sys, atexit\n"
             "atexit.register(lambda: print('LOADED', ' '.join(sorted(sys.modules)),"
             " file=sys.stderr))\n"
             "from clippings.cli import main\n"
             "sys.argv = ['clippings', 'search', 'Städtepartnerschaft']\n"
             "main()\n")
    env = {**os.environ, "CLIPPINGS_LIBRARY": str(bib)}
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stderr.split("LOADED", 1)[1].split())
    assert "clippings.cli.search" in loaded
    assert not loaded & {"clippings.cli.adding", "clippings.cli.entries",
                         "clippings.cli.export", "clippings.cli.web", "clippings.library"}
    assert "whoosh.query" in loaded
    probe_rules = ("import sys\nfrom clippings.search import query\n"
                   "print(getattr(sys.modules['whoosh.lang.morph_en'], '__file__', None))\n")
    out = subprocess.run([sys.executable, "-c", probe_rules], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "None"   # the stand-in, not the real module


def test_word_variations_still_work_when_asked_for():
    from clippings import search  # noqa: F401  (installs the stand-in)
    from whoosh import query as wq
    from whoosh.lang.morph_en import variations
    assert "rendered" in variations("render")
    assert wq.Variations("text", "render").text == "render"
