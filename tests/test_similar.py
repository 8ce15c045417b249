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
    """Scoring reads every scored entry's tsvector, so PostgreSQL scores candidates only:
    entries holding the most of the chosen words and those holding the rarest. With
    the candidate numbers far below the matches, the best entries are still found."""
    from clippings.search import pg
    words = ("Alpha", "Sigma", "Gamma", "Delta")
    lines = ["@article{target,\n  title = {Alpha Sigma Gamma Delta Epsilon},\n}\n"]
    for i in range(600):
        title = " ".join(w for w, n in zip(words, (2, 3, 5, 7)) if i % n == 0)
        lines.append(f"@article{{e{i},\n  title = {{{title} Chronik {i}}},\n}}\n")
    lines += [f"@article{{rare{n},\n  title = {{Epsilon Notiz {n}}},\n}}\n" for n in (1, 2)]
    (tmp_path / "library.bib").write_text("\n".join(lines), "utf-8")
    (tmp_path / "clippings.toml").write_text(
        f'search_backend = "{postgres_url}"\nsearch_schema = "sim_large"\n', "utf-8")
    bib = tmp_path / "library.bib"
    settings = load_settings(tmp_path)
    rec = Library.load(bib, settings).record("target")
    every = [(h.key, round(h.score, 6)) for h in similar(bib, rec, 5, settings)]
    # the four common words weigh more together than the rare one alone
    assert [key for key, _ in every] == ["e0", "e210", "e420", "rare1", "rare2"]
    monkeypatch.setattr(pg, "SIMILAR_CANDIDATES", 20)   # Epsilon's entries, not Delta's
    monkeypatch.setattr(pg, "SIMILAR_LEVEL", 4)
    assert [(h.key, round(h.score, 6)) for h in similar(bib, rec, 5, settings)] == every
