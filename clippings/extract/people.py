"""Bylines and author strings -> `Name`s: "Von Anna Muster und Jan Beispiel, Berlin" ->
[Muster, Anna; Beispiel, Jan]; agencies (dpa, AFP, Reuters) and desks are not persons."""

from __future__ import annotations

import re

from ..model import Name
from .dates import find as find_dates

AGENCIES = {"dpa", "afp", "ap", "reuters", "kna", "epd", "sid", "apa", "sda", "ddp", "dapd",
            "idea", "ots", "ans", "ansa", "efe", "upi", "tass", "ria", "interfax", "keystone-sda",
            "sda/dpa", "dts", "afx", "dpa-afx", "apa-ots", "belga", "anp", "ipa", "nrd", "ntv",
            "рбк", "тасс", "риа новости", "интерфакс", "bloomberg", "red", "red.", "ag", "dpa/lnw",
            "dpa/lby", "dpa/lni", "dpa/lsw", "dpa/lno", "dpa/tmn", "kathpress", "cna", "rtr", "pa"}
# Words that make a "name" a desk, organisation or role, not a person.
_ORG_WORDS = re.compile(
    r"\b(?:redaktion|newsroom|team|desk|verlag|zeitung|online|gmbh|ag|e\.\s?v\.|ev|mbh|kg|"
    r"verband|verein|ministerium|bundesamt|amt|institut|universit\w*|stiftung|partei|"
    r"gemeinde|stadt|landkreis|agentur|media|medien|magazin|news|nachrichten|presse|press|"
    r"staff|editors?|editorial|group|gruppe|service|office|bureau|büro|pressestelle|"
    r"редакция|служба|агентство)\b", re.I)
_ROLES = re.compile(
    r"\b(?:redakteur(?:in)?|korrespondent(?:in)?|reporter(?:in)?|chefredakteur(?:in)?|"
    r"autor(?:in)?|journalist(?:in)?|volontär(?:in)?|ressortleiter(?:in)?|leiter(?:in)?|"
    r"editor|correspondent|reporter|writer|contributor|columnist|staff writer|"
    r"fotos?|photos?|bilder?|grafik|video|kamera|корреспондент|фото)\b.*$", re.I)
_PREFIX = re.compile(
    r"^(?:(?:ein\s+)?(?:beitrag|artikel|kommentar|gastbeitrag|interview|analyse|"
    r"eine\s+kolumne)\s+)?"
    r"(?:von|by|autor(?:in|en|innen)?|verfasst\s+von|text|text\s+von|geschrieben\s+von|"
    r"written\s+by|posted\s+by|veröffentlicht\s+von|author|authors|автор(?:ы)?|текст)"
    r"\s*:?\s+", re.I)
_SPLIT = re.compile(r"\s+(?:und|and|und von|и|&|sowie|with|mit)\s+|\s*[,;/|&·•]\s*", re.I)
_PARTICLES = {"von", "van", "de", "der", "den", "zu", "zur", "vom", "ter", "ten", "da", "di",
              "dos", "du", "la", "le", "del", "della", "af", "al", "bin", "el"}
# German compound nouns naming an institution: "Lawinenwarndienst", "Umweltbundesamt".
_ORG_SUFFIX = re.compile(r"(?:dienst|amt|verband|stelle|behörde|bund|werk|schaft|rat|gericht|"
                         r"kammer|zentrum|zentrale|ministerium|institut|verein|netzwerk|akademie|"
                         r"bibliothek|archiv|museum|schule|klinik|klinikum|portal|fraktion)$",
                         re.I)
# Words that start capitalised in German prose but are never part of a person's name.
_NOT_NAMES = set("""aus der die das dem den des und für mit im in am an auf bei vom zum zur
ein eine einer unser unsere unserer ihre ihr alle redaktion region sprache deutsche deutsches
deutscher rotes neue neues online live team gast gastautor gastbeitrag leser leserbrief
startseite home kontakt impressum mehr weitere artikel beitrag news aktuell aktuelles
the of for and our staff admin administrator webmaster user""".split())
_NAME_WORD = re.compile(r"^[A-ZÄÖÜÀ-ÞА-ЯЁ][\w'’.\-]*$|^[A-ZÄÖÜ]\.$")
_EMAIL = re.compile(r"\S+@\S+")


def is_agency(text: str) -> bool:
    t = text.strip().strip("()[]").strip().lower()
    return t in AGENCIES or bool(re.fullmatch(r"(?:dpa|afp|ap|apa|sda|kna|epd|reuters)"
                                              r"(?:[/ ,-]+\w{1,5})*", t))


def looks_like_person(text: str) -> bool:
    words = text.split()
    if not 2 <= len(words) <= 5 or len(text) > 50 or any(c.isdigit() for c in text):
        return False
    if _ORG_WORDS.search(text) or is_agency(text):
        return False
    if any(w.lower().strip(".") in _NOT_NAMES for w in words):
        return False
    if any(_ORG_SUFFIX.search(w) for w in words):
        return False
    caps = [w for w in words if w.lower() not in _PARTICLES]
    return len(caps) >= 2 and all(_NAME_WORD.match(w) for w in caps) and \
        not all(w.isupper() and len(w) > 2 for w in caps)


_ACADEMIC = re.compile(r"^(?:(?:Prof|Dr|Dipl|Mag|Ing|PD|Priv\.-Doz|med|phil|rer|nat|habil|"
                       r"jur|oec|h\.\s?c|M\.\s?A|B\.\s?A|MBA)\.?(?:-\w+\.?)?\s+)+")


def person(text: str) -> Name:
    """ "Anna-Lena von der Heide" -> Name(family="Heide", given="Anna-Lena", prefix="von der")."""
    text = _ACADEMIC.sub("", re.sub(r"\s+", " ", text).strip())
    if "," in text:   # already "Family, Given"
        family, given = (p.strip() for p in text.split(",", 1))
        return Name(family=family, given=given)
    words = text.split()
    i = len(words) - 1
    while i > 1 and words[i - 1].lower() in _PARTICLES:
        i -= 1
    prefix = " ".join(words[i:len(words) - 1]) if i < len(words) - 1 else ""
    # A particle run ends before the last word: "Jan van der Berg" -> prefix "van der".
    return Name(family=words[-1], given=" ".join(words[:i]), prefix=prefix)


def clean_byline(text: str) -> str:
    text = _EMAIL.sub(" ", text)
    text = re.sub(r"\b(autor|redakteur|verfasser)(?:/|\*|:|_)?in(nen)?\b", r"\1", text, flags=re.I)
    for iso, pos in reversed(find_dates(text)):
        text = text[:pos]   # everything from the first date on is the dateline
    text = re.split(r"\s[|–—]\s|\s-\s|\n", text)[0]
    # "(dpa)" names the agency; other parentheses are roles: "(Text und Fotos)".
    text = re.sub(r"\(([^)]*)\)", lambda m: f", {m.group(1)}" if is_agency(m.group(1)) else " ",
                  text)
    text = re.sub(r"^\W+|\W+$", "", text.strip())
    prev = None
    while prev != text:
        prev = text
        text = _PREFIX.sub("", text).strip()
    return text


def parse_byline(text: str) -> list[Name]:
    """The persons and organisations named in a byline text, in order."""
    if re.match(r"^\s*(?:©|\(c\)|(?:copyright|foto|fotos|bild|bilder|photo|photos|grafik|"
                r"quelle|source)\b)", text, re.I):
        return []   # a picture credit, not the article's byline
    stated = bool(_PREFIX.match(re.sub(r"^\W+", "", text.strip()) + " "))
    text = clean_byline(text)
    if not text or len(text) > 160:
        return []
    if stated and re.fullmatch(r"[A-ZÄÖÜА-ЯЁ][a-zäöüßа-яё]{2,19}", text) and \
            text.lower() not in _NOT_NAMES and not _ORG_WORDS.search(text) and not is_agency(text):
        return [Name(family=text)]   # "von Tobi": a blogger's chosen name is the byline
    names: list[Name] = []
    orgs: list[Name] = []
    for part in _SPLIT.split(text):
        part = _ROLES.sub("", part).strip(" .:-–")
        part = re.sub(r"^(?:von|by|от)\s+", "", part, flags=re.I).strip()
        if not part:
            continue
        if looks_like_person(part):
            names.append(person(part))
        elif is_agency(part) or _ORG_WORDS.search(part) and len(part) <= 60 and names == []:
            orgs.append(Name(family=part, literal=True))
        # anything else (a place, "Berlin"; a role, a stray word) is dropped
    if names:
        return names
    return orgs[:1]


def from_raw(values: list) -> list[Name]:
    """Names as metadata states them: strings (persons or orgs) or ("org", name) tuples."""
    out: list[Name] = []
    for value in values:
        if isinstance(value, tuple):
            name = value[1].strip()
            if is_agency(name):
                out.append(Name(family=name, literal=True))
            elif looks_like_person(name) and not _ORG_WORDS.search(name):
                out.append(person(name))   # Organization type given to a person: trust the name
            elif name:
                out.append(Name(family=name, literal=True))
            continue
        inverted = re.fullmatch(r"([^,\d]{2,40}),\s*([^,\d]{2,40})", value.strip())
        if inverted and looks_like_person(f"{inverted.group(2)} {inverted.group(1)}"):
            parsed = [Name(family=inverted.group(1).strip(),
                           given=_ACADEMIC.sub("", inverted.group(2).strip()))]
        else:
            parsed = parse_byline(value)
        if not parsed and value.strip() and len(value) <= 60 and not re.search(r"[@/]", value):
            parsed = [Name(family=value.strip(), literal=True)]
        for n in parsed:
            if n not in out:
                out.append(n)
    persons = [n for n in out if not n.literal]
    return persons or out[:1]
