""""Similar clippings" (the entry page's list) from either search backend: Whoosh, and
PostgreSQL against a real server (`postgres_url`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clippings.config import load_settings
from clippings.library import Library
from clippings.search import similar
from webhelpers import make_client, make_library

ENTRIES = {
    # key: (title, keywords)
    "base": ("Schüleraustausch zwischen Kassel und Jaroslawl", "partnerstadt"),
    "close": ("Jaroslawl und Kassel: zwanzig Jahre Schüleraustausch", "partnerstadt"),
    "some": ("Ein Schüleraustausch mit Frankreich", ""),
    "other": ("Haushaltsdebatte im Stadtparlament", "finanzen"),
    "other2": ("Neue Straßenbahnlinie eröffnet", "verkehr"),
}


def _write(folder: Path, backend: str) -> Path:
    bib = folder / "library.bib"
    bib.write_text("".join(
        f"@online{{{key},\n  title = {{{title}}},\n  date = {{2019-05-0{i + 1}}},\n"
        + (f"  keywords = {{{kw}}},\n" if kw else "") + "}\n\n"
        for i, (key, (title, kw)) in enumerate(ENTRIES.items())), encoding="utf-8")
    if backend != "whoosh":
        (folder / "clippings.toml").write_text(
            f'search_backend = "{backend}"\nsearch_schema = "sim_{folder.name[-40:]}"\n',
            "utf-8")
    return bib


@pytest.fixture(params=["whoosh", "postgresql"])
def backend(request):
    if request.param == "whoosh":
        return "whoosh"
    return request.getfixturevalue("postgres_url")


def test_the_entry_sharing_most_rare_words_comes_first(tmp_path, backend):
    bib = _write(tmp_path, backend)
    settings = load_settings(tmp_path)
    rec = Library.load(bib, settings).record("base")
    keys = [h.key for h in similar(bib, rec, 5, settings)]
    assert keys[:2] == ["close", "some"]      # shares four terms, then one
    assert "base" not in keys and "other" not in keys and "other2" not in keys
    first = similar(bib, rec, 1, settings)[0]
    assert first.title == ENTRIES["close"][0] and first.date == "2019-05-02"


def test_an_entry_with_nothing_in_common_has_no_similar_ones(tmp_path, backend):
    bib = _write(tmp_path, backend)
    settings = load_settings(tmp_path)
    assert similar(bib, Library.load(bib, settings).record("other2"), 5, settings) == []
    assert similar(bib, Library.load(bib, settings).record("base"), 0, settings) == []


def test_the_entry_page_lists_similar_clippings_with_postgresql(tmp_path, postgres_url):
    bib = make_library(tmp_path)
    (tmp_path / "clippings.toml").write_text(
        f'search_backend = "{postgres_url}"\nsearch_schema = "sim_web"\n', "utf-8")
    with make_client(bib) as client:
        found = client.get("/entry/lohse2017dossier/similar.json")
        assert found.status_code == 200, found.text
        keys = [h["key"] for h in found.json()]
        assert keys and "lohse2017dossier" not in keys
        fragment = client.get("/entry/lohse2017dossier/similar",
                              headers={"X-Fragment": "1"}).text
        assert f'href="/entry/{keys[0]}"' in fragment
    # by and large the entries the Whoosh index finds (the scores differ in detail)
    whoosh = tmp_path / "w"
    whoosh.mkdir()
    other = make_library(whoosh)
    with make_client(other) as client:
        by_whoosh = [h["key"] for h in client.get(
            "/entry/lohse2017dossier/similar.json").json()]
    assert len(set(keys) & set(by_whoosh)) >= 4 and keys[0] in by_whoosh


def test_a_large_library_scores_only_candidates_and_finds_the_same(tmp_path, postgres_url,
                                                                   monkeypatch):
    """Scoring reads every scored entry's tsvector, so PostgreSQL scores candidates only,
    found by trying the sets of the entry's rarest words heaviest first. The list is
    the one that scoring every entry gives (among equal scores, in the index's order):
    entries holding a rarer set of three words come before the many holding a commoner
    set of three, wherever they lie in the table."""
    import math
    from clippings.search import pg
    groups = [("Birnbaum Kirschbaum Dattelpalme", 120), ("Apfelbaum Birnbaum Kirschbaum", 4),
              ("Apfelbaum", 30), ("Birnbaum", 150), ("Kirschbaum", 150), ("Dattelpalme", 150),
              ("Holunder", 100)]
    lines = ["@article{target,\n  title = {Apfelbaum Birnbaum Kirschbaum Dattelpalme},\n}\n"]
    titles = {}
    for g, (words, count) in enumerate(groups):
        for i in range(count):
            titles[f"g{g}n{i}"] = words
            lines.append(f"@article{{g{g}n{i},\n  title = {{{words} Notiz}},\n}}\n")
    (tmp_path / "library.bib").write_text("\n".join(lines), "utf-8")
    (tmp_path / "clippings.toml").write_text(
        f'search_backend = "{postgres_url}"\nsearch_schema = "sim_large"\n', "utf-8")
    bib = tmp_path / "library.bib"
    settings = load_settings(tmp_path)
    rec = Library.load(bib, settings).record("target")
    # every entry scored: the sum of log(1 + N / df) over the target's words it holds
    words = ["Apfelbaum", "Birnbaum", "Kirschbaum", "Dattelpalme"]
    df = {w: 1 + sum(w in t.split() for t in titles.values()) for w in words}
    weight = {w: math.log(1 + (len(titles) + 1) / df[w]) for w in words}
    scored = sorted(((-sum(weight[w] for w in words if w in t.split()), key)
                     for key, t in titles.items()))
    expected = [key for _, key in scored[:5]]
    assert expected == [f"g1n{i}" for i in range(4)] + ["g0n0"]   # the rarer set first
    monkeypatch.setattr(pg, "SIMILAR_BATCH", 2)    # a few sets per statement
    found = similar(bib, rec, 5, settings)
    # the 120 entries of the commoner set tie: which of them comes is the index's order
    assert [h.key for h in found][:4] == expected[:4] and found[4].key.startswith("g0n")
    assert [round(h.score, 6) for h in found] == [round(-score, 6) for score, _ in scored[:5]]
