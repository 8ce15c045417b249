"""Text normalisation shared by citation keys, duplicate detection and search.

Three layers, each usable on its own:

- `fold_german`: ä→ae, ö→oe, ü→ue, ß→ss (so `Städte` and `Staedte` compare equal);
- `transliterate_ru`: Russian Cyrillic → Latin, German (Duden) or English (BGN/PCGN-like);
- `ascii_fold`: both of the above, then every other accent stripped: plain ASCII out.

Transliteration rules (both schemes):

- е/ё at the start of a word or after a vowel, й, ь or ъ become je/jo (de) or ye/yo (en),
  elsewhere e/jo (de: o after ж ч ш щ) and e/e (en: the common English practice that gives
  Khrushchev, Gorbachev);
- ь and ъ are dropped, except before и/о where they mark a j/y sound (Ильич → Iljitsch / Ilyich);
- word-final -ий and -ый become -i / -y (de: Горький → Gorki, Красный → Krasny) and -y (en:
  Gorky, Krasny); й elsewhere is j/y before a vowel and i/y otherwise (Толстой → Tolstoi / Tolstoy);
- German only: с between vowels is ss (Василий → Wassili), кс is x (Максим → Maxim).

Case follows the source: a capital at the start of a word gives a capitalised group
(Ж → Sch), a capital inside an all-capitals word gives capitals (ЖУК → SCHUK).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold_german", "transliterate_ru", "transliterations", "ascii_fold", "has_cyrillic"]

_GERMAN = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ẞ": "SS"}
_GERMAN_RE = re.compile("[äöüßÄÖÜẞ]")


def _cased(out: str, upper: bool, prev: str, nxt: str) -> str:
    """Give a multi-letter replacement the case of the letter it replaces."""
    if not upper:
        return out
    # Inside an all-capitals word ("ÄRGER", "ЖУК") the whole group is capitals.
    if nxt.isupper() or (prev.isupper() and not nxt.islower()):
        return out.upper()
    return out[:1].upper() + out[1:]


def fold_german(s: str) -> str:
    """Replace German umlauts and ß by their two-letter spellings (ä→ae, Ä→Ae, ß→ss, ẞ→SS)."""
    s = unicodedata.normalize("NFC", s)
    if not _GERMAN_RE.search(s):
        return s

    def repl(m: re.Match[str]) -> str:
        ch, i = m.group(), m.start()
        prev = s[i - 1] if i else ""
        nxt = s[i + 1] if i + 1 < len(s) else ""
        if ch == "ẞ":
            return "SS"
        return _cased(_GERMAN[ch].lower(), ch.isupper(), prev, nxt)

    return _GERMAN_RE.sub(repl, s)


# Letters with one spelling per scheme, lower case: (de, en).
_RU = {
    "а": ("a", "a"), "б": ("b", "b"), "в": ("w", "v"), "г": ("g", "g"), "д": ("d", "d"),
    "ж": ("sch", "zh"), "з": ("s", "z"), "и": ("i", "i"), "к": ("k", "k"), "л": ("l", "l"),
    "м": ("m", "m"), "н": ("n", "n"), "о": ("o", "o"), "п": ("p", "p"), "р": ("r", "r"),
    "с": ("s", "s"), "т": ("t", "t"), "у": ("u", "u"), "ф": ("f", "f"), "х": ("ch", "kh"),
    "ц": ("z", "ts"), "ч": ("tsch", "ch"), "ш": ("sch", "sh"), "щ": ("schtsch", "shch"),
    "ы": ("y", "y"), "э": ("e", "e"), "ю": ("ju", "yu"), "я": ("ja", "ya"),
    # Ukrainian and Belarusian letters that turn up in Russian-language sources.
    "і": ("i", "i"), "ї": ("ji", "yi"), "є": ("je", "ye"), "ґ": ("g", "g"), "ў": ("w", "w"),
    # Serbian and Macedonian letters, so that no Cyrillic letter is lost by ascii_fold.
    "ђ": ("dj", "dj"), "ј": ("j", "j"), "љ": ("lj", "lj"), "њ": ("nj", "nj"),
    "ћ": ("c", "c"), "џ": ("dz", "dz"), "ѓ": ("g", "g"), "ќ": ("k", "k"), "ѕ": ("dz", "dz"),
}
_VOWELS = set("аеёиоуыэюяіїє")
_SIBILANTS = set("жчшщ")
_CYRILLIC_RE = re.compile("[\u0400-\u04ff]")


def has_cyrillic(s: str) -> bool:
    return bool(_CYRILLIC_RE.search(s))


def _letter(lo: str, prev: str, nxt: str, after: str, de: bool) -> str:
    """Transliterate one lower-case Cyrillic letter given its lower-case neighbours.

    `prev`/`nxt` are the neighbouring characters ("" at the ends); `after` is the
    character after `nxt`, needed for word-final -ий/-ый.
    """
    soft_start = not prev.isalpha() or prev in _VOWELS or prev in ("й", "ь", "ъ")
    if lo == "е":
        if soft_start:
            return "je" if de else "ye"
        return "e"
    if lo == "ё":
        if soft_start:
            return "jo" if de else "yo"
        if de:
            return "o" if prev in _SIBILANTS else "jo"
        return "e"
    if lo == "й":
        if prev and prev in "иы" and not nxt.isalpha():
            return ""          # -ий → -i, -ый → -y: the й is not written
        if nxt and nxt in "еёюяє":
            return ""          # the vowel brings its own j/y: Майя → Maja
        if nxt in _VOWELS:
            return "j" if de else "y"
        return "i" if de else "y"
    if lo in ("ь", "ъ"):
        return ("j" if de else "y") if nxt in ("и", "о") else ""
    if de and lo == "с" and prev in _VOWELS and nxt in _VOWELS:
        return "ss"
    if not de and lo == "и" and nxt == "й" and not after.isalpha():
        return "y"             # English -ий → -y (Gorky, Dostoyevsky)
    pair = _RU.get(lo)
    if pair is None:
        # A letter with a mark (ѐ, ӣ ...): transliterate its base letter.
        base = unicodedata.normalize("NFKD", lo)[:1]
        if base in ("е", "и") and base != lo:
            return _letter(base, prev, nxt, after, de)
        pair = _RU.get(base)
        if pair is None:
            return lo
    return pair[0] if de else pair[1]


def transliterate_ru(s: str, scheme: str = "de") -> str:
    """Transliterate Russian Cyrillic in `s` to Latin; other characters pass unchanged.

    `scheme` is "de" (Duden: Волгоград → Wolgograd, Хрущёв → Chruschtschow) or "en"
    (BGN/PCGN-like without diacritics: Volgograd, Khrushchev).
    """
    if scheme not in ("de", "en"):
        raise ValueError(f"unknown transliteration scheme {scheme!r} (use 'de' or 'en')")
    s = unicodedata.normalize("NFC", s)   # a decomposed й or ё would not be recognised
    if not has_cyrillic(s):
        return s
    de = scheme == "de"
    low = s.lower()
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        ch, lo = s[i], low[i]
        prev = low[i - 1] if i else ""
        nxt = low[i + 1] if i + 1 < n else ""
        after = low[i + 2] if i + 2 < n else ""
        if not ("\u0400" <= ch <= "\u04ff"):
            out.append(ch)
            i += 1
            continue
        if de and lo == "к" and nxt == "с":
            text, step = "x", 2
        else:
            text, step = _letter(lo, prev, nxt, after, de), 1
        raw_prev = s[i - 1] if i else ""
        raw_next = s[i + step] if i + step < n else ""
        out.append(_cased(text, ch.isupper(), raw_prev, raw_next))
        i += step
    return "".join(out)


def transliterations(s: str) -> set[str]:
    """The distinct Latin forms of `s` (German and English schemes); `{s}` without Cyrillic."""
    if not has_cyrillic(unicodedata.normalize("NFC", s)):
        return {s}
    return {transliterate_ru(s, "de"), transliterate_ru(s, "en")}


# Letters NFKD does not decompose into a base letter plus marks, and typographic
# punctuation with a plain ASCII equivalent.
_EXTRA = {
    "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
    "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ı": "i", "ħ": "h",
    "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ĸ": "k", "ſ": "s", "ƒ": "f", "ŋ": "ng", "Ŋ": "NG",
    "ǝ": "e", "ə": "e", "Ə": "E",
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"',
    "‟": '"', "″": '"', "«": '"', "»": '"', "‹": "'", "›": "'",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    "…": "...", "⁄": "/", "•": "*", "·": ".", "×": "x", "€": "EUR", "£": "GBP",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ",
}
_EXTRA_RE = re.compile("|".join(map(re.escape, _EXTRA)))


def _sub_extra(s: str) -> str:
    def repl(m: re.Match[str]) -> str:
        i, j = m.start(), m.end()
        if not m.group().isalpha():
            return _EXTRA[m.group()]
        return _cased(_EXTRA[m.group()].lower(), m.group().isupper(),
                      s[i - 1] if i else "", s[j] if j < len(s) else "")

    return _EXTRA_RE.sub(repl, s)


def ascii_fold(s: str) -> str:
    """Plain ASCII for `s`: German folding, Cyrillic (German scheme), accents stripped.

    Characters with no Latin equivalent (CJK, emoji, Greek ...) are dropped.
    """
    if s.isascii():
        return s
    s = _sub_extra(transliterate_ru(fold_german(s), "de"))
    s = _sub_extra(unicodedata.normalize("NFKD", s))   # NFKD can expose more (½ → 1⁄2)
    if not s.isascii():
        # Digits of other scripts (١٩٨٧, १९८७) are still digits.
        s = "".join(str(unicodedata.decimal(ch)) if not ch.isascii()
                    and unicodedata.decimal(ch, None) is not None else ch for ch in s)
    return s.encode("ascii", "ignore").decode("ascii")
