"""The static site's in-page search, driven in a real browser (Debian's Chromium through
Playwright), opened from file:// as someone would open a downloaded copy.

Needs /usr/bin/chromium and the playwright package (a test extra); never `playwright
install`. Skipped when they are missing, except in CI (CLIPPINGS_CI=1), where that fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from helpers import run

CHROMIUM = os.environ.get("CLIPPINGS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _unavailable(reason: str):
    if os.environ.get("CLIPPINGS_CI") == "1":
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


LIBRARY = r"""
@article{koeln2016,
  title = {Städtepartnerschaft mit Wolgograd gefeiert},
  journaltitle = {Kölner Stadt-Anzeiger}, entrysubtype = {newspaper},
  date = {2016-05-02}, url = {https://ksta.example/wolgograd},
  keywords = {jubiläum},
}
@online{ru2018,
  title = {Волгоград и Кёльн: 30 лет дружбы},
  date = {2018-09-01}, url = {https://v1.example/volgograd}, langid = {russian},
}
@online{jaroslawl2011,
  title = {Kassel und Jaroslawl},
  date = {2011}, url = {https://hna.example/kassel},
}
@misc{evil,
  title = {<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>},
  date = {2020}, url = {javascript:window.pwned=3},
}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lib")
    bib = folder / "library.bib"
    bib.write_text(LIBRARY, encoding="utf-8")
    out = folder / "public"
    result = run("site", "-o", str(out), library=bib)
    assert result.exit_code == 0, result.output
    return out / "index.html"


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    pg.goto(site.as_uri())
    pg.wait_for_selector("#q", state="visible")
    yield pg
    context.close()


def visible_keys(pg) -> list[str]:
    return sorted(pg.eval_on_selector_all(
        "li.ref", "els => els.filter(e => !e.hidden && e.offsetParent !== null)"
                  ".map(e => e.dataset.key)"))


def search(pg, text: str) -> list[str]:
    pg.fill("#q", text)
    # The filter runs shortly after typing; the count line says when it has.
    pg.wait_for_function("q => new URL(location.href).searchParams.get('q') === q"
                         " || (q === '' && !location.search)", arg=text.strip())
    return visible_keys(pg)


def test_search_folds_umlauts_and_spellings(page):
    assert visible_keys(page) == ["evil", "jaroslawl2011", "koeln2016", "ru2018"]
    assert page.text_content("#count") == "4 Einträge"
    for query in ("Städtepartnerschaft", "staedtepartnerschaft", "STADTEPARTNERSCHAFT"):
        assert search(page, query) == ["koeln2016"], query
    assert page.text_content("#count") == "1 von 4 Einträge"
    assert search(page, "Kölner 2016") == ["koeln2016"]      # every word must match
    assert search(page, "Koelner 2011") == []
    assert page.is_visible("#none")
    assert page.is_hidden("section#type-newspaper")        # empty sections disappear
    assert search(page, "jubilaeum") == ["koeln2016"]       # keywords are searched too
    assert search(page, "") == ["evil", "jaroslawl2011", "koeln2016", "ru2018"]
    assert page.is_hidden("#none")


def test_search_across_cyrillic_and_latin(page):
    assert search(page, "Wolgograd") == ["koeln2016", "ru2018"]
    assert search(page, "Volgograd") == ["koeln2016", "ru2018"]
    assert search(page, "Волгоград") == ["koeln2016", "ru2018"]
    assert search(page, "Ярославль") == ["jaroslawl2011"]
    assert search(page, "Кёльн") == ["ru2018"]
    assert search(page, "Yaroslavl") == ["jaroslawl2011"]   # w = v, j = y
    assert page.errors == []


def test_query_in_the_address_is_applied(browser, site):
    pg = browser.new_page()
    pg.goto(site.as_uri() + "?q=kassel")
    pg.wait_for_selector("#q", state="visible")
    assert pg.input_value("#q") == "kassel"
    assert visible_keys(pg) == ["jaroslawl2011"]
    pg.close()


def test_hostile_entry_never_runs(page):
    assert page.evaluate("typeof window.pwned") == "undefined"
    text = page.text_content('li[data-key="evil"]')
    assert '<img src=x onerror="window.pwned=1">' in text
    assert search(page, "onerror") == ["evil"]
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    assert hrefs and not [h for h in hrefs if not h.startswith(("https:", "http:", "file:"))]
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.errors == []


def test_keyboard_and_labels(page):
    assert page.evaluate("document.querySelector('label[for=q]').textContent") == "Suchen"
    page.keyboard.press("Tab")   # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip"
    page.focus("#q")
    page.keyboard.type("kassel")
    page.wait_for_function("() => new URL(location.href).searchParams.get('q') === 'kassel'")
    assert visible_keys(page) == ["jaroslawl2011"]
    assert page.get_attribute("#count", "role") == "status"


def test_phone_width_needs_no_sideways_scrolling(browser, site):
    pg = browser.new_page(viewport={"width": 360, "height": 740})
    pg.goto(site.as_uri())
    pg.wait_for_selector("#q", state="visible")
    assert pg.evaluate("() => document.documentElement.scrollWidth") <= 360
    box = pg.locator("#q").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    pg.close()


def test_health_chart_is_drawn(browser, tmp_path):
    from clippings import links_cache
    bib = tmp_path / "library.bib"
    bib.write_text(LIBRARY, encoding="utf-8")
    links_cache.save(tmp_path, [
        {"key": "koeln2016", "field": "url", "url": "https://ksta.example/wolgograd",
         "status": "broken", "checked_at": "2026-11-01T10:00:00+00:00"},
        {"key": "ru2018", "field": "url", "url": "https://v1.example/volgograd",
         "status": "ok", "checked_at": "2026-11-01T10:00:00+00:00"}])
    assert run("site", "-o", str(tmp_path / "out"), "--health", library=bib).exit_code == 0
    pg = browser.new_page()
    pg.goto((tmp_path / "out" / "index.html").as_uri())
    chart = pg.locator("#health svg")
    assert chart.is_visible() and chart.bounding_box()["height"] > 200
    assert pg.locator('li[data-key="koeln2016"] .badge').text_content() == "nicht gefunden"
    assert pg.get_attribute("#health svg", "aria-labelledby") == "rot-title rot-desc"
    pg.close()
