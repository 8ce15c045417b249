from hypothesis import given, settings, strategies as st

from clippings import latex

HOSTILE = ["{", "}", "}{", "\\input{/etc/passwd}", "%", "#", "$x^2$", "~", "_", "&",
           "\\", "\\\\", "@string{x = y}", "\"quoted\"", "a } b { c", "{{{", "\\}"]


def test_hostile_strings_round_trip():
    for s in HOSTILE:
        assert latex.decode(latex.encode(s)) == s


def test_encoded_values_have_balanced_braces_and_no_live_commands():
    for s in HOSTILE:
        encoded = latex.encode(s)
        assert latex.braces_balanced(encoded), encoded
        assert "\\input" not in encoded


@given(st.text())
@settings(max_examples=500)
def test_any_unicode_round_trips(s):
    assert latex.decode(latex.encode(s)) == s


def test_decodes_what_real_files_contain():
    cases = {
        r'Stra{\ss}e': "Straße",
        r'{\"U}ber': "Über",
        r'\"{a}\"o\"u': "äöü",
        r"\'{e}t\'e": "été",
        r"\c{c}a": "ça",
        r"\v{S}koda": "Škoda",
        r"{\L}{\'o}d{\'z}": "Łódź",
        r"50\,\%": "50\u202f%",
        r"\emph{Kursiv} und \textbf{fett}": "Kursiv und fett",
        r"{GmbH}": "GmbH",
        r"a~b": "a\u00a0b",
        r"\href{http://x.org}{Link}": "Link",
        r"Deutsch\textendash Russisch": "Deutsch–Russisch",
    }
    for raw, expected in cases.items():
        assert latex.decode(raw) == expected, raw
