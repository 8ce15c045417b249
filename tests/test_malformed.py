"""Malformed input: exit 2, one line naming file:line:col, nothing written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from helpers import REALBIBS, run

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "malformed").glob("*.bib"))
EXPECTED_LINE = {
    "unbalanced-brace.bib": 2, "missing-comma.bib": 3, "missing-key.bib": 1,
    "unclosed-quote.bib": 2, "repeated-key.bib": 2, "latin1-undeclared.bib": 2,
    "missing-equals.bib": 3, "missing-value.bib": 3, "truncated.bib": 1,
}
REAL_BROKEN = [REALBIBS / n for n in ("biber-examples.bib", "biber-full-bbl.bib")
               if (REALBIBS / n).is_file()]


def _check_refused(source: Path, tmp_path: Path, line: int | None):
    bib = tmp_path / "library.bib"
    shutil.copy(source, bib)
    before = bib.read_bytes()
    for args in (["list"], ["lint"], ["set", "a", "note=x"], ["show", "a"],
                 ["add", "--no-fetch", "--set", "title=Neu", "--set", "date=2020"]):
        result = run(*args, library=bib)
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        m = re.match(r"clippings: error: (.+?):(\d+):(\d+): .+", lines[0])
        assert m, lines[0]
        assert Path(m.group(1)).name == "library.bib"
        if line is not None:
            assert int(m.group(2)) == line, lines[0]
        assert "Traceback" not in result.output
        assert bib.read_bytes() == before


@pytest.mark.parametrize("source", FIXTURES, ids=[p.name for p in FIXTURES])
def test_own_malformed_files(source, tmp_path):
    _check_refused(source, tmp_path, EXPECTED_LINE[source.name])


@pytest.mark.skipif(not REAL_BROKEN, reason="../shared/realbibs not present")
@pytest.mark.parametrize("source", REAL_BROKEN, ids=[p.name for p in REAL_BROKEN])
def test_real_files_with_repeated_keys(source, tmp_path):
    _check_refused(source, tmp_path, None)


def test_error_names_both_places_of_a_repeated_key(tmp_path):
    shutil.copy(FIXTURES[0].parent / "repeated-key.bib", tmp_path / "library.bib")
    result = run("list", library=tmp_path / "library.bib")
    assert "library.bib:2:1: repeated citation key 'a' (first at line 1)" in result.stderr
