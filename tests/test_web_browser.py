"""The web interface in a real browser: Debian's Chromium driven by Playwright.

The app runs under uvicorn on 127.0.0.1 in a thread. In CI (CLIPPINGS_CI=1) a missing
Chromium or Playwright is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from servers import send
from webhelpers import PASSWORD, make_library

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(os.environ.get("CLIPPINGS_SCREENSHOTS", "")) if \
    os.environ.get("CLIPPINGS_SCREENSHOTS") else None
KEY = "lohse2017dossier"


def _need_browser():
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install -e '.[test]')")
    if missing:
        message = "browser tests need " + " and ".join(missing)
        if os.environ.get("CLIPPINGS_CI") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A library with a hostile snapshot, served by uvicorn on a free loopback port."""
    _need_browser()
    import uvicorn
    from clippings.config import load_settings
    from clippings.web.app import create_app
    folder = tmp_path_factory.mktemp("web")
    bib = make_library(folder)
    snap = folder / "snapshots" / KEY
    snap.mkdir(parents=True)
    (snap / "page.html").write_text(
        "<html><body><h1 id='h'>Hostile page</h1>"
        "<script>document.getElementById('h').textContent='script ran';"
        "try{parent.document.title='pwned'}catch(e){}"
        "try{top.location='http://example.invalid/'}catch(e){}</script></body></html>",
        encoding="utf-8")
    (snap / "text.txt").write_text("Der Text des Dossiers über Städtepartnerschaften.\n",
                                   encoding="utf-8")
    (snap / "meta.json").write_text(json.dumps({"requested_url": "https://de.rbth.com/x",
                                                "fetched_at": "2017-06-26T10:00:00+00:00",
                                                "status": 200}), encoding="utf-8")
    settings = load_settings(folder)
    settings.allow_private_addresses = True   # the test pages live on 127.0.0.1
    app = create_app(bib, settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.025)
    yield f"http://127.0.0.1:{port}", bib
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site[0])
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, errors


def shot(pg, name: str, full: bool = True) -> None:
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def log_in(pg, base):
    pg.goto(base + "/login")
    pg.get_by_label("Benutzer").fill("anna")
    pg.get_by_label("Passwort").fill(PASSWORD)
    pg.get_by_role("button", name="Anmelden").click()
    pg.wait_for_url(base + "/")


def test_search_and_facet(page, site):
    base, _ = site
    page.goto(base + "/")
    shot(page, "browse")
    page.get_by_role("searchbox", name="Suche").first.fill("Partnerschaft")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=Partnerschaft")
    count = page.locator(".count").inner_text()
    assert " von " in count
    assert page.locator(".snippet mark").count() > 0
    assert page.locator(".hit h2 mark").count() > 0     # in titles too
    shot(page, "search", full=False)
    page.locator(".facet").filter(has_text="Typ").get_by_role("link").filter(
        has_text="Artikel").click()
    page.wait_for_url("**type=article**")
    types = page.locator(".hit .type").all_text_contents()
    assert types and set(types) == {"Artikel"}     # the type in words, German first
    assert page.locator(".chip").count() == 1
    assert int(page.locator(".count").inner_text().split(" von ")[1]) < int(
        count.split(" von ")[1])


def test_open_entry_and_hostile_snapshot_scripts_do_not_run(page, site):
    base, _ = site
    page.goto(base + "/")
    page.get_by_role("link", name="Dossier: Deutsch-russische Städtepartnerschaften").click()
    page.wait_for_url(f"**/entry/{KEY}")
    assert page.locator("h1").inner_text().startswith("Dossier")
    frame = page.frame_locator("iframe.snapframe")
    assert frame.locator("#h").inner_text() == "Hostile page"   # the script did not run
    assert page.title() != "pwned" and page.url.startswith(base)
    page.locator(".similar li").first.wait_for()    # loaded after the page
    assert page.locator(".similar li").count() >= 1
    shot(page, "entry")
    # Opened directly, the snapshot is still sandboxed by its CSP header.
    page.goto(f"{base}/snapshot/{KEY}/page.html")
    assert page.locator("#h").inner_text() == "Hostile page"


def test_log_in_and_out(page, site):
    base, _ = site
    page.goto(base + "/login")
    shot(page, "login", full=False)
    page.get_by_label("Benutzer").fill("anna")
    page.get_by_label("Passwort").fill("wrong password")
    page.get_by_role("button", name="Anmelden").click()
    assert "falsch" in page.locator(".alert").inner_text()
    log_in(page, base)
    assert page.get_by_role("link", name="+ Hinzufügen").is_visible()
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(base + "/")
    assert page.get_by_role("link", name="Anmelden").is_visible()
    assert page.get_by_role("link", name="+ Hinzufügen").count() == 0


def test_add_by_url_and_confirm(page, site, http_server):
    base, bib = site
    url = http_server.route("/artikel", send(200, """<html lang="de"><head>
<meta property="og:title" content="Schüleraustausch zwischen Kassel und Jaroslawl">
<meta name="author" content="Erika Muster"><meta property="og:site_name" content="HNA">
<meta property="article:published_time" content="2019-05-04"></head><body><article>
<h1>Schüleraustausch zwischen Kassel und Jaroslawl</h1>
<p>Zwanzig Schülerinnen und Schüler aus Jaroslawl sind für zwei Wochen zu Gast in Kassel.</p>
</article></body></html>""".encode()))
    log_in(page, base)
    page.get_by_role("link", name="+ Hinzufügen").click()
    page.get_by_label("URL, DOI oder ISBN").fill(url)
    shot(page, "add", full=False)
    page.get_by_role("button", name="Abrufen").click()
    page.wait_for_url("**/add/proposal/**")
    assert page.get_by_role("textbox", name="Titel", exact=True).input_value() == \
        "Schüleraustausch zwischen Kassel und Jaroslawl"
    assert "Zwanzig Schülerinnen" in page.locator("blockquote.first").inner_text()
    page.get_by_role("textbox", name="Schlagwörter", exact=True).fill("austausch")
    shot(page, "proposal")
    page.get_by_role("button", name="Eintrag speichern").click()
    page.wait_for_url("**/entry/**")
    assert "Gespeichert" in page.locator(".flash").inner_text()
    assert "Schüleraustausch zwischen Kassel und Jaroslawl" in bib.read_text("utf-8")


def test_edit_with_a_validation_error_then_fix(page, site):
    base, bib = site
    log_in(page, base)
    page.goto(f"{base}/entry/{KEY}/edit")
    page.get_by_role("textbox", name="Datum", exact=True).fill("26.06.2017")
    page.get_by_role("textbox", name="Notiz", exact=True).fill("Mit Karte")
    page.get_by_role("button", name="Speichern").click()
    error = page.locator("#e-date")
    assert "invalid date" in error.inner_text()
    date = page.get_by_role("textbox", name="Datum", exact=True)
    assert date.get_attribute("aria-invalid") == "true"
    assert date.get_attribute("aria-describedby") == "h-date e-date"   # hint and error
    note = page.get_by_role("textbox", name="Notiz", exact=True)
    assert note.input_value() == "Mit Karte"   # input kept
    assert "Mit Karte" not in bib.read_text("utf-8")
    shot(page, "edit-error")
    page.get_by_role("textbox", name="Datum", exact=True).fill("2017-06-27")
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url(f"**/entry/{KEY}?message=saved")
    text = bib.read_text("utf-8")
    assert "2017-06-27" in text and "Mit Karte" in text


def test_copy_a_citation_and_download_an_export(page, site):
    base, _ = site
    page.goto(base + "/?q=Dossier")
    page.locator(".hit input[type=checkbox]").first.check()
    page.get_by_role("button", name="Zitieren & exportieren").click()
    page.wait_for_url("**/cite?**")
    page.get_by_label("Zitierstil").fill("apa")
    page.get_by_role("button", name="Formatieren").click()
    page.wait_for_url("**style=apa**")
    citation = page.locator("#citation-text").inner_text()
    assert citation.startswith("(") and "2017" in citation
    shot(page, "cite")
    page.locator("[data-copy=citation-text]").click()
    page.wait_for_function("document.getElementById('copy-status').textContent !== ''")
    assert page.evaluate("navigator.clipboard.readText()") == citation
    with page.expect_download() as info:
        page.get_by_role("link", name="ris").click()
    download = info.value
    assert download.suggested_filename == "clippings.ris"
    content = Path(download.path()).read_text("utf-8")
    assert content.startswith("TY  -") and "Lohse" in content


def test_phone_layout(browser, site):
    base, _ = site
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844},
                                  is_mobile=True)
    pg = context.new_page()
    pg.goto(base + "/?q=Partnerschaft")
    assert pg.get_by_role("button", name="Search").first.is_visible()
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= 390     # nothing runs off the side of the screen
    shot(pg, "phone", full=False)
    context.close()


def test_keyboard_reaches_the_search_and_results(page, site):
    base, _ = site
    page.goto(f"{base}/entry/{KEY}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "top-q"
    page.keyboard.type("Wolgograd")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=Wolgograd**")
    # the results page puts the cursor in its search box (autofocus, applied just after load)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'q'")
    page.keyboard.press("Tab")       # from the search box on: the first result is reachable
    for _ in range(4):
        if page.evaluate("document.activeElement.closest('.hit') !== null"):
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.hit') !== null")


def test_link_health_page_with_its_chart(page, site, http_server):
    from click.testing import CliRunner
    from clippings.cli import main
    base, bib = site
    gone = http_server.route("/weg", send(410, b"gone"))
    CliRunner().invoke(main, ["--library", str(bib), "set", "rutz2011geschenk",
                              f"url={gone}"])
    log_in(page, base)
    page.goto(f"{base}/entry/rutz2011geschenk")
    page.get_by_role("button", name="Link jetzt prüfen").click()
    page.wait_for_url("**/entry/rutz2011geschenk#links")
    assert page.locator("#links .badge").first.inner_text() == "nicht gefunden"
    page.get_by_role("link", name="Links", exact=True).click()
    page.wait_for_url(base + "/links")
    chart = page.locator("img.chart")
    assert "2011" in chart.get_attribute("alt")
    page.wait_for_function("document.querySelector('img.chart').naturalWidth > 0")
    assert page.locator(".problems").get_by_role("link", name="Geschenk der Versöhnung"
                                                 ).is_visible()
    shot(page, "links")


def test_form_fields_have_human_labels_on_a_phone(browser, site):
    """Labels name the field in German (the BibTeX name beside it), every input has one,
    and the edit form fits a 390 px screen."""
    base, _ = site
    context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844},
                                  is_mobile=True)
    pg = context.new_page()
    log_in(pg, base)
    pg.goto(f"{base}/entry/{KEY}/edit")
    assert pg.get_by_role("textbox", name="Titel", exact=True).get_attribute("id") == "f-title"
    journal = pg.get_by_role("textbox", name="Zeitung oder Zeitschrift", exact=True)
    assert journal.get_attribute("name") == "journaltitle"
    caption = pg.locator("label[for=f-journaltitle]")
    assert caption.locator(".field-name").inner_text() == "journaltitle"
    assert caption.locator(".field-name").is_visible()
    assert pg.evaluate("""[...document.querySelectorAll(
        'main form input:not([type=hidden]), main form textarea')].every(
        i => i.labels.length === 1 && i.labels[0].textContent.trim() !== '')""")
    assert pg.get_by_role("textbox", name="Datum", exact=True).get_attribute(
        "aria-describedby") == "h-date"     # the expected format is read out too
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    shot(pg, "edit-phone")
    pg.goto(f"{base}/entry/{KEY}")
    assert pg.locator("dt").filter(has_text="Zeitung oder Zeitschrift").count() == 1
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    shot(pg, "entry-phone")
    context.close()


def _luminance(rgb: str) -> float:
    import re
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _tab_to(page, test: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {test}; }})()"):
            return
    raise AssertionError(f"Tab never reached {test}")


def test_checkboxes_have_a_clearly_visible_focus_ring(page, site):
    """WCAG 2.2 focus appearance: the ring contrasts at least 3:1 with the white around it."""
    base, _ = site
    page.goto(base + "/?q=Partnerschaft")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'q'")
    for target in ("el.closest('.hit') !== null && el.type === 'checkbox'",
                   "el.id === 'all-results'"):
        _tab_to(page, target)
        ring = page.evaluate("""(() => { const el = document.activeElement,
            s = getComputedStyle(el); return [el.matches(':focus-visible'), s.outlineStyle,
            parseFloat(s.outlineWidth), s.outlineColor]; })()""")
        visible, style, width, colour = ring
        assert visible and style == "solid" and width >= 2, ring
        ratio = (1.0 + 0.05) / (_luminance(colour) + 0.05)
        assert ratio >= 3, (colour, ratio)


def test_the_sort_box_steps_with_the_arrow_keys_and_applies_on_enter(page, site):
    base, _ = site
    page.goto(base + "/")
    _tab_to(page, "el.id === 'sort'")
    before = page.url
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(300)          # time for a (wrong) reload to start
    assert page.url == before
    assert page.evaluate("document.activeElement.id") == "sort"
    page.keyboard.press("ArrowDown")    # the keyboard user steps on to the next option
    chosen = page.evaluate("document.activeElement.value")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"sort={chosen}" in page.url
    page.wait_for_load_state("load")
    page.wait_for_timeout(100)          # past the search box's autofocus
    assert page.evaluate("document.activeElement.id") == "sort"   # focus stays put
    assert page.locator("#sort").input_value() == chosen
    # a pick with the mouse still applies at once
    with page.expect_navigation():
        page.locator("#sort").select_option("newest")
    assert "sort=newest" in page.url


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_the_link_history_is_not_hidden_under_the_top_bar(browser, site, width, height):
    """The link check redirects to #links: the heading shows below the sticky bar (which
    wraps to a taller one on a phone)."""
    base, _ = site
    context = browser.new_context(locale="de-DE", viewport={"width": width, "height": height})
    page = context.new_page()
    log_in(page, base)
    page.goto(f"{base}/entry/{KEY}#links")
    page.wait_for_load_state("load")
    bar = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().bottom")
    heading = page.evaluate("document.getElementById('h-links').getBoundingClientRect().top")
    assert page.evaluate("window.scrollY") > 0
    assert heading >= bar, (heading, bar)
    context.close()
