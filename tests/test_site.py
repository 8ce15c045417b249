"""`clippings site`: the static page, its groups, links, search index, safety and writing."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import lxml.html
import pytest

from clippings import links_cache, static_site
from clippings.static_site import MARKER, render_page, safe_url, search_text
from clippings.model import Record
from helpers import run

HOSTILE = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


def page(folder: Path):
    return lxml.html.fromstring((folder / "index.html").read_bytes())


def index_of(doc) -> dict[str, str]:
    (script,) = doc.xpath('//script[@id="search-data"]')
    return dict(json.loads(script.text))


def test_shipped_library_by_type(shipped, tmp_path):
    out = tmp_path / "public"
    result = run("site", "-o", str(out), library=shipped)
    assert result.exit_code == 0, result.output
    assert "wrote 17 entries" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".clippings-site", "index.html", "site.css", "site.js"])
    doc = page(out)
    refs = doc.xpath('//li[@class="ref"]')
    assert len(refs) == 17
    headings = [h.text.strip() for h in doc.xpath("//section/h2")]
    assert headings[0] == "Zeitungsartikel" and "Sonstiges" in headings
    newspaper = doc.xpath('//section[@id="type-newspaper"]//li/@data-key')
    assert "lohse2017dossier" in newspaper and len(newspaper) == 7
    # Every entry is in the search index, with its keywords (not shown on the page).
    index = index_of(doc)
    assert set(index) == {li.get("data-key") for li in refs}
    assert "rbth" in index["lohse2017dossier"].lower()
    # The team's remarks (annotation) are not published, not even in the index.
    assert "Etwa 60 Seiten im Format A5" in shipped.read_text(encoding="utf-8")
    assert "Etwa 60 Seiten" not in (out / "index.html").read_text(encoding="utf-8")
    # Links to the URL, formatted by the style (DIN: the title links to the page).
    entry = doc.xpath('//li[@data-key="lohse2017dossier"]')[0]
    assert entry.xpath('.//a[@class="url"]/@href')[0].startswith("https://")
    assert "Dossier: Deutsch-russische Städtepartnerschaften" in entry.text_content()
    # Self-contained: the only external references are the two files beside it.
    assert doc.xpath("//script/@src") == ["site.js"]
    assert doc.xpath("//link[@rel='stylesheet']/@href") == ["site.css"]
    assert doc.get("lang") == "de"


def test_group_by_year_newest_first_in_english(library, tmp_path):
    library.write_text(
        "@online{a, title = {Alt}, date = {2009-03-01}, url = {https://a.example/}}\n"
        "@online{b, title = {Neu}, date = {2021}, url = {https://b.example/}}\n"
        "@misc{c, title = {Ohne Datum}}\n"
        "@online{d, title = {Auch neu}, date = {2021-12}, url = {https://d.example/}}\n",
        encoding="utf-8")
    out = tmp_path / "site"
    result = run("site", "-o", str(out), "--group-by", "year", "--lang", "en",
                 "--style", "apa", "--title", "Press review", library=library)
    assert result.exit_code == 0, result.output
    doc = page(out)
    assert [s.get("id") for s in doc.xpath("//section")] == ["year-2021", "year-2009",
                                                             "year-none"]
    assert doc.xpath("//section[@id='year-none']/h2")[0].text.strip() == "no date"
    assert sorted(doc.xpath("//section[@id='year-2021']//li/@data-key")) == ["b", "d"]
    assert doc.xpath("//h1")[0].text == "Press review" and doc.get("lang") == "en"


def test_pybtex_styles_are_grouped_too(shipped, tmp_path):
    out = tmp_path / "site"
    assert run("site", "-o", str(out), "--style", "plain", library=shipped).exit_code == 0
    doc = page(out)
    assert len(doc.xpath('//li[@class="ref"]//div[@class="csl-entry"]')) == 17
    assert doc.xpath('//li[@data-key="lohse2017dossier"]//div/@id') == ["ref-lohse2017dossier"]


def test_hostile_entry_stays_text(library, tmp_path):
    library.write_text(
        "@online{evil,\n"
        f"  title = {{{HOSTILE.replace('{', '')}}},\n"
        "  author = {<b>Mallory</b>, Eve},\n"
        "  date = {2020},\n"
        "  url = {javascript:alert(1)},\n"
        "  archiveurl = {data:text/html,<script>alert(2)</script>},\n"
        "  keywords = {</script><!--, &amp;},\n"
        "}\n@online{good, title = {Gut}, date = {2020}, url = {https://ok.example/x?a=1&b=2}}\n",
        encoding="utf-8")
    out = tmp_path / "site"
    result = run("site", "-o", str(out), library=library)
    assert result.exit_code == 0, result.output
    raw = (out / "index.html").read_text(encoding="utf-8")
    doc = page(out)
    # Only our two scripts: site.js and the JSON index (which is data, not code).
    assert [(s.get("src"), s.get("type")) for s in doc.xpath("//script")] == [
        ("site.js", None), (None, "application/json")]
    assert not doc.xpath("//img") and not doc.xpath("//*[@onerror]") \
        and not doc.xpath("//b")
    # Hostile links are dropped, good ones kept with their query string.
    hrefs = doc.xpath("//a/@href")
    assert not [h for h in hrefs if not h.startswith(("https://", "http://", "#",
                                                       "link-rot.svg"))]
    assert "https://ok.example/x?a=1&b=2" in hrefs
    evil = doc.xpath('//li[@data-key="evil"]')[0]
    assert "<script>window.pwned=1</script>" in evil.text_content()
    assert "<b>mallory</b>" in evil.text_content().lower()   # styles may capitalise names
    # The index survives the HTML parser intact and holds the text as written.
    assert "</script><!--" in index_of(doc)["evil"]
    assert "</script><!--" not in raw.split('id="search-data">')[1].split("</script>")[0]
    # The policy allows no inline script at all.
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_health_adds_badges_archive_copies_and_the_chart(shipped, tmp_path):
    folder = shipped.parent
    results = [{"key": "lohse2017dossier", "field": "url", "status": "broken",
                "url": "https://de.rbth.com/gesellschaft/2017/06/26/dossier-deutsch-russische-staedtepartnerschaften_789210",
                "http_status": 404, "archive_url": "https://web.archive.org/web/2017/x",
                "archive_date": "2017-07-01", "checked_at": "2026-11-01T10:00:00+00:00"}]
    from clippings.library import Library
    url = Library.load(shipped).record("lohse2017dossier").fields["url"]
    results[0]["url"] = url
    links_cache.save(folder, results)
    urls = sum(1 for r in Library.load(shipped).records() if r.fields.get("url"))
    out = tmp_path / "site"
    assert run("site", "-o", str(out), "--health", library=shipped).exit_code == 0
    doc = page(out)
    entry = doc.xpath('//li[@data-key="lohse2017dossier"]')[0]
    assert entry.xpath('.//span[contains(@class, "badge")]')[0].text == "nicht gefunden"
    assert entry.xpath('.//a[@class="archive"]/@href') == ["https://web.archive.org/web/2017/x"]
    svg = doc.xpath('//section[@id="health"]//*[local-name()="svg"]')
    assert len(svg) == 1 and (out / "link-rot.svg").is_file()
    counts = {row.xpath("th")[0].text_content(): row.xpath("td")[0].text
              for row in doc.xpath('//table[@class="counts"]//tr')}
    assert counts == {"nicht gefunden": "1", "noch nicht geprüft": str(urls - 1)}
    assert f"1 von {urls} Links geprüft" in (out / "link-rot.svg").read_text(encoding="utf-8")
    # Without --health nothing of it shows.
    assert run("site", "-o", str(out), library=shipped).exit_code == 0
    assert not page(out).xpath('//section[@id="health"]|//span[contains(@class,"badge")]')


def test_rebuild_replaces_its_own_files_but_never_foreign_folders(shipped, tmp_path):
    out = tmp_path / "public"
    assert run("site", "-o", str(out), library=shipped).exit_code == 0
    (out / "notes.html").write_text("mine")
    assert run("site", "-o", str(out), "--group-by", "year", library=shipped).exit_code == 0
    assert (out / "notes.html").read_text() == "mine" and (out / MARKER).is_file()
    assert page(out).xpath("//section")[0].get("id").startswith("year-")
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("years of work")
    result = run("site", "-o", str(foreign), library=shipped)
    assert result.exit_code == 2 and "did not write" in result.stderr
    assert sorted(os.listdir(foreign)) == ["thesis.tex"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("site", "-o", str(empty), library=shipped).exit_code == 0
    assert (empty / "index.html").is_file()


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=T", "-c",
                           "user.email=t@example.org", *args], check=True,
                          capture_output=True, text=True).stdout


def test_rebuild_keeps_a_pages_repository_and_drops_stale_pages(shipped, tmp_path):
    out = tmp_path / "public"
    assert run("site", "-o", str(out), "--health", library=shipped).exit_code == 0
    git(out, "init", "-q")
    (out / "CNAME").write_text("literatur.example.org\n")
    (out / ".nojekyll").write_text("")
    (out / "images").mkdir()
    (out / "images" / "logo.svg").write_text("<svg/>")
    git(out, "add", "-A")
    git(out, "commit", "-q", "-m", "site")
    # A page a previous run wrote for an entry since removed from the library.
    marker = (out / MARKER).read_text(encoding="utf-8")
    (out / MARKER).write_text(marker + "entries/gone2019.html\n", encoding="utf-8")
    (out / "entries").mkdir()
    (out / "entries" / "gone2019.html").write_text("old entry")
    result = run("site", "-o", str(out), library=shipped)   # no --health: no chart
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".clippings-site", ".git", ".nojekyll", "CNAME", "images", "index.html",
         "site.css", "site.js"])
    assert (out / "CNAME").read_text() == "literatur.example.org\n"
    assert (out / "images" / "logo.svg").read_text() == "<svg/>"
    assert git(out, "log", "--format=%s") == "site\n"
    # git sees the chart gone and the page changed, nothing else.
    assert git(out, "status", "--porcelain").splitlines() == [
        " M .clippings-site", " M index.html", " D link-rot.svg"]
    assert "link-rot.svg" not in (out / MARKER).read_text(encoding="utf-8")


def test_a_site_marked_by_an_older_clippings_loses_nothing(shipped, tmp_path):
    out = tmp_path / "public"
    out.mkdir()
    (out / MARKER).write_text("written by clippings site\n")   # no list of its files
    for name in ("index.html", "site.css", "site.js", "link-rot.svg", "CNAME"):
        (out / name).write_text("old")
    assert run("site", "-o", str(out), library=shipped).exit_code == 0
    assert (out / "index.html").read_text(encoding="utf-8") != "old"
    # Which of the rest it wrote is unknown: they stay until a marker lists them.
    assert (out / "CNAME").read_text() == "old" and (out / "link-rot.svg").is_file()
    assert run("site", "-o", str(out), library=shipped).exit_code == 0
    assert (out / "CNAME").read_text() == "old"


def test_a_marker_never_leads_outside_the_folder(shipped, tmp_path):
    out = tmp_path / "public"
    assert run("site", "-o", str(out), library=shipped).exit_code == 0
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "keep.txt").write_text("x")
    (out / "link").symlink_to(tmp_path / "elsewhere")
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    with open(out / MARKER, "a", encoding="utf-8") as fh:
        fh.write(f"../library.bib\n{shipped}\nlink/keep.txt\n.git/HEAD\n.git\n./\n"
                 "pages/old.html\nno/such/page.html\n")
    (out / "pages").mkdir()
    (out / "pages" / "old.html").write_text("ours")
    (out / "pages" / "mine.html").write_text("the user's")
    result = run("site", "-o", str(out), library=shipped)
    assert result.exit_code == 0, result.output
    assert shipped.is_file() and (tmp_path / "elsewhere" / "keep.txt").is_file()
    assert (out / ".git" / "HEAD").is_file()
    # A folder of the site's pages stays while it holds someone else's file.
    assert os.listdir(out / "pages") == ["mine.html"]


def test_an_interrupted_rebuild_leaves_a_readable_site(shipped, tmp_path, monkeypatch):
    out = tmp_path / "public"
    assert run("site", "-o", str(out), "--health", library=shipped).exit_code == 0
    (out / "CNAME").write_text("literatur.example.org\n")
    real_replace, moved = os.replace, []

    def failing_replace(src, dst):
        if Path(dst).name == "index.html":
            raise OSError(28, "No space left on device", str(dst))
        moved.append(Path(dst).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    result = run("site", "-o", str(out), library=shipped)
    assert result.exit_code == 1 and "No space left on device" in result.stderr
    monkeypatch.undo()
    assert {"site.css", "site.js"} <= set(moved)   # it failed half way
    assert page(out).xpath('//section[@id="health"]')   # the old page, whole
    assert (out / "link-rot.svg").is_file() and (out / "CNAME").is_file()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".clippings-site", "CNAME", "index.html", "link-rot.svg", "site.css", "site.js"])
    # The next run still knows the chart as its own.
    assert run("site", "-o", str(out), library=shipped).exit_code == 0
    assert not (out / "link-rot.svg").exists() and (out / "CNAME").is_file()


def test_a_killed_run_leaves_nothing_for_the_next_one(shipped, tmp_path):
    out = tmp_path / "public"
    assert run("site", "-o", str(out), library=shipped).exit_code == 0
    (out / f"{MARKER}.new-x1y2").mkdir()   # the staging folder of a run killed mid-way
    (out / f"{MARKER}.new-x1y2" / "index.html").write_text("half")
    assert run("site", "-o", str(out), library=shipped).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".clippings-site", "index.html", "site.css", "site.js"])


def test_a_fresh_pages_repository_is_written_into_and_kept(shipped, tmp_path):
    out = tmp_path / "pages"
    out.mkdir()
    git(out, "init", "-q")
    (out / "CNAME").write_text("literatur.example.org\n")
    (out / ".nojekyll").write_text("")
    (out / "README.md").write_text("# Literatur\n")
    result = run("site", "-o", str(out), "--health", library=shipped)
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file() and (out / "link-rot.svg").is_file()
    # The marker lists only what the site wrote: the rest is never the site's to delete.
    assert (out / MARKER).read_text(encoding="utf-8").splitlines()[1:] == [
        "index.html", "link-rot.svg", "site.css", "site.js"]
    assert run("site", "-o", str(out), library=shipped).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".clippings-site", ".git", ".nojekyll", "CNAME", "README.md", "index.html",
         "site.css", "site.js"])
    assert (out / "CNAME").read_text() == "literatur.example.org\n"
    assert git(out, "status", "--porcelain", "--untracked-files=all").splitlines() == [
        "?? .clippings-site", "?? .nojekyll", "?? CNAME", "?? README.md", "?? index.html",
        "?? site.css", "?? site.js"]


@pytest.mark.parametrize("foreign", ["notes.txt", "index.html", ".clippings-site.new-x1"])
def test_a_repository_with_anything_else_is_still_refused(shipped, tmp_path, foreign):
    out = tmp_path / "pages"
    out.mkdir()
    git(out, "init", "-q")
    (out / "CNAME").write_text("literatur.example.org\n")
    (out / foreign).write_text("someone's")
    result = run("site", "-o", str(out), library=shipped)
    assert result.exit_code == 2 and "did not write" in result.stderr
    assert foreign in result.stderr and "Traceback" not in result.output
    assert sorted(os.listdir(out)) == sorted([".git", "CNAME", foreign])
    assert (out / foreign).read_text() == "someone's"


# A real second process writing the site, paused after its first staged file until the
# file `go` appears: the moment another run used to delete its staging folder.
PAUSED_WRITER = """
import sys, time
from pathlib import Path
import clippings.static_site as site
from clippings.cli import run
paused, go = Path(sys.argv[1]), Path(sys.argv[2])
write = site._write_file

def write_then_wait(path, data):
    write(path, data)
    if not paused.exists():
        paused.touch()
        deadline = time.monotonic() + 60
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.02)

site._write_file = write_then_wait
sys.argv = ["clippings", *sys.argv[3:]]
run()
"""


@contextlib.contextmanager
def paused_writer(tmp_path: Path, *args: str):
    """Start `clippings ARGS` paused mid-write; yields `go`, whose creation lets it go on,
    and a function that waits for it and returns (exit code, stderr)."""
    paused, go = tmp_path / "paused", tmp_path / "go"
    proc = subprocess.Popen([sys.executable, "-c", PAUSED_WRITER, str(paused), str(go),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        while not paused.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert paused.exists(), proc.communicate()[1]

        def finish():
            go.touch()
            return proc.wait(timeout=60), proc.stderr.read()
        yield go, finish
    finally:
        go.touch()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def assert_whole_site(out: Path, names: list[str]) -> None:
    """`out` holds the site's files and the marker lists exactly them: no staging left."""
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *names])
    assert (out / MARKER).read_text(encoding="utf-8").splitlines()[1:] == sorted(names)
    page(out)


def test_a_second_run_waits_for_the_first_one(shipped, tmp_path, monkeypatch):
    out = tmp_path / "public"
    assert run("site", "-o", str(out), library=shipped).exit_code == 0
    with paused_writer(tmp_path, "--library", str(shipped), "site", "-o", str(out),
                       "--health") as (go, finish):
        write = static_site._write_folder

        def write_and_let_the_first_go_on(out, files):
            threading.Timer(0.5, go.touch).start()
            write(out, files)

        monkeypatch.setattr(static_site, "_write_folder", write_and_let_the_first_go_on)
        result = run("site", "-o", str(out), library=shipped)   # no --health: no chart
        assert result.exit_code == 0, result.output
        code, stderr = finish()
    assert code == 0 and "error" not in stderr, stderr
    # The first run wrote the chart; the second one, after it, knew it and deleted it.
    assert_whole_site(out, ["index.html", "site.css", "site.js"])


@pytest.mark.parametrize("existing", [True, False], ids=["rebuild", "new-folder"])
def test_a_run_kept_waiting_too_long_is_refused(shipped, tmp_path, monkeypatch, existing):
    out = tmp_path / "public"
    if existing:
        assert run("site", "-o", str(out), library=shipped).exit_code == 0
    monkeypatch.setattr(static_site, "LOCK_TIMEOUT", 0.5)
    with paused_writer(tmp_path, "--library", str(shipped), "site", "-o", str(out),
                       "--health") as (go, finish):
        result = run("site", "-o", str(out), library=shipped)
        assert result.exit_code == 1, result.output
        assert result.stderr == (f"clippings: error: {out} is being written by another "
                                 "clippings process; try again\n")
        code, stderr = finish()
    assert code == 0, stderr
    assert_whole_site(out, ["index.html", "link-rot.svg", "site.css", "site.js"])


def test_a_failed_build_leaves_the_old_site(shipped, tmp_path):
    out = tmp_path / "public"
    assert run("site", "-o", str(out), library=shipped).exit_code == 0
    before = (out / "index.html").read_bytes()
    result = run("site", "-o", str(out), "--style", "no-such-style", library=shipped)
    assert result.exit_code == 2 and "unknown style" in result.stderr
    assert (out / "index.html").read_bytes() == before
    # No half-written folder is left beside it, just the lock runs take turns on.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f".public{MARKER}.lock", "index", "library.bib", "public"]


def test_bad_destinations(shipped, tmp_path):
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    assert run("site", "-o", str(afile), library=shipped).exit_code == 2
    result = run("site", "-o", str(tmp_path / "no" / "such" / "dir"), library=shipped)
    assert result.exit_code == 2 and "clippings: error:" in result.stderr
    assert run("site", library=shipped).exit_code == 2   # -o is required


def test_safe_url():
    assert safe_url(" https://a.example/x ") == "https://a.example/x"
    assert safe_url("mailto:presse@example.org")
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x",
                "vbscript:x", "//evil.example", "", None, "https://a\n.example"):
        assert safe_url(bad) is None


def test_search_text_holds_transliterations():
    rec = Record("article", {"title": "Волгоград и Железногорск", "keywords": "Städte"},
                 key="ru2019")
    text = search_text(rec, "<div>Волгоград и Железногорск</div>")
    assert "Wolgograd" in text and "Volgograd" in text
    assert "Schelesnogorsk" in text and "Zheleznogorsk" in text
    assert "Städte" in text and "ru2019" in text


def test_render_page_rejects_bad_options():
    from clippings.errors import UsageError
    with pytest.raises(UsageError):
        render_page([], style="apa", group_by="author")
    with pytest.raises(UsageError):
        render_page([], style="apa", lang="fr")
