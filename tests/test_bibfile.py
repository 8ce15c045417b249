"""Loading real .bib files and editing them byte by byte."""

from __future__ import annotations

import pytest

from clippings import bibfile
from clippings.errors import BibSyntaxError
from clippings.library import Library, decode_bib

from helpers import REALBIBS

REAL = sorted(REALBIBS.glob("*.bib")) if REALBIBS.is_dir() else []
needs_realbibs = pytest.mark.skipif(not REAL, reason="../shared/realbibs not present")


def _loadable(path):
    try:
        return Library.load(path)
    except BibSyntaxError:
        return None


@needs_realbibs
def test_most_real_files_load_and_broken_ones_name_a_line():
    loaded = [p.name for p in REAL if _loadable(p) is not None]
    broken = sorted(set(p.name for p in REAL) - set(loaded))
    # Only the two files with a repeated key are refused; latin-1/latin-2/latin-9 files
    # load through their coding line, biblatex extended names and %-comments are understood.
    assert broken == ["biber-examples.bib", "biber-full-bbl.bib"]
    with pytest.raises(BibSyntaxError) as err:
        Library.load(REALBIBS / "biber-full-bbl.bib")
    assert "repeated citation key 'F1'" in str(err.value)
    assert "line 1" in str(err.value) and ":11:" in str(err.value)


@needs_realbibs
def test_parser_agrees_with_pybtex_where_pybtex_can_read():
    from pybtex.database import parse_string
    compared = 0
    for path in REAL:
        text = path.read_bytes().decode("utf-8", errors="strict") \
            if b"coding:" not in path.read_bytes()[:200] else None
        if text is None:
            continue
        try:
            reference = parse_string(text, "bibtex")
        except Exception:
            continue
        blocks, _ = bibfile.parse(text)
        ours = {b.key: b for b in blocks if b.kind == "entry"}
        assert set(ours) == set(reference.entries), path.name
        for key, entry in reference.entries.items():
            for name, value in entry.fields.items():
                mine = ours[key].get(name)
                assert mine is not None, (path.name, key, name)
                assert " ".join(mine.value.split()) == " ".join(value.split()), \
                    (path.name, key, name)
                compared += 1
    assert compared > 1000


LOADABLE = [p for p in REAL if _loadable(p) is not None]


@needs_realbibs
@pytest.mark.parametrize("path", LOADABLE, ids=[p.name for p in LOADABLE])
def test_set_and_unset_touch_only_one_entry(path, tmp_path):
    original_lib = _loadable(path)
    raw = path.read_bytes()
    for key in original_lib.keys():
        for action in ("set-new", "set-existing", "unset"):
            work = tmp_path / "library.bib"
            work.write_bytes(raw)
            lib = Library.load(work)
            block = lib.block(key)
            existing = block.fields[0].name if block.fields else None
            if action == "set-new":
                lib.set_fields(key, {"clippingsnote": bibfile.format_value("Neu: {ü} 50%")})
            elif action == "set-existing":
                if existing is None:
                    continue
                lib.set_fields(key, {existing: bibfile.format_value("ersetzt")})
            else:
                if existing is None:
                    continue
                lib.set_fields(key, {existing: None})
            lib.save()
            after = work.read_bytes()
            start, end = _span(raw, original_lib, key)
            new_lib = Library.load(work)
            new_start, new_end = _span(after, new_lib, key)
            assert after[:start] == raw[:start], (key, action)
            assert after[new_end:] == raw[end:], (key, action)
            new_block = new_lib.block(key)
            old_fields = {f.key: f.value for f in block.fields}
            new_fields = {f.key: f.value for f in new_block.fields}
            if action == "set-new":
                assert new_lib.record(key, resolve=False).fields["clippingsnote"] == \
                    "Neu: {ü} 50%"
                assert {k: v for k, v in new_fields.items() if k != "clippingsnote"} == \
                    old_fields
            elif action == "set-existing":
                assert new_fields[existing.lower()] == "ersetzt"
                assert {k: v for k, v in new_fields.items() if k != existing.lower()} == \
                    {k: v for k, v in old_fields.items() if k != existing.lower()}
            else:
                assert existing.lower() not in new_fields
                assert new_fields == {k: v for k, v in old_fields.items()
                                      if k != existing.lower()}


def _span(raw: bytes, lib: Library, key: str) -> tuple[int, int]:
    """Byte offsets of an entry (the library works in characters)."""
    b_start, b_end = lib.entry_span(key)
    text = lib.text
    enc = lib.encoding
    start = len(text[:b_start].encode(enc))
    end = start + len(text[b_start:b_end].encode(enc))
    if raw.startswith(b"\xef\xbb\xbf"):
        start, end = start + 3, end + 3
    return start, end


def test_edits_keep_layout_of_hand_written_entries(tmp_path):
    text = ("@string{mdz = \"Moskauer Deutsche Zeitung\"}\n"
            "% a comment the user wrote\n"
            "@Article{a,\n"
            "    Author    = \"Lohse, Peggy\",\n"
            "    Journal   = mdz # { (Beilage)},\n"
            "    Year      = 2017   % the year\n"
            "}\n"
            "@misc{b, title={One line}}\n")
    path = tmp_path / "library.bib"
    path.write_text(text, encoding="utf-8")
    lib = Library.load(path)
    assert lib.record("a").fields["journal"] == "Moskauer Deutsche Zeitung (Beilage)"
    lib.set_fields("a", {"title": "{Neu}"})
    lib.set_fields("b", {"date": "{2016}"})
    lib.save()
    out = path.read_text(encoding="utf-8")
    assert "    Year      = 2017,   % the year\n    title     = {Neu}\n}" in out or \
        "    Year      = 2017   % the year" in out
    assert "@misc{b, title={One line}, date = {2016}}" in out
    assert out.startswith("@string{mdz = \"Moskauer Deutsche Zeitung\"}\n% a comment")
    lib = Library.load(path)
    assert lib.record("a").fields["title"] == "Neu"
    assert lib.record("a").fields["year"] == "2017"


def _set_new_fields(tmp_path, text: str, key: str, values: dict[str, str]) -> str:
    path = tmp_path / "library.bib"
    path.write_text(text, encoding="utf-8")
    lib = Library.load(path)
    lib.set_fields(key, {name: bibfile.format_value(v) for name, v in values.items()})
    lib.save()
    return path.read_text(encoding="utf-8")


def test_new_field_lines_up_after_a_name_of_the_column_width(tmp_path):
    # The last field's name fills the column: its single space is the alignment, not a style.
    text = "@online{k,\n  title        = {T},\n  journaltitle = {J},\n}\n"
    out = _set_new_fields(tmp_path, text, "k", {"date": "2020", "urldate": "2024-05-01"})
    assert out == ("@online{k,\n  title        = {T},\n  journaltitle = {J},\n"
                   "  date         = {2020},\n  urldate      = {2024-05-01},\n}\n")


@pytest.mark.parametrize("entry, new_line", [
    # not aligned: one space, however the last field happens to be padded
    ("@book{k,\n  author = {A},\n  title = {T},\n  pages   = {3},\n}\n",
     "  date = {2020},\n"),
    # "=" without spaces
    ("@book{k,\nauthor={A},\ntitle={T},\n}\n", "date={2020},\n"),
    # tab-indented, "=" lined up with tabs
    ("@book{k,\n\tAUTHOR\t\t= {A},\n\tTITLE\t\t= {T},\n\tJOURNALTITLE\t= {J}\n}\n",
     "\tdate\t\t= {2020}\n"),
    # lined up, a name too long for the column written last
    ("@book{k,\n  title        = {T},\n  indexsorttitle= {T},\n}\n",
     "  date         = {2020},\n"),
])
def test_new_field_keeps_the_entry_style(tmp_path, entry, new_line):
    out = _set_new_fields(tmp_path, entry, "k", {"date": "2020"})
    assert new_line in out
    assert out.replace(new_line, "").replace(",\n}", "\n}") == entry.replace(",\n}", "\n}")


def _eq_columns(text: str, block) -> list[tuple[int, int]] | None:
    """(column where the name ends, column of "=") of each field, if each has its own line."""
    columns = []
    for f in block.fields:
        line = text[text.rfind("\n", 0, f.start) + 1:f.start]
        eq = text.find("=", f.start + len(f.name))
        if line.strip() or "\n" in text[f.start:eq]:
            return None
        columns.append((len((line + f.name).expandtabs()),
                        len((line + text[f.start:eq]).expandtabs())))
    return columns


@needs_realbibs
def test_new_field_lines_up_in_real_files(tmp_path):
    """Every real entry whose names of different lengths all put "=" in one column gets
    its new field in that column too."""
    checked = 0
    for path in LOADABLE:
        lib = _loadable(path)
        for key in lib.keys():
            block = lib.block(key)
            text = lib.entry_text(key)
            columns = _eq_columns(text, block)
            if not columns or len({eq for _, eq in columns}) > 1 \
                    or len({end for end, _ in columns}) < 2:
                continue
            entry = bibfile.set_field(text, block, "zz", "{new}")
            new_line = next((line for line in entry.splitlines()
                             if line.lstrip().startswith("zz")), None)
            if new_line is None:
                continue    # the closing brace on the last field's line: added inline
            assert len(new_line[:new_line.index("=")].expandtabs()) == columns[0][1], \
                (path.name, key)
            checked += 1
    assert checked > 200


def test_latin1_file_with_coding_line_round_trips(tmp_path):
    raw = "% -*- coding: latin-1 -*-\n@book{k, title = {Gr\u00fc\u00dfe}, year = 1999}\n"
    path = tmp_path / "library.bib"
    path.write_bytes(raw.encode("latin-1"))
    lib = Library.load(path)
    assert lib.record("k").fields["title"] == "Grüße"
    lib.set_fields("k", {"note": bibfile.format_value("schön")})
    lib.save()
    assert "schön".encode("latin-1") in path.read_bytes()


def test_undeclared_latin1_is_refused_with_position():
    with pytest.raises(BibSyntaxError) as err:
        decode_bib(b"@book{k,\n  title = {Gr\xfc\xdfe}}\n", "x.bib")
    assert str(err.value).startswith("x.bib:2:")
    assert "0xfc" in str(err.value)


def test_crossref_children_inherit():
    text = ("@inbook{child, author = {A, B}, title = {Kapitel}, crossref = {parent}}\n"
            "@book{parent, author = {C, D}, title = {Das Buch}, date = {2011}, "
            "publisher = {Verlag}}\n")
    blocks, _ = bibfile.parse(text)
    import tempfile, pathlib
    with tempfile.TemporaryDirectory() as d:
        p = pathlib.Path(d) / "library.bib"
        p.write_text(text, encoding="utf-8")
        rec = Library.load(p).record("child")
    assert rec.fields["booktitle"] == "Das Buch"
    assert rec.fields["publisher"] == "Verlag"
    assert rec.fields["title"] == "Kapitel"
    assert rec.names["bookauthor"][0].family == "C"
