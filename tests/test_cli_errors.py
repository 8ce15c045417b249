"""Every error is one `clippings: error: ...` line with the right exit code; the global
options work after the command's name too; `list` keeps one line per entry."""

from __future__ import annotations

import pytest

from clippings.cli.base import hoist_global_options
from helpers import REPO, run, run_process


@pytest.mark.parametrize("args,code,says", [
    (["list", "--bogus"], 2, "no such option '--bogus' (see 'clippings list --help')"),
    (["nosuchcommand"], 2, "no such command 'nosuchcommand'"),
    (["--bogus"], 2, "no such option '--bogus'"),
    (["show"], 2, "missing argument 'KEY'"),
    (["list", "--year"], 2, "option '--year' requires an argument"),
    (["check", "--concurrency", "0"], 2, "invalid value for '--concurrency'"),
    (["show", "nosuchkey"], 2, "unknown key 'nosuchkey'"),
])
def test_usage_errors_are_one_line(shipped, args, code, says):
    proc = run_process("--library", str(shipped), *args)
    assert proc.returncode == code
    assert proc.stderr.startswith("clippings: error: ") and proc.stderr.count("\n") == 1, \
        proc.stderr
    assert says in proc.stderr
    assert "Usage:" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("args", [
    ["list", "--library", "{lib}"],
    ["list", "--library={lib}"],
    ["show", "lohse2017dossier", "--library", "{lib}"],
    ["lint", "--library", "{lib}", "--debug"],
    ["search", "Partnerschaft", "--keys", "--library", "{lib}"],
])
def test_library_option_after_the_command(shipped, tmp_path, args):
    """`clippings import f.bib --library X` and the like: run far from any library.bib."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = run_process(*[a.format(lib=shipped) for a in args], cwd=elsewhere,
                       env={"CLIPPINGS_LIBRARY": ""})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()


def test_import_with_the_library_option_last(shipped, tmp_path):
    other = tmp_path / "other.bib"
    other.write_text("@misc{neu, title = {Ganz neuer Eintrag}, date = {2020}}\n",
                     encoding="utf-8")
    result = run("import", str(other), "--library", str(shipped))
    assert result.exit_code == 0 and "added neu" in result.stdout
    assert "@misc{neu" in shipped.read_text(encoding="utf-8")


def test_hoisting_leaves_values_and_double_dash_alone():
    assert hoist_global_options(["add", "--set", "title=x", "--library", "L"]) == \
        ["--library", "L", "add", "--set", "title=x"]
    assert hoist_global_options(["--library", "L", "list"]) == ["--library", "L", "list"]
    assert hoist_global_options(["search", "--", "--library"]) == \
        ["search", "--", "--library"]
    assert hoist_global_options(["lint", "--debug"]) == ["--debug", "lint"]


def test_list_keeps_one_line_per_entry(library):
    library.write_text("@misc{a, title = {Erste Zeile\n\tzweite Zeile}, date = {2020},\n"
                       "  author = {Lohse,\n Peggy}}\n"
                       "@misc{b, title = {B}, date = {2021}}\n", encoding="utf-8")
    result = run("list", library=library)
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and "\t" not in result.stdout
    assert lines[0].startswith("a ") and "Erste Zeile zweite Zeile" in lines[0]


def test_an_internal_error_is_one_line_without_debug(tmp_path):
    """A library path that is a folder without library.bib: one line, exit 2."""
    proc = run_process("--library", str(tmp_path / "nowhere"), "list", cwd=REPO)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("clippings: error: ")


def test_broken_pdf_is_one_error_line_without_pypdfs_own(library, tmp_path):
    """pypdf logs what it finds wrong ("EOF marker not found"); in a real process, with
    no logging set up, that would be a second stderr line beside ours."""
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n garbage")
    proc = run_process("--library", str(library), "add", str(broken))
    assert proc.returncode == 2
    assert proc.stderr.startswith("clippings: error: not a readable PDF") \
        and proc.stderr.count("\n") == 1, proc.stderr
