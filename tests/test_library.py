"""Saving: round-trips of any value, atomic writes, locking, refusing stale writes."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from clippings import bibfile
from clippings.errors import ConflictError
from clippings.library import Library
from clippings.model import Name, Record

from helpers import run

HOSTILE = st.sampled_from(["{", "}", "}{", "\\input{x}", "%", "#", "@comment{", "\\",
                           "\"", "$", "~", "\\end{document}", ")", "@book{x,"])
VALUES = st.one_of(st.text(), st.lists(st.one_of(st.text(max_size=5), HOSTILE),
                                       max_size=6).map("".join))


@given(title=VALUES, note=VALUES, family=VALUES)
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_value_comes_back_identical(tmp_path, title, note, family):
    path = tmp_path / "library.bib"
    path.write_text("% lib\n@misc{old, title = {Alt}, date = {2000}}\n", encoding="utf-8")
    lib = Library.load(path)
    rec = Record("misc", {"title": title, "note": note, "date": "2020"},
                 {"author": [Name(family=family.strip() or "X", literal=True)]})
    lib.add(rec, "new")
    lib.set_fields("old", {"note": bibfile.format_value(note),
                           "title": bibfile.format_value(title)})
    lib.save()
    again = Library.load(path)
    assert again.keys() == ["old", "new"]
    new = again.record("new")
    old = again.record("old")
    # A new entry leaves out empty fields; an edited one keeps them as {}.
    assert new.get("title") == title and new.get("note") == note
    assert old.fields["title"] == title and old.fields["note"] == note
    assert new.names["author"][0].family == (family.strip() or "X")


def test_refuses_to_overwrite_a_file_changed_on_disk(library):
    lib = Library.load(library)
    lib.add(Record("misc", {"title": "A", "date": "2020"}), "a")
    library.write_text(library.read_text() + "% edited meanwhile\n", encoding="utf-8")
    with pytest.raises(ConflictError, match="changed on disk"):
        lib.save()
    assert library.read_text().endswith("% edited meanwhile\n")


def test_an_edit_keeps_the_line_breaks_of_its_entry_in_a_mixed_file(library):
    lf = "@article{a,\n  author = {A, B},\n  title = {T},\n  date = {2017},\n}\n"
    crlf = "@article{b,\r\n  author = {C, D},\r\n  title = {U},\r\n  date = {2018}\r\n}\r\n"
    library.write_bytes(f"{lf}\n{crlf}".encode())
    assert run("set", "a", "note=x", library=library).exit_code == 0
    assert run("set", "b", "note=y", library=library).exit_code == 0
    assert library.read_bytes().decode() == (
        lf.replace("}\n", "  note = {x},\n}\n", 1) + "\n" +
        crlf.replace("{2018}\r\n", "{2018},\r\n  note = {y}\r\n"))
    assert run("unset", "b", "note", library=library).exit_code == 0
    assert run("set", "b", "date=2019", library=library).exit_code == 0
    assert library.read_bytes().decode() == (
        lf.replace("}\n", "  note = {x},\n}\n", 1) + "\n" + crlf.replace("2018", "2019"))


@pytest.mark.parametrize("first, rest, appended", [("\r\n", "\n", "\n"),
                                                   ("\n", "\r\n", "\r\n")])
def test_a_new_entry_takes_the_line_breaks_most_of_the_file_has(library, first, rest,
                                                                 appended):
    entry = "@misc{{{0},{1}  title = {{T}},{1}  date = {{2020}},{1}}}{1}"
    library.write_bytes((entry.format("a", first) + rest +
                         rest.join(entry.format(k, rest) for k in "bc")).encode())
    assert run("add", "--no-fetch", "--key", "new", "--set", "title=Neu", "--set",
               "date=2021", library=library).exit_code == 0
    text = library.read_bytes().decode()
    added = text[text.index("@misc{new"):]
    assert added == added.replace("\r\n", "\n").replace("\n", appended)
    assert text.endswith(f"}}{rest}{rest}" + added)


def test_entries_added_together_are_separated_by_a_blank_line(library, tmp_path):
    source = tmp_path / "in.bib"
    source.write_text("@misc{i1, title={Eins}, date={2020}}\n"
                      "@misc{i2, title={Zwei}, date={2021}}\n", encoding="utf-8")
    assert run("import", str(source), library=library).exit_code == 0
    text = library.read_text(encoding="utf-8")
    assert "  date         = {2020},\n}\n\n@misc{i2,\n" in text and text.endswith("}\n")
    cached, fresh = Library.load(library), Library(library, library.read_bytes(),
                                                   Library.load(library).settings,
                                                   use_cache=False)
    assert list(cached._spans) == list(fresh._spans)            # positions after the save
    assert cached.entry_text("i2") == fresh.entry_text("i2")



def test_twenty_concurrent_adds_all_land(library):
    procs = [subprocess.Popen(
        [sys.executable, "-m", "clippings", "--library", str(library), "add", "--no-fetch",
         "--set", f"title=Artikel Nummer {i} über Städtepartnerschaften",
         "--set", f"date={2000 + i}", "--set", f"url=https://example.org/{i}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(20)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    lib = Library.load(library)
    assert len(lib) == 20
    assert {lib.record(k).fields["url"] for k in lib.keys()} == \
        {f"https://example.org/{i}" for i in range(20)}


SAVE_LOOP = r"""
import sys
from clippings import bibfile
from clippings.library import Library
path = sys.argv[1]
i = 0
while True:
    i += 1
    with Library.update(path) as lib:
        lib.set_fields("a", {"note": bibfile.format_value("x" * (i % 5000) + str(i))})
        lib.add(bibfile_record := __import__("clippings.model", fromlist=["Record"]).Record(
            "misc", {"title": f"T {i}", "date": "2020"}), f"k{i}")
"""


def test_sigkill_during_saves_never_leaves_a_broken_file(library):
    library.write_text("@misc{a, title = {A}, date = {2020}}\n", encoding="utf-8")
    rng = random.Random(7)
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", SAVE_LOOP, str(library)],
                                stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.3, 0.9))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        lib = Library.load(library)          # parses: never truncated or half-written
        assert "a" in lib
        keys = lib.keys()
        assert len(keys) == len(set(keys))
    leftovers = [p for p in library.parent.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 12  # a kill between write and rename may leave a temp file
