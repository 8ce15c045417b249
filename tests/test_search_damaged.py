"""A damaged search index (a file overwritten, cut short or deleted) is rebuilt by the
search that meets it, once, and says so; the cheap check before a search reads no index
file, so the damage shows only where a file is read (index.searched)."""

from __future__ import annotations

import errno
import shutil
import threading

import pytest
from filelock import FileLock

from clippings.cli import main
from clippings.cli.export import export as export_command
from clippings.cli.search import index as index_command
from clippings.cli.search import search as search_command
from clippings.library import Library
from clippings.search import index, page, postings, results_page, similar
from helpers import run
from test_search import make_library

main.add_command(index_command)
main.add_command(search_command)
main.add_command(export_command)

REBUILT = "rebuilt the search index: 17 entries (unreadable (corrupt))\n"


def one(folder, pattern: str):
    found = sorted(index.index_dir(folder).glob(pattern))
    assert found, pattern
    return found[0]


def overwrite(pattern: str):
    return lambda folder: one(folder, pattern).write_bytes(b"garbage")


def cut_short(pattern: str):
    def damage(folder):   # as by a full disk
        path = one(folder, pattern)
        path.write_bytes(path.read_bytes()[:1000])
    return damage


def delete(pattern: str):
    return lambda folder: one(folder, pattern).unlink()


DAMAGES = {
    "terms overwritten": overwrite("*.trm"),
    "postings overwritten": overwrite("*.pst"),
    "postings cut short": cut_short("*.pst"),
    "terms deleted": delete("*.trm"),
    "stored fields deleted": delete("*._stored.col"),
    "table of contents overwritten": overwrite("_MAIN_*.toc"),
    "table of contents deleted": delete("_MAIN_*.toc"),
}


@pytest.fixture
def indexed(tmp_path):
    bib = make_library(tmp_path)
    assert index.update(bib).rebuilt
    return bib


def fresh_reads():
    postings.forget_decoded()
    postings.forget_compact_files()


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_search_rebuilds_a_damaged_index_once(indexed, damage):
    damage(indexed.parent)
    fresh_reads()
    assert index.is_current(indexed)   # the check before a search cannot tell
    first = run("search", "Blasorchester", "--keys", library=indexed)
    assert first.exit_code == 0, first.output
    assert first.stdout.split() == ["spremberg2016schlaegt"]
    assert first.stderr == REBUILT
    toc = one(indexed.parent, "_MAIN_*.toc").stat()
    again = run("search", "Blasorchester", "--keys", library=indexed)
    assert (again.exit_code, again.stdout.split(), again.stderr) == \
        (0, ["spremberg2016schlaegt"], "")
    assert one(indexed.parent, "_MAIN_*.toc").stat().st_ino == toc.st_ino   # no rebuild


def test_export_query_meets_a_damaged_index(indexed):
    overwrite("*.pst")(indexed.parent)
    result = run("export", "--query", "Blasorchester", "--format", "bibtex",
                 library=indexed)
    assert result.exit_code == 0, result.output
    assert "@article{spremberg2016schlaegt," in result.stdout
    assert result.stderr == REBUILT          # said, and kept out of the references


def test_a_stale_and_damaged_index_is_rebuilt_by_the_update_before_a_search(indexed):
    # Replacing an entry in the index reads its key's postings: the damage shows there.
    overwrite("*.pst")(indexed.parent)
    assert run("set", "gorzka2018annaeherung", "note=Mit einem Kapitel über Jaroslawl",
               library=indexed).exit_code == 0
    result = run("search", "Jaroslawl", "--keys", library=indexed)
    assert (result.exit_code, result.stdout.split(), result.stderr) == \
        (0, ["gorzka2018annaeherung"], REBUILT)
    assert index.read_manifest(indexed.parent)["complete"]


def test_the_web_pages_search_a_damaged_index(indexed):
    records = {rec.key: rec for rec in Library.load(indexed).records()}
    expected = [hit.key for hit in similar(indexed, records["lohse2017dossier"])]
    assert expected
    index.update(indexed, rebuild=True)   # nothing of it read yet
    overwrite("*.pst")(indexed.parent)
    assert [hit.key for hit in similar(indexed, records["lohse2017dossier"])] == expected
    overwrite("*.pst")(indexed.parent)
    found = results_page(indexed, "Blasorchester", records=records)
    assert [hit.key for hit in found.hits] == ["spremberg2016schlaegt"]


def test_a_failed_rebuild_is_one_line(indexed, monkeypatch):
    overwrite("*.trm")(indexed.parent)

    def disk_full(folder, *args):
        raise OSError(errno.ENOSPC, "No space left on device", str(index.index_dir(folder)))
    monkeypatch.setattr(index, "_rebuild", disk_full)
    result = run("search", "Blasorchester", "--keys", library=indexed)
    assert result.exit_code == 1
    assert result.stderr == "clippings: error: No space left on device: " \
        f"{index.index_dir(indexed.parent)}\n"


def test_an_index_unreadable_even_after_its_rebuild_is_not_rebuilt_on_every_search(
        indexed, monkeypatch):
    rebuilds = []
    real_rebuild = index._rebuild

    def rebuild_on_a_failing_disk(folder, *args):
        rebuilds.append(folder)
        real_rebuild(folder, *args)
        one(folder, "*.pst").write_bytes(b"garbage")
    monkeypatch.setattr(index, "_rebuild", rebuild_on_a_failing_disk)
    overwrite("*.pst")(indexed.parent)
    for _ in range(2):
        result = run("search", "Blasorchester", "--keys", library=indexed)
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr.startswith("clippings: error: the search index in ")
        assert "cannot be read even after a rebuild (CorruptIndexError: Bad postings " \
            "block tag" in result.stderr and len(result.stderr.splitlines()) == 1
        assert len(rebuilds) == 1
    monkeypatch.undo()
    assert run("index", "--rebuild", library=indexed).exit_code == 0
    assert run("search", "Blasorchester", "--keys", library=indexed).stdout.split() == \
        ["spremberg2016schlaegt"]


def test_a_writer_holding_the_lock_is_waited_for_not_rebuilt_after(indexed, monkeypatch):
    """A search that meets a damaged index waits for the lock; when the writer that held
    it has left a readable index, the search reads that one instead of rebuilding."""
    folder = index.index_dir(indexed.parent)
    intact = indexed.parent / "intact"
    shutil.copytree(folder, intact)
    overwrite("*.pst")(indexed.parent)
    waiting = threading.Event()
    real_locked = index._locked

    def locked(library_folder):
        waiting.set()
        return real_locked(library_folder)
    monkeypatch.setattr(index, "_locked", locked)
    found = []
    with FileLock(str(indexed.parent / "index" / "search.lock")):
        searcher = threading.Thread(target=lambda: found.append(page(indexed,
                                                                     "Blasorchester")))
        searcher.start()
        assert waiting.wait(60)
        searcher.join(0.5)
        assert searcher.is_alive()   # waits for the writer
        shutil.rmtree(folder)   # the writer's work: an index that reads
        shutil.copytree(intact, folder)
    searcher.join(60)
    (answer,) = found
    assert [hit.key for hit in answer.hits] == ["spremberg2016schlaegt"]
    assert answer.rebuilt is None
