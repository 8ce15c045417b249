"""Integrity: nothing a user has is lost, nothing shown is silently wrong.

Each test is an attack an adversarial review made on the core (issue 11): unsafe keys
that name folders outside snapshots/, hand edits racing a save, caches keyed by weak
checksums or blind to @string macros, derived stores poisoned by a failed save, and
references between entries broken by import, rename and rm.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from clippings import lint, snapshots
from clippings.errors import UsageError
from clippings.keys import is_valid_key
from clippings.library import Library

from helpers import run
from servers import TestServer, send

PAGES = Path(__file__).parent / "fixtures" / "pages"


def _write(library: Path, text: str) -> None:
    library.write_text(text, encoding="utf-8")


def _snapshot(library: Path, key: str) -> Path:
    folder = snapshots.folder(library.parent, key)
    folder.mkdir(parents=True)
    (folder / "text.txt").write_text("Text", encoding="utf-8")
    return folder


# -- 1. `rm ..` must never delete the library ---------------------------------------

@pytest.mark.parametrize("key", [".", "..", ".git", "../x", "a\\b", "a\x00b", "a b"])
def test_unsafe_keys_are_refused_where_keys_enter(library, key):
    before = library.read_bytes()
    result = run("add", "--no-fetch", "--key", key, "--set", "title=x", library=library)
    assert result.exit_code == 2 and "invalid key" in result.output
    assert library.read_bytes() == before
    _write(library, "@misc{ok, title = {T}, date = {2020}}\n")
    assert run("rename", "ok", key, library=library).exit_code == 2
    assert "ok" in Library.load(library)


@pytest.mark.parametrize("key", [".", ".."])
def test_rm_of_a_hand_written_dot_key_touches_no_folder(library, key):
    folder = library.parent
    (folder / ".git").mkdir()
    _snapshot(library, "other")
    _write(library, f"@misc{{{key}, title = {{T}}, date = {{2020}}}}\n"
                    "@misc{other, title = {O}, date = {2020}}\n")
    findings = run("lint", "--json", library=library)
    assert any(f["key"] == key and "snapshot folder" in f["message"]
               for f in json.loads(findings.output))
    result = run("rm", key, library=library)
    assert result.exit_code == 0, result.output
    assert "no snapshot folder was touched" in result.output
    assert library.is_file() and (folder / ".git").is_dir()
    assert (folder / "snapshots" / "other" / "text.txt").is_file()
    assert Library.load(library).keys() == ["other"]


@pytest.mark.parametrize("key", ["a~b", "Müller2016", "DBLP:journals/corr/Roters16",
                                 ".hidden", "..", "x.y"])
def test_lint_and_add_apply_one_key_rule(library, key):
    """A key lint calls an error is one `add` refuses, and the other way round (keys
    the .bib parser can read at all; `a'b` or `a%b` are syntax errors there)."""
    added = run("add", "--no-fetch", "--key", key, "--set", "title=x", "--set",
                "date=2020", library=library)
    _write(library, f"@misc{{{key}, title = {{T}}, date = {{2020}}}}\n")
    findings = json.loads(run("lint", "--json", library=library).output)
    flagged = any(f["key"] == key and f["severity"] == "error" and "key" in f["message"]
                  for f in findings)
    assert flagged == (added.exit_code == 2), (added.output, findings)
    assert flagged == (not is_valid_key(key))


def test_a_snapshot_folder_that_leads_outside_is_not_followed(library, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine", encoding="utf-8")
    (library.parent / "snapshots" / "a").symlink_to(outside)
    _write(library, "@misc{a, title = {T}, date = {2020}}\n")
    assert run("rm", "a", library=library).exit_code == 0
    assert (outside / "keep.txt").read_text() == "mine"
    with pytest.raises(UsageError):
        snapshots.folder(library.parent, "a")


def test_dblp_and_unicode_keys_get_their_own_snapshot_folder(library):
    folder = snapshots.folder(library.parent, "DBLP:journals/corr/Roters16")
    assert folder.parent == library.parent / "snapshots"
    assert folder.name == "DBLP:journals%2Fcorr%2FRoters16"
    assert snapshots.folder(library.parent, "Müller2016").name == "Müller2016"


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=12))
def test_every_accepted_key_names_exactly_one_folder_inside_snapshots(key):
    root = Path("/lib")
    if not is_valid_key(key):
        with pytest.raises(UsageError):
            snapshots.folder_name(key)
        return
    name = snapshots.folder_name(key)
    assert "/" not in name and "\\" not in name and name not in (".", "..")
    assert not name.startswith(".")
    assert (root / "snapshots" / name).parent == root / "snapshots"
    assert name.replace("%2F", "/").replace("%25", "%") == key


# -- 2. a hand edit saved during our save is never overwritten ----------------------

SET_LOOP = """
import sys
from clippings import bibfile
from clippings.errors import ConflictError
from clippings.library import Library
path, rounds = sys.argv[1], int(sys.argv[2])
done = conflicts = 0
while done < rounds:
    try:
        with Library.update(path) as lib:
            lib.set_fields("a", {"note": bibfile.format_value("n" * (done % 900) + str(done))})
        done += 1
    except ConflictError:
        conflicts += 1
print(conflicts)
"""


def test_lines_appended_by_hand_during_saves_are_never_lost(library):
    _write(library, "@misc{a, title = {A}, date = {2020}}\n")
    proc = subprocess.Popen([sys.executable, "-c", SET_LOOP, str(library), "60"],
                            stdout=subprocess.PIPE, text=True)
    rng, appended = random.Random(11), []
    while proc.poll() is None:
        line = f"% hand edit {len(appended)}"
        with open(library, "a", encoding="utf-8") as handle:   # as an editor appends
            handle.write(line + "\n")
        appended.append(line)
        time.sleep(rng.uniform(0.005, 0.03))
    assert proc.returncode == 0
    kept = library.read_text(encoding="utf-8")
    for rescued in library.parent.glob("library.bib.concurrent-*"):
        kept += rescued.read_text(encoding="utf-8")
    lost = [line for line in appended if line not in kept]
    assert len(appended) > 20 and lost == []
    assert Library.load(library).record("a").fields["note"].endswith("59")


# -- 3. caches keyed by a strong digest, not CRC-32 ---------------------------------

def _entry(i: int) -> str:
    return f"@misc{{k{i},\n  title = {{Bericht {i}}},\n  date = {{2016}},\n}}"


def test_two_entries_with_equal_crc32_are_both_read_edited_and_exported(library):
    a, b = _entry(5299), _entry(35450)          # found by a birthday search
    assert zlib.crc32(a.encode()) == zlib.crc32(b.encode())
    _write(library, a + "\n\n" + b + "\n")
    for _ in range(2):                            # cold, then from the caches
        listed = json.loads(run("list", "--json", library=library).output)
        assert [(e["key"], e["title"]) for e in listed] == \
            [("k5299", "Bericht 5299"), ("k35450", "Bericht 35450")]
    assert run("set", "k35450", "title=Geändert", library=library).exit_code == 0
    listed = json.loads(run("list", "--json", library=library).output)
    assert [e["title"] for e in listed] == ["Bericht 5299", "Geändert"]
    exported = run("export", "--format", "csljson", library=library).output
    assert "Bericht 5299" in exported and "Geändert" in exported
    found = run("search", "Bericht", "--keys", library=library).output.split()
    assert sorted(found) == ["k5299"]
    assert run("search", "Geändert", "--keys", library=library).output.split() == ["k35450"]


def test_an_added_entry_is_not_taken_for_its_crc32_twin(library):
    _write(library, _entry(5299) + "\n")
    run("list", library=library)                 # warm the caches
    result = run("add", "--no-fetch", "--key", "k35450", "--set", "title=Bericht 35450",
                 "--set", "date=2016", library=library)
    assert result.exit_code == 0, result.output
    assert Library.load(library).record("k35450").fields["title"] == "Bericht 35450"



def test_caches_follow_a_change_of_the_encoding_setting(library):
    # UTF-8 read as latin-1 has two characters for each umlaut: the entry positions and
    # lint findings of that reading are wrong for the UTF-8 one, though the bytes are equal.
    _write(library, "@misc{a, title = {Grüße aus Köln}, date = {2020}, month = {März}}\n\n"
                    "@misc{b, title = {Zwei}, date = {2021}}\n")
    setting = library.parent / "clippings.toml"
    setting.write_text('encoding = "latin-1"\n')
    assert run("list", library=library).exit_code == 0          # caches made for latin-1
    assert "'MÃ¤rz'" in run("lint", library=library).output
    setting.unlink()
    listed = json.loads(run("list", "--json", library=library).output)
    assert [e["title"] for e in listed] == ["Grüße aus Köln", "Zwei"]
    assert "'März'" in run("lint", library=library).output
    assert run("set", "b", "note=x", library=library).exit_code == 0
    assert Library.load(library).record("b").fields["note"] == "x"


def test_caches_are_not_read_by_another_version_of_clippings(library, monkeypatch):
    # A parser or decoder fixed in an update must not see positions or records of the old.
    import clippings
    from clippings import bibcache
    _write(library, "@misc{a, title = {A}, date = {2020}}\n")
    lib = Library.load(library)
    list(lib.records())                                         # caches made
    digest, other = lib.entry_digest("a"), lib.parse_entry("@misc{a, title = {B}}")
    assert bibcache.records(library.parent, [digest], lambda i: other)[0].fields["title"] \
        == "A"                                                  # the cache is read
    assert bibcache.load_structure(library.parent, lib.signature) is not None
    monkeypatch.setattr(clippings, "__version__", clippings.__version__ + ".post1")
    assert bibcache.load_structure(library.parent, lib.signature) is None
    assert bibcache.records(library.parent, [digest], lambda i: other)[0].fields["title"] \
        == "B"


# -- 4./5. @string macros: cached decodings follow them, file order counts ----------

def test_a_hand_edited_string_macro_shows_everywhere(library):
    _write(library, '@string{zt = {Alte Zeitung}}\n\n'
                    '@article{a, title = {T}, journaltitle = zt, date = {2020}}\n')
    assert json.loads(run("list", "--json", library=library).output)[0]["journaltitle"] \
        == "Alte Zeitung"
    _write(library, library.read_text().replace("Alte Zeitung", "Neue Zeitung"))
    for args in (["list", "--json"], ["show", "a", "--json"]):
        assert "Neue Zeitung" in run(*args, library=library).output
    assert run("search", "journal:Neue", "--keys", library=library).output.split() == ["a"]


def test_an_edit_that_adds_a_string_macro_is_expanded(library):
    _write(library, "@article{a, title = {T}, journaltitle = {X}, date = {2020}}\n")
    run("list", library=library)
    with Library.update(library) as lib:
        lib.replace_entry("a", "@string{nz = {Neue Zeitung}}\n"
                               "@article{a, title = {T}, journaltitle = nz, date = {2020}}")
    assert Library.load(library).record("a").fields["journaltitle"] == "Neue Zeitung"
    assert "Neue Zeitung" in run("show", "a", "--json", library=library).output


def test_string_macros_apply_in_file_order_as_in_bibtex(library):
    _write(library, '@string{zt = "A"}\n@misc{first, title = zt, date = {2020}}\n'
                    '@string{zt = "B"}\n@misc{second, title = zt, date = {2020}}\n'
                    '@misc{early, title = later, date = {2020}}\n@string{later = "L"}\n')
    lib = Library.load(library)
    assert [lib.record(k).fields["title"] for k in ("first", "second")] == ["A", "B"]
    listed = json.loads(run("list", "--json", library=library).output)
    assert [e["title"] for e in listed] == ["A", "B", "later"]
    # a set on an entry below the redefinition keeps both environments right
    assert run("set", "first", "date=2021", library=library).exit_code == 0
    lib = Library.load(library)
    assert [lib.record(k).fields["title"] for k in ("first", "second")] == ["A", "B"]
    messages = [f.message for f in lint.run(lib)]
    assert any("defined again" in m for m in messages)
    assert any("undefined @string macro 'later'" in m and "defined later" in m
               for m in messages)


_COUNTER = itertools.count()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["A", "B", "Zeitung", "Ä"]), min_size=1, max_size=4),
       st.data())
def test_random_macro_edits_read_like_a_fresh_parse(tmp_path, values, data):
    folder = tmp_path / f"lib{next(_COUNTER)}"
    folder.mkdir()
    bib = folder / "library.bib"
    def text(values):
        return "".join(f'@string{{m = "{value}"}}\n@misc{{e{i}, title = m, date = {{2020}}}}\n'
                       for i, value in enumerate(values))
    _write(bib, text(values))
    json.loads(run("list", "--json", library=bib).output)          # caches warm
    i = data.draw(st.integers(0, len(values) - 1))
    _write(bib, text(values[:i] + ["Neu"] + values[i + 1:]))
    expected = [Library(bib, bib.read_bytes(), Library.load(bib).settings, use_cache=False)
                .record(f"e{j}").fields["title"] for j in range(len(values))]
    assert expected[i] == "Neu"
    assert [e["title"] for e in json.loads(run("list", "--json", library=bib).output)] \
        == expected


# -- 7. a failed save leaves the duplicate index as it was --------------------------

def test_a_failed_import_leaves_no_phantom_duplicates(library, tmp_path):
    library.write_bytes("% -*- coding: latin-1 -*-\n@misc{a, title = {Ähnlich}, "
                        "date = {2020}}\n".encode("latin-1"))
    run("list", library=library)                 # the duplicate index is in step
    incoming = tmp_path / "in.bib"
    incoming.write_text("@misc{ru, title = {Город-побратим}, url = {https://example.org/ru},"
                        " date = {2020}}\n", encoding="utf-8")
    before = library.read_bytes()
    result = run("import", str(incoming), library=library)
    assert result.exit_code == 2 and "encoding" in result.output
    assert library.read_bytes() == before
    result = run("add", "--no-fetch", "--set", "title=Partnerstadt", "--set",
                 "url=https://example.org/ru", "--set", "date=2021", library=library)
    assert result.exit_code == 0, result.output


# -- 8./11. references follow renamed keys; rm and lint guard them ------------------

def test_import_points_children_at_their_renamed_parent(library, tmp_path):
    _write(library, "@book{handbuch, title = {Anderes Buch}, author = {X, Y}, "
                    "date = {1999}, publisher = {P}}\n")
    incoming = tmp_path / "in.bib"
    incoming.write_text("@collection{handbuch, title = {Handbuch Partnerschaft}, "
                        "editor = {Lohse, Peggy}, date = {2016}, publisher = {Forum}}\n"
                        "@incollection{kapitel, title = {Kapitel}, author = {Rutz, A}, "
                        "crossref = {handbuch}, xdata = {handbuch}, pages = {1--9}}\n",
                        encoding="utf-8")
    result = run("import", str(incoming), library=library)
    assert result.exit_code == 0, result.output
    assert "handbuch -> handbucha" in result.output
    lib = Library.load(library)
    assert lib.record("kapitel").fields["booktitle"] == "Handbuch Partnerschaft"
    assert lib.block("kapitel").get("xdata").value == "handbucha"


def test_rename_rewrites_every_reference(library):
    _write(library, "@collection{buch, title = {B}, editor = {E, F}, date = {2016}}\n"
                    "@incollection{k1, title = {K}, author = {A, B}, crossref = {buch}}\n"
                    "@incollection{k2, title = {K2}, author = {A, B}, xdata = {buch, z}}\n"
                    "@set{s, entryset = {k1,buch}}\n"
                    "@misc{z, title = {Z}, date = {2016}, related = {Buch}}\n")
    assert run("rename", "buch", "band", library=library).exit_code == 0
    lib = Library.load(library)
    assert lib.block("k1").get("crossref").value == "band"
    assert lib.block("k2").get("xdata").value == "band, z"
    assert lib.block("s").get("entryset").value == "k1, band"
    assert lib.block("z").get("related").value == "band"
    assert [f for f in lint.run(lib) if "not in the library" in f.message] == []


def test_rm_of_a_parent_refuses_and_lint_reports_dangling_references(library):
    _write(library, "@collection{buch, title = {B}, editor = {E, F}, date = {2016}}\n"
                    "@incollection{k1, title = {K}, author = {A, B}, crossref = {buch}}\n")
    before = library.read_bytes()
    result = run("rm", "buch", library=library)
    assert result.exit_code == 1 and "k1 (crossref)" in result.output
    assert library.read_bytes() == before
    assert run("rm", "buch", "k1", library=library).exit_code == 0   # both: fine
    library.write_bytes(before)
    assert run("rm", "buch", "--force", library=library).exit_code == 0
    findings = json.loads(run("lint", "--json", library=library).output)
    assert {(f["key"], f["field"]) for f in findings} >= {("k1", "crossref"), ("k1", "date")}


# -- 9. --set on name fields means the same with a fetched source ------------------

def test_add_source_with_set_author_parses_names_and_makes_the_key_from_them(library):
    body = (PAGES / "de_news_jsonld.html").read_bytes()
    with TestServer() as server:
        server.route("/artikel", send(200, body))
        result = run("add", server.url("/artikel"), "--json", "--set",
                     "author=Lohse, Peggy and {Deutsch-Russisches Forum e.V.}",
                     library=library)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["key"].startswith("lohse")
    lib = Library.load(library)
    names = lib.record(data["key"]).names["author"]
    assert [n.family for n in names][0] == "Lohse"
    assert names[1].literal and names[1].family == "Deutsch-Russisches Forum e.V."
    assert "\\{" not in lib.entry_text(data["key"])


# -- 12. foreign keys are kept ------------------------------------------------------

def test_import_keeps_valid_foreign_keys_and_names_every_rename(library, tmp_path):
    _write(library, "@misc{taken, title = {Vorhanden}, date = {2001}}\n")
    incoming = tmp_path / "in.bib"
    incoming.write_text("@misc{Müller2016, title = {Eins}, date = {2016}}\n"
                        "@misc{DBLP:journals/corr/Roters16, title = {Zwei}, date = {2016}}\n"
                        "@misc{taken, title = {Drei}, date = {2016}}\n", encoding="utf-8")
    result = run("import", str(incoming), library=library)
    assert result.exit_code == 0, result.output
    assert "taken -> takena" in result.output
    assert set(Library.load(library).keys()) == {
        "taken", "Müller2016", "DBLP:journals/corr/Roters16", "takena"}
    other = tmp_path / "lib2"
    other.mkdir()
    bib = other / "library.bib"
    _write(bib, "")
    result = run("import", str(incoming), "--rekey", library=bib)
    assert "Müller2016 -> " in result.output
    assert "Müller2016" not in Library.load(bib).keys()


# -- lint sees what BibTeX would silently do ----------------------------------------

def test_lint_finds_repeated_fields_stray_fields_and_bad_months(library):
    _write(library, "@misc{a, title = {First}, title = {Second}, date = {2020}}\n"
                    "@misc{b, title = {B}}, date = {2020},\n  note = {lost}}\n"
                    "@misc{c, title = {C}, year = 2020, month = {13}}\n")
    lib = Library.load(library)
    assert lib.record("a").fields["title"] == "First"
    by_key = {}
    for f in lint.run(lib):
        by_key.setdefault(f.key, []).append((f.line, f.message))
    assert any("given twice" in m and line == 1 for line, m in by_key["a"])
    assert any("closing brace" in m and line == 2 for line, m in by_key["b"])
    assert any("invalid month" in m for _, m in by_key["c"])


def test_a_write_to_the_old_file_just_after_the_rename_is_kept_beside_it(library):
    """The README's promise: a program that still writes to the old library.bib in the
    instant of our rename does not lose its text (`library.bib.concurrent-*`)."""
    from clippings.errors import ConflictError
    from clippings.library import _replace_if_unchanged
    old_text = b"@misc{a, title = {A}, date = {2020}}\n"
    library.write_bytes(old_text)
    tmp = library.with_name("new.tmp")
    tmp.write_bytes(old_text + b"@misc{b, title = {B}, date = {2020}}\n")
    editor = open(library, "ab")          # an editor that opened the file before our rename

    def late_write():
        time.sleep(0.005)                  # after the rename, within the 20 ms look
        editor.write(b"% typed by hand\n")
        editor.flush()
    writer = threading.Thread(target=late_write)
    writer.start()
    with pytest.raises(ConflictError, match="concurrent"):
        _replace_if_unchanged(str(tmp), library, old_text)
    writer.join()
    editor.close()
    assert b"@misc{b," in library.read_bytes()            # our save landed
    rescued = list(library.parent.glob("library.bib.concurrent-*"))
    assert len(rescued) == 1 and rescued[0].read_bytes().endswith(b"% typed by hand\n")
