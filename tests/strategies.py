"""Hypothesis strategies for records, shared by the round-trip tests of the formats."""

from __future__ import annotations

import datetime

from hypothesis import strategies as st

from clippings.model import Name

LETTERS = "abcdeäöüßxyzéАБВабвгжщыэюя"


def phrases(word):
    return st.lists(word, min_size=1, max_size=4).map(" ".join)


_cap = st.builds(lambda a, b: a.upper() + b, st.sampled_from("ABCDÄÖÜЖЩЭ"),
                 st.text(LETTERS, max_size=6))
PERSON = st.builds(
    Name, family=st.lists(_cap, min_size=1, max_size=2).map(" ".join),
    given=st.one_of(st.just(""), st.lists(_cap, min_size=1, max_size=2).map(" ".join)),
    prefix=st.sampled_from(["", "von", "van der", "de la"]),
    suffix=st.sampled_from(["", "", "Jr.", "III"]), literal=st.just(False))


def name_lists(organisation_names):
    """Lists of persons and organisations (named by `organisation_names`)."""
    org = st.builds(lambda p: Name(family=p, literal=True), organisation_names)
    return st.lists(st.one_of(PERSON, org), min_size=1, max_size=3)


def date_text(d: datetime.date, precision: int) -> str:
    return d.isoformat()[:precision]


DAY = st.dates(min_value=datetime.date(1500, 1, 1), max_value=datetime.date(2100, 12, 31))
MODEL_DATE = st.one_of(   # what the library's `date` field holds (biblatex/EDTF)
    st.builds(date_text, DAY, st.sampled_from([4, 7, 10])),
    st.builds(lambda a, n: f"{a.year}/{a.year + n}", DAY, st.integers(1, 30)),
    st.builds(lambda a, n: f"{a.isoformat()}/{(a + datetime.timedelta(n)).isoformat()}",
              DAY, st.integers(1, 400)),
    st.builds(lambda d: f"{d:%Y}~", DAY),
    st.builds(lambda d: f"{d:%Y-%m}/", DAY),
)
