"""Export: data formats (bibtex, biblatex, ris, csljson), pybtex styles, safety, the CLI."""

from __future__ import annotations

import html.parser
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from clippings import export
from clippings.cli import main
from clippings.cli.export import cite as cite_command
from clippings.cli.export import export as export_command
from clippings.cli.export import styles as styles_command
from clippings.library import Library
from clippings.model import Name, Record
from helpers import run

for command in (export_command, cite_command, styles_command):
    main.add_command(command)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def records():
    return list(Library.load(REPO / "library.bib").records())


def by_key(records, key):
    return next(r for r in records if r.key == key)


HOSTILE = ("<script>alert(1)</script> \\input{/etc/passwd} \\def\\x{y} *bold* $x^2$ "
           "# _u_ [link](http://evil.example) & % ~ {unbalanced")


def hostile_record() -> Record:
    return Record("article", {"title": HOSTILE, "journaltitle": "J<b>ournal</b> & Co",
                              "date": "2020-01-02", "url": 'http://x.example/a"><script>b',
                              "langid": "english"},
                  {"author": [Name("O'<i>Evil", "Eve & \\Mallory")]}, key="evil2020")


# -- classic BibTeX ------------------------------------------------------------------------

def test_bibtex_maps_biblatex_down(records):
    text = export.export([by_key(records, "lohse2017dossier")], "bibtex")
    assert text.startswith("@article{lohse2017dossier,")
    assert re.search(r"journal\s+= \{RBTH\}", text) and "journaltitle" not in text
    assert re.search(r'month\s+= jun # "~26,"', text) and re.search(r"year\s+= 2017,", text)
    assert "date " not in text and "langid" not in text
    # German title: protected whole, umlaut as an accent command
    assert re.search(r"title\s+= \{\{Dossier: Deutsch-russische St\{\\\"a\}dtepartnerschaften\}\}",
                     text)


def test_bibtex_online_becomes_misc_with_url_and_access_note():
    rec = Record("online", {"title": "Über uns", "url": "https://example.org/a b{c}",
                            "urldate": "2024-03-05", "date": "2023", "langid": "ngerman"},
                 key="web")
    text = export.export([rec], "bibtex")
    assert text.startswith("@misc{web,")
    assert "howpublished = {\\url{https://example.org/a%20b%7Bc%7D}}" in text
    assert "note         = {Abgerufen am 05.03.2024.}" in text
    assert "urldate" not in text
    assert "{\\\"U}ber uns" in text


def test_bibtex_is_ascii_for_latin_text_and_keeps_what_latex_cannot_spell(records):
    text = export.export(records, "bibtex")
    assert not re.search(r"[À-ɏ–—„“»«]", text)      # umlauts, dashes, quotes as LaTeX
    assert "1988{\\textendash}2018" in text and "{\\guillemotright}Partnerst{\\\"a}dte" in text
    assert "origtitle" not in text                  # no classic field
    assert "(Раменское)" in text                    # Cyrillic in a note stays UTF-8


def test_bibtex_escapes_specials(tmp_path):
    text = export.export([hostile_record()], "bibtex")
    title = re.search(r"title\s+= (.*),\n", text).group(1)
    assert "\\input" not in title.replace("\\textbackslash{}input", "")
    assert "\\%" in title and "\\#" in title and "\\$" in title and "\\_" in title


def _run_bibtex(folder: Path, bib_text: str, style: str = "plain"):
    (folder / "refs.bib").write_text(bib_text, encoding="utf-8")
    (folder / "doc.aux").write_text(f"\\citation{{*}}\n\\bibstyle{{{style}}}\n"
                                    "\\bibdata{refs}\n", encoding="utf-8")
    return subprocess.run(["bibtex", "doc"], cwd=folder, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.skipif(shutil.which("bibtex") is None and os.environ.get("CLIPPINGS_CI") != "1",
                    reason="the bibtex binary is not installed (Debian: texlive-binaries "
                           "and texlive-base for plain.bst); CI installs it")
def test_bibtex_export_runs_through_bibtex_with_plain_bst(tmp_path, records):
    if subprocess.run(["kpsewhich", "plain.bst"], capture_output=True).returncode != 0:
        pytest.skip("plain.bst is not installed (Debian: texlive-base)")
    result = _run_bibtex(tmp_path, export.export(records + [hostile_record()], "bibtex"))
    log = (tmp_path / "doc.blg").read_text(encoding="utf-8", errors="replace")
    assert result.returncode in (0, 1), log       # 1 = warnings only (missing fields)
    assert "error message" not in log, log
    bbl = (tmp_path / "doc.bbl").read_text(encoding="utf-8", errors="replace")
    for rec in records:
        assert f"\\bibitem{{{rec.key}}}" in bbl
    assert "\\newblock {\\em RBTH}, June~26, 2017." in bbl
    assert "Dossier: Deutsch-russische St{\\\"a}dtepartnerschaften" in bbl  # case kept
    assert "\\url{http://www.russlandpartner.de/}" in bbl


# -- biblatex ----------------------------------------------------------------------------

def test_biblatex_parses_back_with_pybtex(records):
    from pybtex.database import parse_string
    text = export.export(records, "biblatex")
    data = parse_string(text, "bibtex")
    assert list(data.entries) == [r.key for r in records]
    lohse = data.entries["lohse2017dossier"]
    assert lohse.type == "article" and lohse.fields["journaltitle"] == "RBTH"
    assert lohse.fields["date"] == "2017-06-26"
    assert str(lohse.persons["author"][0]) == "Lohse, Peggy"


def test_biblatex_round_trips_through_the_library_reader(records, tmp_path):
    bib = tmp_path / "library.bib"
    bib.write_text(export.export(records + [hostile_record()], "biblatex"), encoding="utf-8")
    again = list(Library.load(bib).records())
    assert again == records + [hostile_record()]


# -- RIS and CSL-JSON through import -------------------------------------------------------

def test_ris_round_trips_through_import(records):
    from clippings.formats import ris
    back = ris.parse(export.export(records, "ris"))
    assert len(back) == len(records)
    for old, new in zip(records, back):
        assert new.fields.get("date") == old.fields.get("date")
        assert new.fields.get("url") == old.fields.get("url")
        assert new.names.get("author") == old.names.get("author")
        assert new.fields["title"].startswith(old.fields["title"])


def test_csljson_round_trips_through_import(records):
    from clippings.formats import csljson
    text = export.export(records, "csljson")
    items = json.loads(text)
    lohse = next(i for i in items if i["id"] == "lohse2017dossier")
    assert lohse["issued"] == {"date-parts": [[2017, 6, 26]]}
    assert lohse["author"] == [{"family": "Lohse", "given": "Peggy"}]
    assert lohse["container-title"] == "RBTH" and lohse["URL"].startswith("https://")
    back = csljson.parse(text)
    for old, new in zip(records, back):
        assert new.key == old.key
        assert new.fields.get("date") == old.fields.get("date")
        assert new.names.get("author") == old.names.get("author")


# -- pybtex styles ---------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["plain", "unsrt", "alpha", "unsrtalpha"])
def test_pybtex_styles_render_every_entry(records, style):
    text = export.export(records, "text", style)
    entries = text.strip().split("\n\n")
    assert len(entries) == len(records)
    assert any("Peggy Lohse. Dossier: Deutsch-russische Städtepartnerschaften. RBTH, "
               "June 26, 2017." in e for e in entries)


def test_pybtex_plain_sorts_and_numbers(records):
    entries = export.export(records, "text", "plain").strip().split("\n\n")
    assert [e.split("]")[0] + "]" for e in entries] == [f"[{i}]" for i in
                                                       range(1, len(records) + 1)]


def test_pybtex_cite_labels(records):
    assert export.cite([by_key(records, "lohse2017dossier")], "alpha") == "[Loh17]"
    assert export.cite([by_key(records, "rutz2011geschenk"),
                        by_key(records, "lohse2017dossier")], "unsrt") == "[1, 2]"


# -- hostile data stays text -------------------------------------------------------------------

class _Elements(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text, self.hrefs = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [v for k, v in attrs if k == "href"]

    def handle_data(self, data):
        self.text.append(data)


def _engines():
    styles = ["plain"]
    try:
        from clippings.export import csl
        csl.pandoc_path()
        csl.style_path("apa")
        styles += ["apa", "din-1505-2"]
    except Exception:
        pass
    return styles


@pytest.mark.parametrize("style", _engines())
def test_hostile_title_is_text_in_html(style):
    out = export.export([hostile_record()], "html", style, "en-US")
    parsed = _Elements()
    parsed.feed(out)
    assert "script" not in parsed.tags and "b" not in parsed.tags and "i" not in parsed.tags
    text = "".join(parsed.text)
    assert "<script>alert(1)</script>" in text and "J<b>ournal</b> & Co" in text
    assert parsed.hrefs == ['http://x.example/a"><script>b'] or not parsed.hrefs


# Control sequences a formatted reference may contain; anything else would be a command
# coming from the data.
_LATEX_ALLOWED = {"textbackslash", "textless", "textgreater", "textbar", "textasciitilde",
                  "textasciicircum", "textbraceleft", "textbraceright", "emph", "textit", "textbf", "textsc", "url", "href",
                  "{", "}", "%", "#", "&", "$", "_", "ldots", "textquotesingle"}


@pytest.mark.parametrize("style", _engines())
def test_hostile_title_is_text_in_latex(style):
    out = export.export([hostile_record()], "latex", style, "en-US")
    # pandoc writes a literal caret as \\^{} (an accent on nothing): text, not a command
    commands = set(re.findall(r"\\([A-Za-z]+|.)", out.replace("\\^{}", "")))
    assert commands <= _LATEX_ALLOWED, commands - _LATEX_ALLOWED
    assert "\\textbackslash{}input" in out or "\\textbackslash input" in out
    body = re.sub(r"\\[A-Za-z]+|\\.", "", out)
    assert body.count("{") == body.count("}")      # no group escapes its place


@pytest.mark.parametrize("style", _engines())
def test_hostile_title_is_text_in_markdown(style):
    from clippings.export import csl
    try:
        pandoc = csl.pandoc_path()
    except csl.PandocMissing:
        pytest.skip("pandoc is needed to read the Markdown back")
    out = export.export([hostile_record()], "markdown", style, "en-US")
    html = subprocess.run([pandoc, "-f", "markdown", "-t", "html"], input=out.encode(),
                          capture_output=True, check=True).stdout.decode()
    parsed = _Elements()
    parsed.feed(html)
    # (the style's own emphasis and small caps may appear; nothing from the data)
    assert not {"script", "b", "i", "sup", "sub"} & set(parsed.tags)
    assert "http://evil.example" not in parsed.hrefs
    assert "math" not in html
    text = re.sub(r"\s+", " ", "".join(parsed.text))
    assert "<script>alert(1)</script> \\input{/etc/passwd}" in text
    assert "*bold* $x^2$ # _u_ [link](http://evil.example) & % ~ {unbalanced" in text


# -- command line ----------------------------------------------------------------------------

def test_export_defaults_to_din_iso_690_text_of_the_whole_library(shipped):
    result = run("export", library=shipped)
    assert result.exit_code == 0, result.output
    assert result.output.count("\n\n") == 16 and result.output.endswith("\n")
    assert "LOHSE, Peggy, 2017. Dossier" in result.output


@pytest.mark.parametrize("fmt", ["text", "html", "markdown", "latex"])
@pytest.mark.parametrize("style", ["din-iso-690", "plain"])
def test_rendered_output_ends_with_one_newline(shipped, fmt, style):
    result = run("export", "rutz2011geschenk", "--format", fmt, "--style", style,
                 library=shipped)
    assert result.exit_code == 0, result.output
    assert result.output.endswith("\n") and not result.output.endswith("\n\n")


def test_html_to_a_file_is_a_complete_page(shipped, tmp_path):
    out = tmp_path / "literatur.html"
    assert run("export", "--format", "html", "-o", str(out), library=shipped).exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>\n") and page.endswith("</html>\n")
    assert '<meta charset="utf-8">' in page and '<html lang="de-DE">' in page
    assert "<title>Literaturverzeichnis</title>" in page
    assert page.count('class="csl-entry"') == 17


def test_html_page_on_request_and_fragment_on_request(shipped, tmp_path):
    page = run("export", "rutz2011geschenk", "--format", "html", "--standalone",
               "--title", "Quellen <Forum>", library=shipped)
    assert page.exit_code == 0 and page.output.startswith("<!doctype html>")
    assert "<title>Quellen &lt;Forum&gt;</title>" in page.output
    fragment = run("export", "rutz2011geschenk", "--format", "html", library=shipped)
    assert fragment.output.startswith('<div class="csl-bib-body">')
    out = tmp_path / "f.html"
    assert run("export", "--format", "html", "--fragment", "-o", str(out),
               library=shipped).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith('<div class="csl-bib-body">')
    refused = run("export", "--format", "text", "--standalone", library=shipped)
    assert refused.exit_code == 2 and "clippings: error:" in refused.output


def test_export_to_file_writes_atomically(shipped, tmp_path):
    out = tmp_path / "refs.bib"
    out.write_text("old", encoding="utf-8")
    result = run("export", "--format", "biblatex", "-o", str(out), library=shipped)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == run("export", "--format", "biblatex",
                                                  library=shipped).output
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_export_never_writes_over_the_library_itself(shipped, tmp_path, monkeypatch):
    """`export -o library.bib` would replace the library with formatted references (every
    later command then saw 0 entries): refused, by any name of the file, as are the
    settings and the folders clippings keeps beside it."""
    before = shipped.read_bytes()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alias.bib").symlink_to(shipped)
    os.link(shipped, tmp_path / "hardlink.bib")
    (tmp_path / "index").mkdir(exist_ok=True)
    for target in ("library.bib", str(shipped), "./library.bib", "alias.bib", "hardlink.bib",
                   "clippings.toml", "index/refs.txt", "snapshots/refs.txt"):
        result = run("export", "-o", target, library=shipped)
        assert result.exit_code == 2, (target, result.output)
        assert "belongs to the library itself" in result.output, target
        assert shipped.read_bytes() == before
    assert not (tmp_path / "clippings.toml").exists()
    assert run("list", library=shipped).output.count("\n") == 17


def test_export_into_a_missing_folder_is_a_usage_error(shipped, tmp_path):
    result = run("export", "-o", str(tmp_path / "nodir" / "refs.txt"), library=shipped)
    assert result.exit_code == 2
    assert result.output == (f"clippings: error: cannot write {tmp_path / 'nodir' / 'refs.txt'}: "
                             f"the folder {tmp_path / 'nodir'} does not exist\n")


def test_export_selects_by_key_and_tag(shipped):
    result = run("export", "rutz2011geschenk", "lohse2017dossier", "--format", "csljson",
                 library=shipped)
    assert [i["id"] for i in json.loads(result.output)] == ["rutz2011geschenk",
                                                            "lohse2017dossier"]
    tagged = json.loads(run("export", "--tag", "dossier", "--format", "csljson",
                            library=shipped).output)
    assert [i["id"] for i in tagged] == ["lohse2017dossier"]


def test_export_unknown_key_or_style_is_usage_error(shipped):
    result = run("export", "nosuchkey", library=shipped)
    assert result.exit_code == 2 and "nosuchkey" in result.output
    result = run("export", "--style", "no-such-style-at-all", library=shipped)
    assert result.exit_code == 2 and "unknown style" in result.output


def test_export_style_and_locale_from_settings(shipped):
    (shipped.parent / "clippings.toml").write_text('style = "chicago-author-date"\n'
                                                   'locale = "en-US"\n', encoding="utf-8")
    result = run("cite", "lohse2017dossier", library=shipped)
    assert result.exit_code == 0, result.output
    assert result.output == "(Lohse 2017)\n"
    text = run("export", "lohse2017dossier", library=shipped).output
    assert "June 26" in text


def test_cite_command(shipped):
    result = run("cite", "lohse2017dossier", "--style", "apa", library=shipped)
    assert result.exit_code == 0, result.output
    assert result.output == "(Lohse, 2017)\n"


def test_styles_command(shipped):
    result = run("styles", "iso690-author-date", library=shipped)
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines()]
    assert "iso690-author-date-de" in names
    assert all("iso690-author-date" in line for line in result.output.splitlines())


def test_export_query_selects_what_search_finds(shipped):
    from helpers import run
    found = run("search", "Schelesnogorsk OR Wolgograd", "--keys", library=shipped)
    keys = set(found.output.split())
    assert keys and "spremberg2016schlaegt" in keys
    result = run("export", "--query", "Schelesnogorsk OR Wolgograd", "--format", "csljson",
                 library=shipped)
    assert result.exit_code == 0, result.output
    assert {item["id"] for item in json.loads(result.output)} == keys
    bad = run("export", "--query", '"unbalanced', library=shipped)
    assert bad.exit_code == 2 and "Traceback" not in bad.output
