"""Dates as pages write them."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from clippings.extract import dates


@pytest.mark.parametrize("value, expected", [
    ("2017-06-26T10:00:00+02:00", "2017-06-26"),
    ("2017-06-26", "2017-06-26"),
    ("20170626", "2017-06-26"),
    ("2017-06", "2017-06"),
    ("Mi., 26.01.2022 - 14:30", "2022-01-26"),
    ("5. November 2021", "2021-11-05"),
    ("January 5, 2021", "2021-01-05"),
    ("5 января 2021", "2021-01-05"),
    ("3. März 2020", "2020-03-03"),
    ("not a date", None),
    ("1850-01-01", None),           # before the web: noise
    ("2017-02-30", None),           # no such day
    ("", None),
])
def test_parse(value, expected):
    assert dates.parse(value) == expected


def test_parse_moves_stamps_to_the_publication_time_zone():
    berlin = ZoneInfo("Europe/Berlin")
    assert dates.parse("2021-11-04T23:00Z", berlin) == "2021-11-05"
    assert dates.parse("2021-11-04T23:00Z") == "2021-11-04"
    assert dates.parse("2021-11-04", berlin) == "2021-11-04"


def test_far_future_dates_are_rejected():
    assert dates.parse("2999-01-01") is None


def test_find_in_text_in_order():
    text = "Erschienen am 01.11.2023, letzte Änderung: 31.10.2023"
    assert [iso for iso, _ in dates.find(text)] == ["2023-11-01", "2023-10-31"]


@pytest.mark.parametrize("url, day, month", [
    ("https://x.de/politik/2017/06/26/artikel.html", "2017-06-26", "2017-06"),
    ("https://x.de/2019/10/22/gruende-fuer-x/", "2019-10-22", "2019-10"),
    ("https://x.de/2023/10/3-fragen-an-tina/", None, "2023-10"),
    ("https://x.de/news/20170626_artikel", "2017-06-26", None),
    ("https://x.de/artikel?id=20170626", None, None),
    ("https://x.de/artikel-12345.html", None, None),
])
def test_from_url(url, day, month):
    assert dates.from_url(url) == (day, month)
