"""Link health figures, the link-rot chart, and `clippings check --report / --cached`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from clippings import linkreport as R
from clippings.links import Result, Status
from clippings.model import Record
from helpers import run
from servers import send

SVG = "{http://www.w3.org/2000/svg}"


def rec(key: str, year: str | None, url: str | None = None, **fields) -> Record:
    values = dict(fields, title=fields.get("title", f"Titel {key}"))
    if year:
        values["date"] = f"{year}-05-01"
    if url:
        values["url"] = url
    return Record("online", values, key=key)


def res(key: str, url: str, status: Status, field: str = "url", **kw) -> Result:
    return Result(key, url, status, field=field, checked_at=kw.pop("checked_at",
                  "2026-11-01T10:00:00+00:00"), **kw)


def sample():
    records = [rec("a", "2010", "https://a.example/1"),
               rec("b", "2010", "https://b.example/2", archiveurl="https://web.archive.org/b"),
               rec("c", "2010", "https://c.example/3"),
               rec("d", "2010", "https://d.example/4"),
               rec("e", "2020", "https://e.example/5"),
               rec("f", "2020", "https://f.example/6"),
               rec("g", None, "https://g.example/7"),
               rec("h", "2020", "https://h.example/never-checked"),
               rec("i", "2021")]                     # no url: not a link at all
    results = [res("a", "https://a.example/1", Status.BROKEN, http_status=404,
                   archive_url="https://web.archive.org/web/2010/a", archive_date="2010-06-01"),
               res("b", "https://b.example/2", Status.GONE),
               res("b", "https://web.archive.org/b", Status.OK, field="archiveurl"),
               res("c", "https://c.example/3", Status.DRIFTED, similarity=0.2),
               res("d", "https://d.example/4", Status.OK),
               res("e", "https://e.example/5", Status.REDIRECTED,
                   new_url="https://e.example/new"),
               res("f", "https://f.example/6", Status.BLOCKED, http_status=403),
               res("g", "https://g.example/7", Status.SOFT_404),
               # a stale record for a URL the entry no longer has must not count
               res("h", "https://h.example/old-address", Status.BROKEN)]
    return records, results


def test_counts_unchecked_and_year_figures():
    h = R.health(*sample())
    assert h.total == 8 and h.unchecked == 1 and h.checked == 7
    assert h.counts["broken"] == 1 and h.counts["gone"] == 1 and h.counts["ok"] == 1
    assert h.counts["soft_404"] == 1 and h.counts["drifted"] == 1
    assert sum(h.counts.values()) == h.checked
    assert h.lost == 3
    years = {y.year: y for y in h.by_year}
    assert [y.year for y in h.by_year] == ["2010", "2020", ""]   # no year last
    y2010 = years["2010"]
    assert y2010.links == 4 and y2010.lost == 2
    assert (y2010.counts["broken"], y2010.counts["gone"], y2010.counts["drifted"],
            y2010.counts["ok"]) == (1, 1, 1, 1)
    assert y2010.share("broken") == 0.25
    assert years["2020"].links == 2   # h was never checked under its current URL
    assert years["2020"].counts["unclear"] == 1 and years["2020"].counts["redirected"] == 1
    assert years[""].counts["soft_404"] == 1


def test_problems_carry_archive_copies_and_new_addresses():
    h = R.health(*sample())
    by_key = {p.key: p for p in h.problems}
    assert [p.status for p in h.problems] == ["broken", "gone", "soft_404", "drifted",
                                              "redirected"]
    assert by_key["a"].archive_url == "https://web.archive.org/web/2010/a"
    assert by_key["a"].archive_date == "2010-06-01" and by_key["a"].http_status == 404
    # The check found no copy, but the entry has one: the report names it.
    assert by_key["b"].archive_url == "https://web.archive.org/b"
    assert by_key["e"].new_url == "https://e.example/new"
    assert "d" not in by_key and "f" not in by_key   # fine, or only unclear


def test_newest_result_per_link_wins_and_dicts_are_accepted():
    records = [rec("a", "2015", "https://a.example/")]
    older = res("a", "https://a.example/", Status.BROKEN,
                checked_at="2026-01-01T00:00:00+00:00").as_dict()
    newer = res("a", "https://a.example/", Status.OK,
                checked_at="2026-06-01T00:00:00+00:00").as_dict()
    assert R.health(records, [newer, older]).counts["ok"] == 1
    assert R.health(records, [older, newer]).counts["broken"] == 0
    junk = {"key": "a", "url": "https://a.example/", "status": "no-such-status"}
    assert R.health(records, [junk]).unchecked == 1


def test_as_dict_is_json():
    data = json.loads(json.dumps(R.health(*sample()).as_dict()))
    assert data["checked"] == 7 and data["lost"] == 3
    assert data["by_year"][0]["year"] == "2010" and data["by_year"][0]["lost"] == 2
    assert data["problems"][0]["key"] == "a"


# --------------------------------------------------------------------------- the chart

def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)   # raises on anything that is not well-formed


def bars(root: ET.Element) -> dict[str, list[ET.Element]]:
    return {g.get("data-year"): g.findall(f"{SVG}rect")
            for g in root.iter(f"{SVG}g") if g.get("class") == "year"}


def test_chart_bars_add_up_to_the_figures():
    h = R.health(*sample())
    root = parse(R.rot_chart_svg(h, lang="en"))
    found = bars(root)
    assert list(found) == ["2010", "2020", "n.d."]
    for year in h.by_year:
        rects = found[year.year or "n.d."]
        assert sum(int(r.get("data-count")) for r in rects) == year.links
        for r in rects:   # each segment's height is its share of the same full bar
            assert r.get("data-count") == str(year.counts[r.get("data-category")])
        heights = [float(r.get("height")) for r in rects]
        assert sum(heights) == pytest.approx(260, abs=0.05)   # 100 % of the plot
        # Stacked: each segment starts where the one below ends, losses at the bottom.
        ys = [float(r.get("y")) for r in rects]
        assert all(abs(ys[i] - (ys[i + 1] + heights[i + 1])) < 0.05
                   for i in range(len(rects) - 1))
        cats = [r.get("data-category") for r in rects]
        assert cats == sorted(cats, key=R.CATEGORIES.index)
    shares = {r.get("data-category"): float(r.get("height")) for r in found["2010"]}
    assert shares["broken"] == pytest.approx(260 / 4, abs=0.05)


def test_chart_is_accessible_and_labelled():
    root = parse(R.rot_chart_svg(R.health(*sample()), lang="de"))
    assert root.get("role") == "img"
    ids = root.get("aria-labelledby").split()
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert [title.get("id"), desc.get("id")] == ids
    assert title.text == "Linkverfall nach Erscheinungsjahr"
    assert "2010: 4 Links" in desc.text and "nicht gefunden (404/410) 1 (25 %)" in desc.text
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Erscheinungsjahr" in texts and "Anteil der Links" in texts   # axis labels
    assert "100 %" in texts and "o. J." in texts and "n=4" in texts
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "legend")
    assert len(legend.findall(f"{SVG}rect")) == len(R.CATEGORIES)
    # Every bar segment has a tooltip that says what it is.
    tips = [r.find(f"{SVG}title").text for rects in bars(root).values() for r in rects]
    assert "2010: Text verändert: 1 von 4 (25 %)" in tips


def test_hostile_text_stays_text():
    hostile = '<script>alert(1)</script> & "quoted" </svg><!-- ]]>'
    svg = R.rot_chart_svg(R.health(*sample()), title=hostile)
    root = parse(svg)
    assert root.find(f"{SVG}title").text == hostile
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))
    assert "<script>" not in svg


def test_empty_library_gives_a_valid_chart():
    root = parse(R.rot_chart_svg(R.health([], []), lang="en"))
    assert root.find(f"{SVG}desc").text == "No checked links yet."
    assert bars(root) == {}


# --------------------------------------------------------------------------- the CLI

ARTICLE = ("<html><head><title>Artikel</title></head><body><article><p>"
           + "Die Partnerschaft zwischen Kassel und Jaroslawl lebt. " * 20
           + "</p></article></body></html>").encode()


def write_library(bib: Path, entries: list[tuple[str, str, str]]) -> None:
    bib.write_text("".join(
        f"@online{{{key},\n  title = {{Artikel {key}}},\n  date = {{{year}}},\n"
        f"  url = {{{url}}},\n}}\n\n" for key, year, url in entries), encoding="utf-8")


@pytest.fixture
def checked_library(library, http_server, monkeypatch):
    ok = http_server.route("/ok", send(200, ARTICLE))
    dead = http_server.url("/dead")
    copy = f"http://web.archive.org/web/20150101000000/{dead}"
    http_server.route("/wayback/available", send(200, json.dumps({"archived_snapshots": {
        "closest": {"available": True, "url": copy, "timestamp": "20150101000000",
                    "status": "200"}}}).encode(), "application/json"))
    monkeypatch.setenv("CLIPPINGS_WAYBACK_URL", http_server.url(""))
    write_library(library, [("alt", "2015", dead), ("neu", "2023", ok),
                            ("ungeprueft", "2024", http_server.url("/later"))])
    return library, http_server, copy


def test_check_report_writes_the_chart(checked_library, tmp_path):
    library, server, _ = checked_library
    out = tmp_path / "rot.svg"
    result = run("check", "alt", "neu", "--report", str(out), library=library)
    assert result.exit_code == 1                    # a broken link, as without --report
    assert "wrote the link report" in result.stderr
    root = parse(out.read_text(encoding="utf-8"))
    assert {y: [r.get("data-category") for r in rects]
            for y, rects in bars(root).items()} == {"2015": ["broken"], "2023": ["ok"]}
    assert "2 von 3 Links geprüft" in root.find(f"{SVG}desc").text


def test_cached_needs_no_network_and_reports_json(checked_library, tmp_path):
    library, server, copy = checked_library
    run("check", "alt", "neu", library=library)
    hits = sum(server.hits.values())
    out = tmp_path / "health.json"
    result = run("check", "--cached", "--format", "json", "--report", str(out),
                 library=library)
    assert sum(server.hits.values()) == hits        # nothing was fetched
    assert result.exit_code == 1
    assert "1 link not checked yet" in result.stderr
    shown = {r["key"]: r["status"] for r in json.loads(result.stdout)}
    assert shown == {"alt": "broken", "neu": "ok"}
    data = json.loads(out.read_text(encoding="utf-8"))
    assert (data["total"], data["checked"], data["unchecked"]) == (3, 2, 1)
    assert data["problems"][0]["archive_url"] == copy
    assert [y["year"] for y in data["by_year"]] == ["2015", "2023"]


def test_report_refuses_unknown_suffix_before_checking(checked_library, tmp_path):
    library, server, _ = checked_library
    result = run("check", "--report", str(tmp_path / "rot.png"), library=library)
    assert result.exit_code == 2 and "name it .svg" in result.stderr
    assert sum(server.hits.values()) == 0 and not (tmp_path / "rot.png").exists()
    result = run("check", "--report", str(tmp_path / "no" / "rot.svg"), library=library)
    assert result.exit_code == 2 and "no folder" in result.stderr
    assert sum(server.hits.values()) == 0


def test_cached_refuses_options_that_need_a_check(checked_library):
    library, _, _ = checked_library
    result = run("check", "--cached", "--fix", library=library)
    assert result.exit_code == 2 and "--cached does not check" in result.stderr


def test_report_language_follows_the_locale(checked_library, tmp_path, monkeypatch):
    library, _, _ = checked_library
    monkeypatch.setenv("CLIPPINGS_LOCALE", "en-US")
    run("check", "alt", library=library)
    out = tmp_path / "rot.svg"
    assert run("check", "--cached", "--report", str(out), library=library).exit_code == 1
    assert parse(out.read_text(encoding="utf-8")).find(f"{SVG}title").text == \
        "Link rot by year of publication"


def test_decades_of_years_fit_a_page():
    records = [rec(f"k{y}", str(y), f"https://h.example/{y}") for y in range(1985, 2026)]
    results = [res(f"k{y}", f"https://h.example/{y}", Status.BROKEN if y % 3 else Status.OK)
               for y in range(1985, 2026)]
    root = parse(R.rot_chart_svg(R.health(records, results), lang="en"))
    assert len(bars(root)) == 41
    assert int(root.get("width")) <= 1000
    labels = [t.text for t in root.iter(f"{SVG}text") if (t.text or "").isdigit()]
    assert "1985" in labels and 5 <= len(labels) < 41    # every k-th year, not a smear


def test_cached_before_any_check(library, tmp_path):
    write_library(library, [("a", "2019", "https://a.example/"),
                            ("b", "2020", "https://b.example/")])
    out = tmp_path / "rot.svg"
    result = run("check", "--cached", "--report", str(out), library=library)
    assert result.exit_code == 0
    assert "2 links not checked yet" in result.stderr and "0 links checked" in result.stdout
    root = parse(out.read_text(encoding="utf-8"))
    assert bars(root) == {} and "Noch keine geprüften Links" in root.find(f"{SVG}desc").text
