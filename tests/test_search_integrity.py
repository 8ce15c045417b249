"""The search index never shows anything wrong (issue 11): its record of library.bib is
one signature of the bytes it indexed, its bookkeeping is keyed by a strong hash, and the
check before every search is cheap but not blind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

from clippings.config import Settings
from clippings.library import Library
from clippings.search import index as search_index
from clippings.search import query as search_query
from helpers import run, run_process
from test_search import make_library

# Two entries whose texts share a CRC-32 (found by a birthday search over the tag).
CRC_TWINS = (
    "@article{crca,\n  title = {Brief aus Wolgograd 7T246ocOMU},\n"
    "  date = {2016-04-29},\n}",
    "@article{crcb,\n  title = {Brief aus Wolgograd 64Zu3ih2A6},\n"
    "  date = {2016-04-29},\n}",
)


def keys(bib: Path, text: str) -> set[str]:
    ix = search_index.open_index(bib.parent)
    return {hit.key for hit in search_query.search(ix, text, bib.parent, None)}


def test_entries_with_the_same_crc32_are_both_indexed_and_found(tmp_path):
    bib = tmp_path / "library.bib"
    bib.write_text("\n\n".join(CRC_TWINS) + "\n", "utf-8")
    for key, word in (("crca", "Blasorchester"), ("crcb", "Jugendchor")):
        (tmp_path / "snapshots" / key).mkdir(parents=True)
        (tmp_path / "snapshots" / key / "text.txt").write_text(
            f"Das {word} spielte in Wolgograd.", "utf-8")
    # Read without the decoded-entry cache: this test is about the search index alone.
    lib = Library(bib, bib.read_bytes(), Settings(), use_cache=False)
    texts = [lib.entry_text(k) for k in ("crca", "crcb")]
    assert zlib.crc32(texts[0].encode()) == zlib.crc32(texts[1].encode())

    report = search_index.update(bib, records=list(lib.records()))
    assert report.total == 2
    entries = search_index.read_entries(tmp_path)
    assert set(entries) == {"crca", "crcb"} and entries["crca"][0] != entries["crcb"][0]
    assert keys(bib, "Wolgograd") == {"crca", "crcb"}
    assert keys(bib, "Blasorchester") == {"crca"}
    assert keys(bib, "Jugendchor") == {"crcb"}

    # A change to one twin re-indexes that twin only.
    lib = Library(bib, bib.read_bytes().replace(b"7T246ocOMU", b"Kaluga7T24"), Settings(),
                  use_cache=False)
    report = search_index.update(bib, records=list(lib.records()))
    assert (report.added, report.updated, report.removed) == ([], ["crca"], [])
    assert keys(bib, "Kaluga7T24") == {"crca"}


def _grow(bib: Path, n: int) -> None:
    """Add `n` entries with snapshots, so that a rebuild takes a while."""
    words = ("Partnerschaft Begegnung Jugendaustausch Konferenz Delegation Festakt "
             "Grußwort Feuerwehr Ausstellung Kulturzentrum").split()
    with bib.open("a", encoding="utf-8") as out:
        for i in range(n):
            out.write(f"\n@article{{grow{i},\n  title = {{Bericht {i}}},\n"
                      f"  date = {{2001-01-01}},\n}}\n")
            folder = bib.parent / "snapshots" / f"grow{i}"
            folder.mkdir()
            text = " ".join(words[(i * 7 + j) % len(words)] + f"{j}" for j in range(400))
            (folder / "text.txt").write_text(text, "utf-8")


def test_a_set_during_a_rebuild_is_never_lost(tmp_path):
    # The index once recorded library.bib's stat from the start of an update and its
    # checksum from the end: a same-size `set` in between stayed unfindable for good.
    bib = make_library(tmp_path)
    _grow(bib, 300)
    env = {k: v for k, v in os.environ.items() if k != "CLIPPINGS_LIBRARY"}
    env["CLIPPINGS_LIBRARY"] = str(bib)
    search_dir = search_index.index_dir(tmp_path)
    rebuild = subprocess.Popen([sys.executable, "-m", "clippings", "index", "--rebuild"],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    # The rebuild has read library.bib once it has made its folder anew: edit it then.
    deadline = time.monotonic() + 120
    while not search_dir.is_dir() and rebuild.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    edited = run_process("set", "spremberg2016schlaegt", "date=2016-04-30", cwd=tmp_path,
                         env={"CLIPPINGS_LIBRARY": str(bib)})
    assert edited.returncode == 0, edited.stderr
    out, err = rebuild.communicate(timeout=300)
    assert rebuild.returncode == 0, err

    found = run_process("search", "date:2016-04-30", "--keys", cwd=tmp_path,
                        env={"CLIPPINGS_LIBRARY": str(bib)})
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ["spremberg2016schlaegt"]
    assert run_process("search", "date:2016-04-29", "--keys", cwd=tmp_path,
                       env={"CLIPPINGS_LIBRARY": str(bib)}).stdout.split() == []


def test_recorded_signature_is_of_the_bytes_indexed(tmp_path):
    bib = make_library(tmp_path)
    search_index.update(bib)
    manifest = search_index.read_manifest(tmp_path)
    st = os.stat(bib)
    assert manifest["bib"]["stat"] == [st.st_size, st.st_mtime_ns, st.st_ino]
    assert manifest["bib"]["digest"] == search_index.strong_hash(bib.read_bytes())


def test_an_in_place_edit_of_the_same_size_is_seen(tmp_path):
    bib = make_library(tmp_path)
    search_index.update(bib)
    raw = bib.read_bytes()
    assert b"date         = {2016-04-29}" in raw or b"2016-04-29" in raw
    with open(bib, "r+b") as handle:   # same inode, same size: only mtime and bytes differ
        handle.write(raw.replace(b"2016-04-29", b"2016-04-30", 1))
    assert not search_index.is_current(bib)
    assert run("search", "date:2016-04-30", "--keys", library=bib).output.split() != []


def test_a_new_snapshot_folder_is_seen_before_a_search(tmp_path):
    bib = make_library(tmp_path)
    search_index.update(bib)
    assert search_index.is_current(bib)
    folder = tmp_path / "snapshots" / "rutz2011geschenk"
    folder.mkdir()
    (folder / "text.txt").write_text("Ein Chor aus Nischni Nowgorod sang im Dom.", "utf-8")
    assert not search_index.is_current(bib)


def test_index_picks_up_a_snapshot_text_edited_in_place(tmp_path):
    # A search checks snapshots/ itself (cheap); `clippings index` checks every text.
    bib = make_library(tmp_path)
    search_index.update(bib)
    text = tmp_path / "snapshots" / "spremberg2016schlaegt" / "text.txt"
    text.write_text(text.read_text("utf-8") + "\nDer Posaunenchor spielte.", "utf-8")
    assert run("index", library=bib).output.startswith("updated the index: 0 added, 1 "
                                                        "changed")
    assert keys(bib, "Posaunenchor") == {"spremberg2016schlaegt"}


def test_an_unchanged_library_is_current_without_reading_the_entry_list(tmp_path):
    bib = make_library(tmp_path)
    search_index.update(bib)
    # With the cheap signatures unchanged, the per-entry list is not needed at all.
    (search_index.index_dir(tmp_path) / search_index.ENTRIES).unlink()
    assert search_index.is_current(bib)
    os.utime(tmp_path / "snapshots")   # snapshots/ touched: now the list is needed
    assert not search_index.is_current(bib)
    assert search_index.update(bib).rebuilt == "its list of entries is missing"
