"""Tests for clippings.keys: key patterns, significant words, uniqueness, validity."""


import pytest
from hypothesis import given
from hypothesis import strategies as st

from clippings.errors import UsageError
from clippings.keys import (DEFAULT_PATTERN, KeySet, _fold, base_key, is_valid_key, make_key,
                            significant_words, validate_pattern)
from clippings.model import Name, Record


def rec(title="", date="", authors=(), editors=(), type_="article", **fields):
    names = {}
    if authors:
        names["author"] = list(authors)
    if editors:
        names["editor"] = list(editors)
    f = {k: v for k, v in {"title": title, "date": date, **fields}.items() if v}
    return Record(type_, f, names)


LOHSE = rec("Dossier: Deutsch-russische Städtepartnerschaften", "2017-06-26",
            [Name("Lohse", "Peggy")], journaltitle="Russia Beyond the Headlines")


# Items of the shipped reading list and the keys the default pattern gives them.
@pytest.mark.parametrize("record, expected", [
    (LOHSE, "lohse2017dossier"),
    (rec("Zwischen Annäherung und Distanz", "2018", [Name("Gorzka", "Gabriele")]),
     "gorzka2018annaeherung"),
    (rec("Städtepartnerschaften für den Frieden", "2016-06", [Name("Roters", "Jürgen")]),
     "roters2016staedtepartnerschaften"),
    (rec("Aus dem Städtepartner-Nähkästchen", "2017-07"), "staedtepartner2017naehkaestchen"),
    (rec("Städtepartnerschaften entwickeln, leben, ausbauen, finanzieren", "2016"),
     "staedtepartnerschaften2016entwickeln"),
    (rec("Der Kreis Düren bewirbt sich um die Ausrichtung der Städtepartnerkonferenz",
         "2016-06-21"), "kreis2016dueren"),
    (rec("Grani uspecha", "2016-03"), "grani2016uspecha"),
    (rec("Грани успеха", "2016-03"), "grani2016uspecha"),
    (rec("Austausch", "2011-05-04", [Name("Loktjuschin", "Ilja")]), "loktjuschin2011austausch"),
    (rec("Geschenk der Versöhnung", "2011-05-02", [Name("Rutz", "Michael")]),
     "rutz2011geschenk"),
    (rec("Besonderheiten deutsch – russischer kommunaler Partnerschaften", "2011",
         [Name("Leitermann", "Walter")]), "leitermann2011besonderheiten"),
    (rec("Portal für deutsch-russische kommunale und regionale Partnerschaften", "2017",
         [Name("Deutsch-Russisches Forum e.V.", literal=True)]), "deutsch2017portal"),
    (rec("Erlanger Erklärung für den Frieden", "2016-08"), "erlanger2016erklaerung"),
])
def test_default_keys_for_the_reading_list(record, expected):
    assert make_key(record, set()) == expected


@pytest.mark.parametrize("record, expected", [
    # No year: no year part.
    (rec("Michendorfer Entspannungspolitik", authors=[Name("Meier")]),
     "meiermichendorfer"),
    # Editors stand in for missing authors.
    (rec("Handbuch der Partnerschaften", "2010", editors=[Name("Schmidt", "Anna")]),
     "schmidt2010handbuch"),
    # Cyrillic family names are transliterated (German scheme).
    (rec("Города-побратимы", "2013", [Name("Железногорский", "Иван")]),
     "schelesnogorski2013goroda"),
    # Function words and numbers are skipped, in German and English.
    (rec("The 30 Years of the Twinning", "2018", [Name("Smith")]), "smith2018years"),
    (rec("Über die Zukunft", "2020", [Name("Müller")]), "mueller2020zukunft"),
    (rec("Ueber die Zukunft", "2020", [Name("Mueller")]), "mueller2020zukunft"),
    # The prefix ("von") is not part of the key; compound family names are joined.
    (rec("Briefe", "1890", [Name("Goethe", "Johann Wolfgang", prefix="von")]),
     "goethe1890briefe"),
    (rec("Cien años de soledad", "1967", [Name("García Márquez", "Gabriel")]),
     "garciamarquez1967cien"),
    # Only apostrophes inside words are joined: "O'Brien" is one word.
    (rec("Notes", "2000", [Name("O'Brien", "Flann")]), "obrien2000notes"),
    # Nothing at all to build a key from.
    (rec(), "anon"),
    (rec("2017/2018", "2018"), "2018"),
])
def test_default_key_rules(record, expected):
    assert make_key(record, ()) == expected


def test_title_word_used_for_author_is_not_repeated():
    record = rec("Städte, Regionen und Initiativen", "2018-09")
    assert make_key(record, ()) == "staedte2018regionen"


@pytest.mark.parametrize("pattern, expected", [
    ("{auth}{year}{title}", "lohse2017dossier"),
    ("{auth}:{year}", "lohse:2017"),
    ("{auth}_{year}-{title}", "lohse_2017-dossier"),
    ("{year}.{auth}", "2017.lohse"),
    ("{shorttitle}{year}", "dossierdeutschrussische2017"),
    ("{auth}{journal}{year}", "lohserussia2017"),
    ("{authors2}{year}", "lohse2017"),
    ("ref-{auth}", "ref-lohse"),
])
def test_patterns(pattern, expected):
    assert make_key(LOHSE, (), pattern) == expected


def test_authors2_joins_two_family_names():
    record = rec("Deutsch-russische Kulturbeziehungen", "2011",
                 [Name("Müller", "A"), Name("Schulz", "B"), Name("Weber", "C")])
    assert make_key(record, (), "{authors2}{year}") == "muellerschulz2011"


def test_journal_missing_gives_empty_part():
    assert make_key(rec("Ein Titel hier", "2001", [Name("X")]), (), "{auth}{journal}{year}") \
        == "x2001"


@pytest.mark.parametrize("pattern", [
    "", "{auth", "auth}", "{author}{year}", "{auth}{year}{}", "{auth} {year}",
    "{auth}/{year}", "lohse", "{auth}{{year}}", "{auth}ä{year}",
])
def test_invalid_patterns_raise_usage_error(pattern):
    with pytest.raises(UsageError):
        validate_pattern(pattern)
    with pytest.raises(UsageError):
        make_key(LOHSE, (), pattern)


def test_unknown_placeholder_message_lists_known_ones():
    with pytest.raises(UsageError, match=r"\{author\}.*\{auth\}"):
        validate_pattern("{author}")


def test_default_pattern_is_valid():
    validate_pattern(DEFAULT_PATTERN)


def test_suffixes_a_to_z_then_aa():
    taken = KeySet()
    keys = []
    for _ in range(30):
        key = make_key(LOHSE, taken)
        taken.add(key)
        keys.append(key)
    assert keys[:3] == ["lohse2017dossier", "lohse2017dossiera", "lohse2017dossierb"]
    assert keys[26] == "lohse2017dossierz"
    assert keys[27:30] == ["lohse2017dossieraa", "lohse2017dossierab", "lohse2017dossierac"]
    assert len(set(keys)) == 30


def test_suffix_after_zz_is_aaa():
    base = "lohse2017dossier"
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    taken = {base} | {base + a for a in letters} | {base + a + b for a in letters for b in letters}
    assert make_key(LOHSE, taken) == base + "aaa"


def test_uniqueness_is_case_insensitive():
    assert make_key(LOHSE, {"Lohse2017Dossier"}) == "lohse2017dossiera"
    assert make_key(LOHSE, ["LOHSE2017DOSSIER", "lohse2017dossierA"]) == "lohse2017dossierb"


def test_existing_may_be_any_collection():
    for existing in ({"lohse2017dossier"}, ["lohse2017dossier"], ("lohse2017dossier",),
                     {"lohse2017dossier": 1}, frozenset({"lohse2017dossier"}),
                     (k for k in ["lohse2017dossier"])):
        assert make_key(LOHSE, existing) == "lohse2017dossiera"


def test_keyset_contains_and_discard():
    keys = KeySet(["Alpha2001", "beta"])
    assert "alpha2001" in keys and "BETA" in keys and len(keys) == 2
    keys.discard("ALPHA2001")
    assert "Alpha2001" not in keys


def test_large_library_with_keyset():
    taken = KeySet(f"key{i}" for i in range(50_000))
    assert make_key(LOHSE, taken) == "lohse2017dossier"


def test_base_key_ignores_existing():
    assert base_key(LOHSE, "{auth}{year}") == "lohse2017"


@pytest.mark.parametrize("key, valid", [
    ("lohse2017dossier", True), ("Lohse:2017", True), ("a_b-c.d", True), ("2017", True),
    ("", False), ("lohse 2017", False), ("lohse,2017", False),
    ("{lohse}", False), ("a%b", False), ("a#b", False), ("a\nb", False),
    # biber reads Unicode and DBLP-style keys; documents cite them as they are
    ("Müller2016", True), ("DBLP:journals/corr/Roters16", True),
    # never a folder name that leaves snapshots/
    (".", False), ("..", False), (".hidden", False), ("a\\b", False), ("a\x00b", False),
    # a key names its snapshot folder: at most 255 bytes there (`/` is written %2F)
    ("k" * 255, True), ("k" * 256, False), ("ü" * 127, True), ("ü" * 128, False),
    ("a/" * 63 + "a", True), ("a/" * 64, False),
])
def test_is_valid_key(key, valid):
    assert is_valid_key(key) is valid


def test_significant_words():
    assert significant_words("Der Kreis Düren bewirbt sich um die Ausrichtung") == \
        ["kreis", "dueren", "bewirbt", "ausrichtung"]
    assert significant_words("The Art of War, 2nd ed.") == ["art", "war", "2nd", "ed"]
    assert significant_words("О жизни и смерти") == ["schisni", "smerti"]


NAME_TEXT = st.text(min_size=1, max_size=30)


@given(family=NAME_TEXT, title=st.text(max_size=60),
       year=st.one_of(st.just(""), st.integers(1000, 2999).map(str)),
       literal=st.booleans())
def test_generated_keys_are_always_valid(family, title, year, literal):
    record = rec(title, year, [Name(family, literal=literal)])
    key = make_key(record, ())
    assert is_valid_key(key)
    assert key == key.lower()


@given(st.lists(st.sampled_from(["lohse2017dossier", "Lohse2017dossierA", "x"]), max_size=5))
def test_generated_key_is_never_taken(existing):
    key = make_key(LOHSE, existing)
    assert key.lower() not in {k.lower() for k in existing}


from helpers import real_records, run  # noqa: E402  (shared loader of ../shared/realbibs)


def test_real_bib_files_get_valid_unique_keys():
    pairs = real_records()
    taken = KeySet()
    for _, record in pairs:
        key = make_key(record, taken)
        assert is_valid_key(key)
        assert key not in taken
        taken.add(key)
        authors = record.names.get("author")
        if authors and authors[0].family.strip() and not authors[0].literal:
            # (an organisation contributes its first significant word instead)
            assert key.startswith(_fold(authors[0].family)[:3])
    assert len(taken) == len(pairs) > 300


def test_generated_keys_stay_short_whatever_the_words():
    word = "Y" * 300
    assert make_key(rec(word, "2020"), ()) == "y" * 32 + "2020"
    assert make_key(rec(word, "2020"), ["y" * 32 + "2020"]) == "y" * 32 + "2020a"
    long_name = rec(f"{word} {word}", "2020", [Name("Z" * 300)], journaltitle=word)
    assert make_key(long_name, (), "{auth}{year}{title}") == "z" * 32 + "2020" + "y" * 32
    key = make_key(long_name, (), "{authors2}-{shorttitle}-{journal}-{auth}")
    assert len(key) == 100 and is_valid_key(key)


def test_a_key_too_long_for_a_folder_name_is_refused_with_the_reason(library):
    from clippings.keys import key_problem
    assert "at most 255 bytes" in key_problem("k" * 300)
    result = run("add", "--no-fetch", "--key", "k" * 300, "--set", "title=Lang",
                 library=library)
    assert result.exit_code == 2 and "at most 255 bytes" in result.stderr
    assert "@" not in library.read_text(encoding="utf-8")


def test_year_in_other_digits_is_folded():
    assert make_key(rec("Ein Titel", "१९८७", [Name("Rao")]), ()) == "rao1987titel"
