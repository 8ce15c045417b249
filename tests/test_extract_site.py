"""The publication's name comes from what the page says about itself, the host only last.

Each fixture in tests/fixtures/pages/site is a small hand-written page naming its
publication in one place only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clippings.extract import html

SITE = Path(__file__).parent / "fixtures" / "pages" / "site"
URL = "https://www.bote-online.example/lokales/haushalt.html"


def _extract(name: str, url: str = URL, **kwargs):
    return html.extract((SITE / name).read_bytes(), url, with_text=False, **kwargs)


@pytest.mark.parametrize("fixture, source", [
    ("title_suffix.html", "title"),
    ("og_site_name.html", "opengraph"),
    ("jsonld_publisher.html", "jsonld-publisher"),
    ("logo_alt.html", "logo"),
    ("copyright.html", "copyright"),
    ("application_name.html", "application-name"),
])
def test_publication_named_by_the_page_beats_the_host(fixture, source):
    found = _extract(fixture)
    assert found.record.fields["journaltitle"] == "Aachener Bote"
    assert found.sources["journaltitle"] == source
    assert found.record.fields["title"] == "Rat beschließt Haushalt"


def test_partner_logos_inside_the_article_are_not_the_publication():
    found = _extract("logo_alt.html")
    assert "Partnerverlag" not in found.record.fields["journaltitle"]


def test_host_is_spelled_as_the_page_spells_it():
    url = "https://www.oekolandbau.de/landwirtschaft/humus/"
    assert _extract("host_spelled.html", url).record.fields["journaltitle"] == "Ökolandbau.de"
    assert _extract("names_nothing.html", url).record.fields["journaltitle"] == "oekolandbau.de"


def test_each_rule_can_be_switched_off_for_measuring():
    # The benchmarks leave rules out one at a time; without the logo rule the host is all
    # that is left on this page.
    found = _extract("logo_alt.html", rules=html.RULES - {"logo_alt"})
    assert found.record.fields["journaltitle"] == "bote-online.example"


@pytest.mark.parametrize("site_name, expected", [
    (".:: NMB-MEDIA ::.", "NMB-MEDIA"),
    ("Osthessen|News", "Osthessen|News"),
    ("Tegernseer Stimme - Nachrichten aus dem Tal", "Tegernseer Stimme"),
    ("Deutscher Turner-Bund e.V.", "Deutscher Turner-Bund"),
])
def test_site_names_are_cleaned_as_a_reader_writes_them(site_name, expected):
    page = (f'<html><head><meta property="og:site_name" content="{site_name}">'
            '<title>Neue Halle eröffnet</title></head><body><h1>Neue Halle eröffnet</h1>'
            '<p>Die Halle steht allen Vereinen offen.</p></body></html>')
    found = html.extract(page, "https://www.tegernseerstimme.example/halle", with_text=False)
    assert found.record.fields["journaltitle"] == expected


def test_a_person_named_like_the_host_is_the_publisher():
    page = ('<html><head><title>Neue Halle eröffnet</title><script type="application/ld+json">'
            '{"@type": "NewsArticle", "headline": "Neue Halle eröffnet", "author": '
            '{"@type": "Person", "name": "OÖ Volksblatt"}}</script></head><body>'
            '<h1>Neue Halle eröffnet</h1><p>Die Halle steht allen Vereinen offen. OÖ Volksblatt'
            '</p></body></html>')
    found = html.extract(page, "https://volksblatt.example/halle", with_text=False)
    assert "author" not in found.record.names


def test_generic_title_tag_gives_way_to_the_heading():
    page = ('<html><head><title>Startseite</title></head><body><h1>Zu Gast in Twer</h1>'
            '<p>Eine Woche lang waren zwölf Jugendliche in der Partnerstadt.</p></body></html>')
    found = html.extract(page, "https://www.verein.example/", with_text=False)
    assert found.record.fields["title"] == "Zu Gast in Twer"


def test_section_names_in_the_title_tag_are_not_the_headline():
    page = ('<html><head><title>Vereinsblog » Blog Archiv » Zu Gast in Twer</title></head>'
            '<body><h1>Vereinsblog</h1><p>Eine Woche lang waren zwölf Jugendliche in der '
            'Partnerstadt.</p></body></html>')
    found = html.extract(page, "https://www.vereinsblog.example/twer", with_text=False)
    assert found.record.fields["title"] == "Zu Gast in Twer"


def test_headline_styled_as_such_when_the_h1_is_a_breadcrumb():
    page = ('<html><head><title>Graffiti in Beuel | Bote</title>'
            '<meta property="og:title" content="Was hinter dem neuen Wandbild steckt"></head>'
            '<body><ol class="breadcrumb"><li><a href="/">Start</a></li><li><h1>Graffiti in '
            'Beuel</h1></li></ol><article><h2 class="article-headline">Was hinter dem neuen '
            'Wandbild steckt</h2><p>Seit kurzem schmückt ein Wandbild die Fassade.</p>'
            '</article></body></html>')
    found = html.extract(page, "https://www.bote.example/beuel/graffiti", with_text=False)
    assert found.record.fields["title"] == "Was hinter dem neuen Wandbild steckt"


def test_byline_after_its_dateline_and_right_below_the_headline():
    page = ('<html><head><title>Zu Gast in Twer</title></head><body><article>'
            '<h1>Zu Gast in Twer</h1><p class="post-byline">29. Juni 2017, 23:39 · von '
            '<a href="/autor/tobi">Tobias Beispiel</a></p><p>Eine Woche lang waren zwölf '
            'Jugendliche in der Partnerstadt.</p></article></body></html>')
    found = html.extract(page, "https://www.verein.example/twer", with_text=False)
    assert [str(n) for n in found.record.names["author"]] == ["Beispiel, Tobias"]
    below = ('<html><head><title>Zu Gast in Twer</title></head><body><h1>Zu Gast in Twer</h1>'
             '<div class="teaser-row"><span class="teaser-cat">von Andrea Beispiel</span></div>'
             '<p>Eine Woche lang waren zwölf Jugendliche in der Partnerstadt.</p></body></html>')
    found = html.extract(below, "https://www.verein.example/twer", with_text=False)
    assert [str(n) for n in found.record.names["author"]] == ["Beispiel, Andrea"]


def test_an_address_as_site_name_yields_to_the_name_the_page_states():
    page = ('<html><head><meta property="og:site_name" content="die-tagespost.example">'
            '<title>Neue Halle eröffnet | Die Tagespost</title></head><body>'
            '<h1>Neue Halle eröffnet</h1><p>Die Halle steht allen Vereinen offen.</p>'
            '</body></html>')
    found = html.extract(page, "https://www.die-tagespost.example/halle", with_text=False)
    assert found.record.fields["journaltitle"] == "Die Tagespost"
    logo = ('<html><head><meta property="og:site_name" content="www.bike-magazin.example">'
            '<title>Neue Strecke</title></head><body><header><a href="/"><img src="/k.svg" '
            'alt="BIKE - Das Mountainbike Magazin"></a></header><h1>Neue Strecke im Harz</h1>'
            '<p>Die Strecke ist 40 Kilometer lang.</p></body></html>')
    found = html.extract(logo, "https://www.bike-magazin.example/harz", with_text=False)
    assert found.record.fields["journaltitle"] == "BIKE"
    own = ('<html><head><meta property="og:site_name" content="mobilsicher.example">'
           '<title>Neue Strecke - mobilsicher.example</title></head><body><header><a href="/">'
           '<img class="logo" src="/k.svg" alt="Mobilsicher-Logo"></a></header>'
           '<h1>Neue Strecke im Harz</h1><p>Die Strecke ist 40 Kilometer lang.</p></body></html>')
    found = html.extract(own, "https://mobilsicher.example/harz", with_text=False)
    assert found.record.fields["journaltitle"] == "mobilsicher.example"
