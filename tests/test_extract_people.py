"""Bylines -> names; agencies and desks are not persons."""

from __future__ import annotations

import pytest

from clippings.extract import people
from clippings.model import Name


@pytest.mark.parametrize("byline, expected", [
    ("Von Anna Muster", ["Muster, Anna"]),
    ("Von Anna Muster und Jan Beispiel, Berlin", ["Muster, Anna", "Beispiel, Jan"]),
    ("By Mary O'Neill and Tom Baker", ["O'Neill, Mary", "Baker, Tom"]),
    ("Автор: Иван Петров и Мария Сидорова", ["Петров, Иван", "Сидорова, Мария"]),
    ("Von Anna Muster, dpa", ["Muster, Anna"]),
    ("Text: Jan-Peter von Beispiel | 12.03.2020", ["von Beispiel, Jan-Peter"]),
    ("Von Prof. Dr. Lena Krüger, Korrespondentin in Wien", ["Krüger, Lena"]),
    ("Anna Muster (Text) und Max Fischer (Fotos)", ["Muster, Anna", "Fischer, Max"]),
])
def test_parse_byline(byline, expected):
    assert [str(n) for n in people.parse_byline(byline)] == expected


@pytest.mark.parametrize("credit", ["© Kathrin Führes", "Foto: Anna Muster", "Bild: dpa"])
def test_picture_credits_are_not_bylines(credit):
    assert people.parse_byline(credit) == []


def test_agency_only_byline_is_an_organisation():
    assert people.parse_byline("(dpa)") == [Name(family="dpa", literal=True)]


@pytest.mark.parametrize("text", ["Redaktion", "Aus der Region", "Deutsches Rotes Kreuz",
                                  "ZEIT ONLINE", "Lawinenwarndienst Tirol", "dpa", "Berlin"])
def test_not_persons(text):
    assert not people.looks_like_person(text)


def test_from_raw_keeps_inverted_names_and_organisations():
    assert people.from_raw(["Schmidt, Karin"]) == [Name(family="Schmidt", given="Karin")]
    assert people.from_raw([("org", "Umweltbundesamt")]) == [
        Name(family="Umweltbundesamt", literal=True)]
    # Persons win over organisations named alongside them.
    assert people.from_raw([("org", "dpa"), "Anna Muster"]) == [Name(family="Muster", given="Anna")]
