"""Classic BibTeX (what `bibtex` with `plain.bst` reads), and pybtex's BibTeX-like styles.

biblatex data is mapped down to the classic model: `date` becomes `year` and `month`
(a month macro, with the day appended: `jun # "~26,"` prints "June~26, 2017"),
`annotation` `annote`,
`journaltitle` becomes `journal`, `location` `address`, `@online` becomes `@misc` with
`howpublished = {\\url{...}}`, `urldate` becomes an access note; subtitles are joined to
their titles (the `subtitle` and `entrysubtype` are written too: classic styles ignore
them, and `import` reads the entry back as it was, see `clippings.formats.classic`).
Types plain.bst does not know become the nearest one it does.

Values are LaTeX-safe: specials are escaped (`latex.encode`), and non-ASCII letters are
written as accent commands in braces (`{\\"a}`), which is what classic BibTeX needs to
sort, abbreviate and purify names; characters without a LaTeX spelling (Cyrillic) stay
UTF-8. Titles of non-English entries are wrapped in braces so that styles which
lower-case titles cannot lower-case German nouns; in English titles only words with
inner capitals (acronyms, "iPhone") are protected.

pybtex's styles (`plain`, `unsrt`, `alpha`, `unsrtalpha`) format the same classic data.
"""

from __future__ import annotations

import html

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from .. import latex
from ..bibfile import MONTH_ABBREVIATIONS, format_names
from ..formats.dates import join_title
from ..model import Record

PYBTEX_TITLES = {
    "plain": "pybtex: BibTeX plain (sorted, numbered)",
    "unsrt": "pybtex: BibTeX unsrt (numbered in citation order)",
    "alpha": "pybtex: BibTeX alpha (labels like [Loh17])",
    "unsrtalpha": "pybtex: alpha labels, unsorted",
}

_TYPES = {
    "article": "article", "book": "book", "mvbook": "book", "collection": "book",
    "mvcollection": "book", "booklet": "booklet", "inbook": "incollection",
    "bookinbook": "incollection", "suppbook": "incollection",
    "incollection": "incollection", "suppcollection": "incollection",
    "inreference": "incollection", "inproceedings": "inproceedings",
    "conference": "inproceedings", "proceedings": "proceedings",
    "mvproceedings": "proceedings", "manual": "manual", "report": "techreport",
    "techreport": "techreport", "phdthesis": "phdthesis", "mastersthesis": "mastersthesis",
    "unpublished": "unpublished",
}
_ENGLISH = {"english", "american", "british", "usenglish", "ukenglish", "canadian",
            "australian", "newzealand"}
_GERMAN = {"ngerman", "german", "naustrian", "austrian", "nswissgerman", "swissgerman"}

# Fields copied as they are (classic styles use them or ignore them harmlessly).
_KEEP = ("edition", "volume", "number", "series", "publisher", "organization",
         "institution", "isbn", "issn", "doi", "eprint", "keywords", "abstract", "chapter")
# Literal lists ("A and B") printed as text by classic styles: "and" would show.
_LISTS = {"publisher", "organization", "institution", "address", "school"}

# Non-ASCII -> LaTeX for classic BibTeX.
_MARKS = {combining: cmd for cmd, combining in latex._ACCENTS.items()}
_LETTERS = {ch: "{\\" + cmd + "}" for cmd, ch in latex._SYMBOLS.items()
            if len(ch) == 1 and ch.isalpha() and not ch.isascii() and len(cmd) <= 2}
_PUNCT = {
    # Commands, not the -- ligature: they print the same and read back as the dash.
    "–": r"{\textendash}", "—": r"{\textemdash}", "\u00a0": "~", "‘": "`", "’": "'",
    "“": "``", "”": "''",
    "„": r"{\quotedblbase}", "‚": r"{\quotesinglbase}", "«": r"{\guillemotleft}",
    "»": r"{\guillemotright}", "‹": r"{\guilsinglleft}", "›": r"{\guilsinglright}",
    "…": r"{\ldots}", "§": r"{\S}", "¶": r"{\P}", "©": r"{\textcopyright}",
    "®": r"{\textregistered}", "™": r"{\texttrademark}", "°": r"{\textdegree}",
    "€": r"{\texteuro}", "£": r"{\pounds}", "·": r"{\textperiodcentered}",
    "•": r"{\textbullet}", "×": r"{\texttimes}", "¡": r"{\textexclamdown}",
    "¿": r"{\textquestiondown}", "\u202f": r"\,", "\u2009": r"\,", "\u00ad": r"\-",
}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_URL_UNSAFE = re.compile(r"[^\x21-\x7e]|[{}\\]")


def ascii_latex(text: str) -> str:
    """LaTeX text (specials already escaped) with non-ASCII letters as accent commands."""
    return _NON_ASCII.sub(lambda m: _char(m.group()), text)


def _char(ch: str) -> str:
    if ch in _PUNCT:
        return _PUNCT[ch]
    if ch in _LETTERS:
        return _LETTERS[ch]
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    if not base.isascii() or not marks or any(m not in _MARKS for m in marks):
        return ch        # no LaTeX spelling: left as UTF-8
    out = base
    for mark in marks:
        cmd = _MARKS[mark]
        out = f"\\{cmd}{out}" if not cmd.isalpha() and len(out) == 1 else f"\\{cmd}{{{out}}}"
    return "{" + out + "}"


def value(text: str) -> str:
    """Plain text as a braced classic-BibTeX value."""
    return "{" + ascii_latex(latex.encode(text)) + "}"


def url_text(url: str) -> str:
    """A URL safe inside braces and `\\url{}`: braces, backslash, spaces, non-ASCII %-encoded.

    `%` and `#` stay: BibTeX does not read them, and `\\url` takes them verbatim.
    """
    return _URL_UNSAFE.sub(lambda m: quote(m.group(), safe=""), url)


@dataclass(frozen=True)
class Title:
    """A title: protected whole (non-English) or word by word (English)."""
    text: str
    whole: bool


@dataclass(frozen=True)
class Month:
    """A month (1-12) with an optional day."""
    number: int
    day: int | None = None


@dataclass(frozen=True)
class Url:
    """A URL printed as `\\url{...}` (howpublished of web pages)."""
    url: str


def _title(text: str, langid: str) -> Title:
    return Title(text, langid.lower() not in _ENGLISH)


def _date_fields(date: str) -> dict[str, object]:
    """year and month from an ISO date or range (its start)."""
    start = date.split("/")[0]
    m = re.match(r"(\d{4})(?:-(\d\d)(?:-(\d\d))?)?", start)
    if not m:
        return {"year": date} if date else {}
    out: dict[str, object] = {"year": m.group(1)}
    if m.group(2) and 1 <= int(m.group(2)) <= 12:
        out["month"] = Month(int(m.group(2)), int(m.group(3)) if m.group(3) else None)
    return out


def _access_note(urldate: str, langid: str) -> str:
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)$", urldate)
    if langid.lower() in _GERMAN:
        shown = f"{m.group(3)}.{m.group(2)}.{m.group(1)}" if m else urldate
        return f"Abgerufen am {shown}"
    return f"Accessed {urldate}"


def classic(rec: Record) -> tuple[str, dict[str, object]]:
    """The classic BibTeX type and fields of `rec`, as plain text (not yet LaTeX).

    Values are `str`, except name lists (`list[Name]`), `title` (`Title`), `month`
    (`Month`) and a `howpublished` that is a web address (`Url`).
    """
    f = rec.fields
    langid = f.get("langid", "")
    btype = _TYPES.get(rec.type, "misc")
    if rec.type == "thesis":
        kind = f.get("type", "").lower()
        btype = "phdthesis" if "phd" in kind or "diss" in kind else "mastersthesis"
    out: dict[str, object] = {}
    for role in ("author", "editor"):
        if rec.names.get(role):
            out[role] = rec.names[role]
    title = join_title(f.get("title", ""), f.get("subtitle", ""), f.get("titleaddon", ""))
    if rec.type == "periodical" and f.get("issuetitle"):
        out["title"] = _title(join_title(f["issuetitle"], f.get("issuesubtitle", "")), langid)
        out["howpublished"] = title
    elif title:
        out["title"] = _title(title, langid)
        # biblatex-only fields that classic styles ignore; import reads them back
        if f.get("subtitle") and not f.get("titleaddon") and f.get("title"):
            out["subtitle"] = f["subtitle"]
    if f.get("entrysubtype"):
        out["entrysubtype"] = f["entrysubtype"]
    booktitle = join_title(f.get("booktitle", ""), f.get("booksubtitle", ""),
                           f.get("booktitleaddon", ""))
    if booktitle:
        out["booktitle"] = booktitle
    journal = join_title(f.get("journaltitle", "") or f.get("journal", ""),
                         f.get("journalsubtitle", ""))
    if journal:
        out["journal"] = journal
    for name in _KEEP:
        if f.get(name):
            out[name] = f[name].replace(" and ", ", ") if name in _LISTS else f[name]
    if btype in ("phdthesis", "mastersthesis") and "institution" in out:
        out["school"] = out.pop("institution")
    if f.get("type") and btype not in ("phdthesis", "mastersthesis"):
        out["type"] = f["type"]
    place = f.get("location") or f.get("address")
    if place:
        out["address"] = place.replace(" and ", ", ")
    if f.get("pages"):
        out["pages"] = re.sub(r"\s*(?:--|[–—-])\s*", "--", f["pages"])
    if f.get("howpublished"):
        out["howpublished"] = f["howpublished"]
    if f.get("url"):
        out["url"] = f["url"]
        if btype in ("misc", "booklet") and "howpublished" not in out:
            out["howpublished"] = Url(f["url"])
    out.update(_date_fields(f.get("date") or f.get("year", "")))
    note = f.get("note", "")
    if f.get("urldate"):   # the note as written, then the access note (import undoes it)
        access = _access_note(f["urldate"], langid) + "."
        note = (note + (" " if note.endswith(".") else ". ") + access) if note else access
    if note:
        out["note"] = note
    if f.get("annotation"):   # remarks for the team: annote, which plain.bst does not print
        out["annote"] = f["annotation"]
    if langid or f.get("language"):
        out["language"] = langid or f["language"]
    return btype, out


def _bib_value(name: str, v: object) -> str:
    """One classic value as .bib text."""
    if isinstance(v, list):
        return "{" + ascii_latex(format_names(v)) + "}"
    if isinstance(v, Title):
        body = ascii_latex(latex.encode(v.text))
        if v.whole:
            return "{{" + body + "}}"
        return "{" + " ".join("{" + w + "}" if re.search(r"(?<=.)[A-Z]", w) and "\\" not in w
                              else w for w in body.split(" ")) + "}"
    if isinstance(v, Month):
        macro = MONTH_ABBREVIATIONS[v.number - 1]
        return f'{macro} # "~{v.day},"' if v.day else macro
    if isinstance(v, Url):
        return "{\\url{" + url_text(v.url) + "}}"
    if name == "url":
        return "{" + url_text(str(v)) + "}"
    if name == "year" and str(v).isdigit():
        return str(v)
    return value(str(v))


_ORDER = ("author", "editor", "title", "subtitle", "booktitle", "journal", "entrysubtype",
          "howpublished", "type",
          "edition", "series", "volume", "number", "chapter", "pages", "school",
          "institution", "organization", "publisher", "address", "month", "year", "note",
          "url", "doi", "isbn", "issn", "eprint", "language", "keywords", "abstract")
_RANK = {n: i for i, n in enumerate(_ORDER)}


def format_entry(rec: Record, key: str) -> str:
    btype, values = classic(rec)
    lines = [f"@{btype}{{{key},"]
    for name in sorted(values, key=lambda n: _RANK.get(n, len(_ORDER))):
        lines.append(f"  {name:<12} = {_bib_value(name, values[name])},")
    return "\n".join(lines) + "\n}\n"


def dump(records) -> str:
    """Records as a classic BibTeX file (ASCII except characters LaTeX cannot spell)."""
    return "\n".join(format_entry(r, r.key or f"entry{i}") for i, r in enumerate(records, 1))


# -- pybtex styles ------------------------------------------------------------------------
#
# pybtex reads every field as LaTeX (through latexcodec, which is lossy for specials:
# `\$` and `\textbackslash` do not come back as they went in). The entries here are built
# from plain text instead, and while pybtex formats them its LaTeX reader is replaced by
# one that takes the text as it is; the backends below then do all the escaping.

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")


class _Protected(str):
    """A title pybtex must not change the case of."""


def _pybtex_entry(rec: Record):
    from pybtex.database import Entry, Person
    btype, values = classic(rec)
    fields, persons = {}, {}
    for name, v in values.items():
        if isinstance(v, list):
            persons[name] = [Person(last=n.family) if n.literal else
                             Person(first=n.given, prelast=n.prefix, last=n.family,
                                    lineage=n.suffix) for n in v]
        elif isinstance(v, Title):
            fields[name] = _Protected(v.text) if v.whole else v.text
        elif isinstance(v, Month):
            fields[name] = _MONTH_NAMES[v.number - 1] + (f" {v.day}," if v.day else "")
        elif not isinstance(v, Url):   # pybtex prints the url field itself
            fields[name] = str(v)
    return Entry(btype, fields=fields, persons=persons)


def _key(rec: Record, i: int) -> str:
    # alpha labels use the key of an entry without names, as alpha.bst does
    return rec.key or f"entry{i + 1}"


def _plain_text(value):
    from pybtex.richtext import Protected, Text
    return Text(Protected(str(value))) if isinstance(value, _Protected) else Text(str(value))


def _formatted(records, style_name: str):
    """pybtex's FormattedEntry list, sorted and labelled as the style says."""
    from pybtex.database import BibliographyData
    from pybtex.plugin import find_plugin
    from pybtex.richtext import Text
    from pybtex.style.template import FieldIsMissing
    base = find_plugin("pybtex.style.formatting", style_name)

    class Tolerant(base):
        # pybtex refuses an entry that lacks a field its type requires (a manual without
        # author); bibtex would warn and go on, so print such an entry as @misc.
        def format_entry(self, label, entry, bib_data=None):
            try:
                return super().format_entry(label, entry, bib_data=bib_data)
            except FieldIsMissing:
                entry.type = "misc"
                return super().format_entry(label, entry, bib_data=bib_data)

    data = BibliographyData({_key(r, i): _pybtex_entry(r) for i, r in enumerate(records)})
    reader = Text.__dict__["from_latex"]
    Text.from_latex = staticmethod(_plain_text)
    try:
        return list(Tolerant().format_entries(data.entries.values()))
    finally:
        Text.from_latex = reader


def _backend(name: str):
    """pybtex's backend with sound escaping: of text and of link targets, per format."""
    import html as html_lib
    from pybtex.plugin import find_plugin
    base = find_plugin("pybtex.backends", name)

    class Safe(base):
        symbols = {**base.symbols, "newblock": " "}

        def format_protected(self, text):   # no <span class="bibtex-protected">
            return text

        def format_href(self, url, text, external=False):
            if not text:
                return ""
            if name == "html":
                return f'<a href="{html_lib.escape(url, quote=True)}">{text}</a>'
            if name == "latex":
                return "\\url{" + _latex_url(url) + "}"
            if name == "markdown":
                return f"<{quote(url, safe=_URL_SAFE)}>"
            return text

    if name == "latex":
        Safe.format_str = lambda self, text: latex_text(text)
    if name == "markdown":
        Safe.format_str = lambda self, text: markdown_text(text)
    return Safe()


_LATEX_MORE = {"<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_{}\[\]()#+!<>~^$|&.-]")


def latex_text(text: str) -> str:
    """Text for a LaTeX document: every special escaped, so no command can run."""
    return re.sub(r"[<>|]", lambda m: _LATEX_MORE[m.group()], latex.encode(text))


def markdown_text(text: str) -> str:
    """Text for Markdown: its punctuation backslash-escaped (CommonMark and pandoc)."""
    return _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(), text)


_URL_SAFE = "/:?=&;,+@!$'*-._~%#"


def _latex_url(url: str) -> str:
    """A URL for `\\url{}`: `%` and `#` escaped as hyperref reads them, braces encoded."""
    url = re.sub(r"[{}\\\s^~]", lambda m: quote(m.group(), safe=""), url)
    return url.replace("%", r"\%").replace("#", r"\#")


def render(records, style, fmt, locale: str | None = None) -> list[str]:
    """One formatted reference per entry in a pybtex style, its label first ("[1] ...")."""
    if not records:
        return []
    backend = _backend(fmt.pybtex)
    out = []
    for entry in _formatted(records, style.name):
        text = entry.text.render(backend)
        label = backend.format_str(f"[{entry.label}]")
        # The id says which entry this is, as pandoc's does (the static site groups by it).
        ident = html.escape(f"ref-{entry.key}", quote=True)
        out.append(f'<div id="{ident}" class="csl-entry">{label} {text}</div>'
                   if fmt.name == "html" else f"{label} {text}")
    return out


def cite(records, style, locale: str | None = None) -> str:
    """The labels pybtex gives the records, e.g. "[Loh17]" or "[1]"."""
    if not records:
        return ""
    labels = {entry.key: entry.label for entry in _formatted(records, style.name)}
    return "[" + ", ".join(labels[_key(r, i)] for i, r in enumerate(records)) + "]"
