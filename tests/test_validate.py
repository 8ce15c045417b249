"""The same rules wherever a value enters: add, set, edit, import (clippings/validate.py)."""

from __future__ import annotations

import json

import pytest

from clippings import validate
from clippings.library import Library
from helpers import run


# --------------------------------------------------------------------------- the rules

@pytest.mark.parametrize("value,expected", [
    ("www.example.de/artikel", "https://www.example.de/artikel"),
    ("www.example.de", "https://www.example.de"),
    ("zeit.de/politik/artikel.html", "https://zeit.de/politik/artikel.html"),
    ("http://example.de/x", "http://example.de/x"),
    ("handreichung.pdf", "handreichung.pdf"),      # a file name, not a host
    ("10.1234/abcd", "10.1234/abcd"),
])
def test_a_url_without_scheme_is_taken_as_https(value, expected):
    assert validate.normalize_url(value) == expected


@pytest.mark.parametrize("isbn,problem", [
    ("978-3-16-148410-0", None),
    ("3-16-148410-X", None),
    ("978-3-16-148410-1", "wrong check digit: 1, expected 0"),
    ("3-16-148410-0", "wrong check digit: 0, expected X"),
    ("978-3-16-14841", "does not have 10 or 13 digits"),
    ("978-3-16-148410-0, 3-16-148410-0", "wrong check digit"),
])
def test_isbn_rules(isbn, problem):
    found = validate.isbn_problem(isbn)
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize("names,ok", [
    ("Lohse, Peggy and {Deutsch-Russisches Forum e.V.}", True),
    ("Peggy Lohse and Jens Steglich", True),
    ("von Goethe, Jr., Johann Wolfgang", True),
    ("family=Rabble, given=Richard, prefix=von", True),
    ("Lohse, Peggy, Steglich, Jens", False),      # a comma list instead of "and"
    ("Lohse, Peggy; Steglich, Jens", False),
    ("Lohse, Peggy and and Steglich, Jens", False),
    ("Lohse, Peggy and", False),
    ("{Deutsch-Russisches Forum", False),
])
def test_name_list_rules(names, ok):
    assert (validate.names_problem(names) is None) is ok


def test_entry_types_are_biblatex_types_with_a_suggestion():
    assert validate.type_problem("Article") is None
    assert "did you mean 'article'" in validate.type_problem("artcle")
    assert "unknown entry type 'zeitung'" in validate.type_problem("zeitung")


# --------------------------------------------------------------------------- add

def test_add_refuses_an_unknown_type_unless_forced(library):
    before = library.read_bytes()
    result = run("add", "--no-fetch", "--type", "zeitung", "--set", "title=Artikel",
                 library=library)
    assert result.exit_code == 2
    assert result.stderr == ("clippings: error: unknown entry type 'zeitung' (e.g. article, "
                             "online, report, book, incollection, misc); use --force to "
                             "keep it anyway\n")
    assert library.read_bytes() == before
    forced = run("add", "--no-fetch", "--type", "zeitung", "--set", "title=Artikel",
                 "--force", library=library)
    assert forced.exit_code == 0 and Library.load(library).record(
        forced.stdout.strip()).type == "zeitung"


def test_add_takes_a_url_without_scheme_as_https(library):
    result = run("add", "--no-fetch", "www.example.de/artikel", "--set", "title=Artikel",
                 "--json", library=library)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["entry"]["url"] == "https://www.example.de/artikel"
    assert run("set", json.loads(result.stdout)["key"], "url=www.example.de/neu",
               library=library).exit_code == 0
    assert "url          = {https://www.example.de/neu}" in library.read_text("utf-8")


def test_add_says_when_an_isbn_has_a_wrong_check_digit(library):
    for args in (("978-3-16-148410-1",), ("--no-fetch", "978-3-16-148410-1")):
        result = run("add", *args, library=library)
        assert result.exit_code == 2
        assert "wrong check digit: 1, expected 0" in result.stderr
        assert result.stderr.count("\n") == 1


def test_add_checks_names_given_with_set(library):
    result = run("add", "--no-fetch", "--set", "title=Artikel",
                 "--set", "author=Lohse, Peggy, Steglich, Jens", library=library)
    assert result.exit_code == 2 and "separate names with ' and '" in result.stderr


# --------------------------------------------------------------------------- set

def test_set_refuses_what_edit_and_add_refuse_and_force_keeps_it(shipped):
    before = shipped.read_bytes()
    for assignment in ("date=02.08.2018", "isbn=978-3-16-148410-1", "url=not a url",
                       "author=Lohse, Peggy and"):
        result = run("set", "lohse2017dossier", assignment, library=shipped)
        assert result.exit_code == 2, assignment
        assert result.stderr.startswith("clippings: error: ") and \
            result.stderr.count("\n") == 1
    assert shipped.read_bytes() == before
    forced = run("set", "lohse2017dossier", "date=02.08.2018", "--force", library=shipped)
    assert forced.exit_code == 0
    assert Library.load(shipped).record("lohse2017dossier").fields["date"] == "02.08.2018"


# --------------------------------------------------------------------------- import

def test_import_skips_entries_that_break_the_rules_and_names_them(library, tmp_path):
    other = tmp_path / "other.bib"
    other.write_text("@article{good, title = {Gut}, journaltitle = {Z}, date = {2018-08-02}}\n"
                     "@article{bad, title = {Schlecht}, journaltitle = {Z}, "
                     "date = {02.08.2018}}\n"
                     "@zeitung{odd, title = {Typ}, date = {2018}}\n", encoding="utf-8")
    result = run("import", str(other), library=library)
    assert result.exit_code == 1
    assert "added good" in result.stdout
    assert "skipped bad: invalid date '02.08.2018'" in result.stderr
    assert "skipped odd: unknown entry type 'zeitung'" in result.stderr
    assert Library.load(library).keys() == ["good"]
    forced = run("import", str(other), "--force", library=library)
    assert "bad" in Library.load(library) and "odd" in Library.load(library)
    assert forced.exit_code == 0
