"""Likely duplicates: normalised URLs, DOIs, ISBNs and titles, and an index over them.

Two records are likely duplicates when they share any of:

- a URL, after `normalize_url` (http = https, no `www.`, no tracking parameters ...);
  `archiveurl` and other fields are not compared: a web-archive copy is not the item;
- a DOI (`doi` field, or a doi.org address in `url`), compared case-insensitively;
- an ISBN (`isbn` field, several allowed), ISBN-10 and ISBN-13 compared as ISBN-13;
  for a part of a book (`@incollection`, `@inbook`, `@inproceedings` ...), which carries
  the book's ISBN, only together with the same title;
- a title (`title` plus `subtitle`, after `normalize_title`) with years at most one apart
  or missing on either side. A title counts only when it has at least two words and
  at least 10 letters or digits, so "Editorial", "Vorwort" or "Dossier" alone never
  make a duplicate. A title match is also ignored when both records name authors and
  share no family name, or when both have DOIs and the DOIs differ.
  The title without its subtitle counts too: the `title` field alone, and a subtitle
  written into `title` after ": ", " – ", " — ", " - " or ". " is cut off. Such a
  main title must have at least three words and 15 letters or digits ("Interview: ..."
  or "Neue Studie: ..." are rubrics, not titles), and it matches only another
  record's title, never the cut-off main title of a third: "X: Y" and "X: Z" are two
  articles, "X: Y" and "X" likely one.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from clippings.model import Record
from clippings.textnorm import ascii_fold

__all__ = ["normalize_url", "strip_tracking", "has_tracking", "is_tracking_param",
           "normalize_doi", "normalize_isbn", "normalize_title", "DuplicateIndex",
           "DuplicateGroup", "find_duplicate_groups"]

# Query parameters that only identify a campaign, a click or a share, never the page.
TRACKING_PARAMS = frozenset("""
fbclid gclid gclsrc dclid gbraid wbraid msclkid mc_cid mc_eid _ga _gl yclid igshid
igsh ref_src ref_url twclid ttclid li_fat_id mkt_tok _hsenc _hsmi __hssc __hstc
__hsfp hsctatracking vero_id vero_conv oly_anon_id oly_enc_id rb_clickid s_cid
wickedid xtor ocid ncid cmpid wt_mc wt_zmc at_medium at_campaign at_source
at_creation at_send_date at_link at_ptr_name at_recipient_id at_recipient_list
sr_share spm fb_action_ids fb_action_types fb_ref fb_source action_object_map
action_type_map action_ref_map
""".split())
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "matomo_", "hmb_", "trk_")


def is_tracking_param(name: str) -> bool:
    """Whether a query parameter name (as written, possibly percent-encoded) tracks."""
    name = unquote(name).lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def _split_query(query: str) -> list[str]:
    return [p for p in query.split("&") if p]


def _param_name(part: str) -> str:
    return part.split("=", 1)[0]


def _strip_params(query: str) -> str:
    return "&".join(p for p in _split_query(query) if not is_tracking_param(_param_name(p)))


def _tracking_fragment(fragment: str) -> bool:
    """A fragment made only of tracking parameters ("#utm_source=x&utm_medium=y")."""
    parts = _split_query(fragment)
    return bool(parts) and all("=" in p and is_tracking_param(_param_name(p)) for p in parts)


def strip_tracking(url: str) -> str:
    """`url` without tracking parameters; everything else stays exactly as written."""
    rest, hash_, fragment = url.partition("#")
    if hash_ and _tracking_fragment(fragment):
        hash_ = fragment = ""
    base, qmark, query = rest.partition("?")
    if qmark:
        query = _strip_params(query)
        if not query:
            qmark = ""
    return base + qmark + query + hash_ + fragment


def has_tracking(url: str) -> bool:
    """Whether `url` carries tracking parameters that `strip_tracking` would remove."""
    return strip_tracking(url) != url


# RFC 3986 "unreserved" characters: percent-encoding them changes nothing.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/%")
_QUERY_SAFE = _UNRESERVED | frozenset("!$'()*+,;:@/?%")   # not & and =: they separate
_HOST_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:")
_PCT_RE = re.compile(r"%([0-9A-Fa-f]{2})")


def _pct(ch: str) -> str:
    return "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))


def _normalize_pct(s: str, safe: frozenset[str]) -> str:
    """One spelling for percent-encoding: unreserved characters decoded, other escapes
    in upper case, anything unsafe (spaces, non-ASCII as UTF-8) encoded."""
    if "%" not in s and set(s) <= safe:
        return s   # the common case: nothing to change (checked at C speed)
    out: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "%":
            m = _PCT_RE.match(s, i)
            if m:
                byte = chr(int(m.group(1), 16))
                out.append(byte if byte in _UNRESERVED else "%" + m.group(1).upper())
                i += 3
                continue
            out.append("%25")   # a lone % is a literal percent sign
        elif ch in safe:
            out.append(ch)
        else:
            out.append(_pct(ch))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, enough for normalisation: "/a/./b/../c" → "/a/c"."""
    if "." not in path:
        return path
    out: list[str] = []
    for seg in path.split("/"):
        if seg == ".":
            continue
        if seg == "..":
            if len(out) > 1:
                out.pop()
            continue
        out.append(seg)
    result = "/".join(out)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result


def _normalize_host(host: str) -> str:
    host = (unquote(host) if "%" in host else host).lower().rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            pass   # not a valid IDN: compare it as written, lower-cased
    host = host.rstrip(".")
    while host.startswith("www.") and "." in host[4:]:
        host = host[4:]
    # Characters no host may hold (spaces, controls) stay percent-encoded, so that the
    # result reads back the same.
    if set(host) <= _HOST_SAFE:
        return host
    return "".join(ch if ch in _HOST_SAFE else _pct(ch) for ch in host)


_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}


def normalize_url(url: str) -> str:
    """A comparison form of `url`: equal for addresses of the same page.

    Case-insensitive scheme and host, http = https (both give "https"), `www.` and
    default ports dropped, trailing slash and fragment dropped (except `#!` routes),
    tracking parameters removed, the rest sorted, percent-encoding normalised, dot
    segments resolved. Not a URL to fetch. A string that is not a URL comes back stripped.
    """
    url = unicodedata.normalize("NFC", url.strip())
    if "://" not in url and not url.startswith("//"):
        if not re.match(r"^[\w.-]+\.[a-z]{2,}(?:[:/?#]|$)", url, re.IGNORECASE):
            return url
        url = "http://" + url   # "www.example.com/page" as users paste it
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower() or "http"
    if scheme == "http":
        scheme = "https"
    host = _normalize_host(parts.hostname or "")
    if not host:
        return url   # "http:///x", "http://:80": nothing to compare by
    if ":" in host:
        host = f"[{host}]"   # IPv6 literal
    netloc = host
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()) \
            and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    if parts.username is not None:
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{_normalize_pct(userinfo, _PATH_SAFE - {'/', '@'})}@{netloc}"
    path = _remove_dot_segments(_normalize_pct(parts.path, _PATH_SAFE)).rstrip("/")
    params = sorted(_normalize_pct(p, _QUERY_SAFE | {"="})
                    for p in _split_query(parts.query)
                    if not is_tracking_param(_param_name(p)))
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    fragment = _normalize_pct(fragment, _PATH_SAFE | {"?"})
    return urlunsplit((scheme, netloc, path, "&".join(params), fragment))


_DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_PREFIX_RE = re.compile(
    r"^(?:doi\s*:\s*|(?:https?://)?(?:dx\.)?(?:www\.)?doi\.org/|info:doi/)", re.IGNORECASE)


def normalize_doi(text: str) -> str | None:
    """The DOI in `text` in lower case (`10.1234/abc`), or None when it is not a DOI.

    Accepts `10.1234/abc`, `doi:10.1234/abc`, `https://doi.org/10.1234/abc`,
    `http://dx.doi.org/...` (percent-encoding in addresses decoded); punctuation that
    ends a sentence around a DOI ("see doi:10.1234/abc.") is not part of it.
    """
    s = text.strip()
    m = _DOI_PREFIX_RE.match(s)
    if m:
        was_url = "doi.org" in m.group().lower()
        s = s[m.end():]
        if was_url:
            s = unquote(s.split("#", 1)[0])
    s = s.strip().rstrip(".,;")
    return s.lower() if _DOI_RE.match(s) else None


def _isbn13_check(digits12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits12))
    return str((10 - total % 10) % 10)


def normalize_isbn(text: str) -> str | None:
    """The ISBN-13 (digits only) for an ISBN-10 or -13 in `text`, or None when invalid.

    Hyphens, spaces and an "ISBN"/"ISBN-13:" label are ignored; checksums are verified.
    """
    s = re.sub(r"^\s*ISBN(?:-1[03])?:?\s*", "", text, flags=re.IGNORECASE)
    s = re.sub(r"[\s\-‐‑–]", "", s).upper()
    if re.fullmatch(r"\d{9}[\dX]", s):
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(s))
        if total % 11:
            return None
        core = "978" + s[:9]
        return core + _isbn13_check(core)
    if re.fullmatch(r"97[89]\d{10}", s):
        return s if _isbn13_check(s[:12]) == s[12] else None
    return None


_ALNUM_RUNS = re.compile(r"[a-z0-9]+")


_GERMAN_LOWER = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))


def _fold_lower(text: str) -> str:
    """`ascii_fold(text).lower()`, with a fast path for German (the common case here)."""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFC", text).lower()
    for umlaut, spelled in _GERMAN_LOWER:
        folded = folded.replace(umlaut, spelled)
    return folded if folded.isascii() else ascii_fold(folded).lower()


def normalize_title(title: str) -> str:
    """Lower-case ASCII letters and digits only: `Städte-Partner` = `staedte partner`."""
    return "".join(_ALNUM_RUNS.findall(_fold_lower(title)))


def _comparable_title(title: str, words: int = 2, letters: int = 10) -> str:
    """The normalised title when it is long enough to count (see the module doc), else ""."""
    runs = _ALNUM_RUNS.findall(_fold_lower(title))
    joined = "".join(runs)
    return joined if len(runs) >= words and len(joined) >= letters else ""


# Where a subtitle written into the title starts ("Main title: Subtitle"); not the dot of
# an ordinal ("des 11. Jahrhunderts").
_SUBTITLE_SEPARATOR = re.compile(r"\s*(?::|\s[–—-]|(?<![0-9])\.)\s+")


def _cut_main_titles(title: str) -> set[str]:
    """The normalised main titles of `title` before each subtitle separator, those long
    enough not to be a rubric (see the module doc)."""
    heads = (_comparable_title(title[:m.start()], words=3, letters=15)
             for m in _SUBTITLE_SEPARATOR.finditer(title))
    return {h for h in heads if h}


# Entry types for a part of a book, which carry the ISBN of the whole.
PART_TYPES = frozenset({"inbook", "incollection", "inproceedings", "inreference",
                        "suppbook", "suppcollection", "bookinbook", "conference"})


@dataclass(frozen=True)
class _Signals:
    """What one record is compared by."""

    urls: frozenset[str]
    dois: frozenset[str]
    isbns: frozenset[str]
    titles: frozenset[str]  # normalised: with subtitle, and the main title alone
    year: int | None
    families: frozenset[str]
    shorts: frozenset[str] = frozenset()   # short title + year + author, for short titles
    heads: frozenset[str] = frozenset()    # main titles cut off before ": " and the like


_ISBN_LIST_RE = re.compile(r"[,;]|\s+(?=(?:ISBN|\d{3}))")   # "isbn = {978..., 3-...}"


def _signals(record: Record) -> _Signals:
    urls, dois, isbns = set(), set(), set()
    url = record.get("url").strip()
    if url:
        doi = normalize_doi(url) if "doi.org/" in url.lower() else None
        if doi:
            dois.add(doi)
        else:
            urls.add(normalize_url(url))
    doi = normalize_doi(record.fields["doi"]) if record.fields.get("doi") else None
    if doi:
        dois.add(doi)
    # A record matches on its full title (with subtitle) and on its main title alone,
    # since one source often gives the subtitle and another does not.
    title, subtitle = record.get("title"), record.get("subtitle")
    main = _comparable_title(title)
    full = _comparable_title(f"{title} {subtitle}") if subtitle else main
    titles = {t for t in (full, main) if t}
    heads = _cut_main_titles(title) - titles
    for part in _ISBN_LIST_RE.split(record.get("isbn")) if record.get("isbn") else ():
        isbn = normalize_isbn(part) if part.strip() else None
        if isbn:
            isbns.add(isbn)
    if record.type in PART_TYPES:
        # A chapter carries its book's ISBN: it counts only together with the same title.
        isbns = {f"{isbn}:{title}" for isbn in isbns for title in titles}
    year = int(record.year) if record.year else None
    persons = record.names.get("author") or record.names.get("editor") or []
    families = frozenset(f for f in (normalize_title(n.family) for n in persons) if f)
    # A title too short to count alone ("Gorod i mir") still counts with the same year
    # and a shared author.
    short = normalize_title(title) if not titles else ""
    shorts = frozenset(f"{short}|{year}|{family}" for family in families) \
        if short and year and not titles else frozenset()
    return _Signals(frozenset(urls), frozenset(dois), frozenset(isbns), frozenset(titles),
                    year, families, shorts, frozenset(heads))


def _title_reason(a: _Signals, b: _Signals, title: str) -> str | None:
    """Why two records sharing `title` are duplicates, or None when they are not."""
    if title not in a.titles and title not in b.titles:
        return None     # two main titles cut off: "X: Y" and "X: Z" are not one article
    if a.year is not None and b.year is not None and abs(a.year - b.year) > 1:
        return None
    if a.families and b.families and not (a.families & b.families):
        return None
    if a.dois and b.dois and not (a.dois & b.dois):
        return None
    if a.year is None or b.year is None:
        return "same title"
    if a.year == b.year:
        return f"same title, year {a.year}"
    return f"same title, year {a.year} vs {b.year}"


class DuplicateIndex:
    """Look-up tables from URL, DOI, ISBN and title to keys, for finding likely duplicates.

    Build it once from the library's `(key, record)` pairs; `find` costs a few dict
    look-ups (plus a scan of the records sharing the same title).
    """

    def __init__(self, pairs: Iterable[tuple[str, Record]] = ()) -> None:
        self._signals: dict[str, _Signals] = {}
        self._keys: dict[str, str] = {}          # folded key -> key as written
        self._order: dict[str, int] = {}        # folded key -> when it was added
        self._added = 0
        self._by = {kind: defaultdict(list)
                    for kind in ("doi", "isbn", "url", "title", "short")}
        for key, record in pairs:
            self.add(key, record)

    def __len__(self) -> int:
        return len(self._signals)

    def _entries(self, sig: _Signals) -> list[tuple[str, str]]:
        return _signal_entries(sig)

    def add(self, key: str, record: Record) -> None:
        """Index `record` under `key` (replacing what was indexed under that key)."""
        self._add(key, _signals(record))

    def _add(self, key: str, sig: _Signals) -> None:
        if key.lower() in self._signals:
            self.remove(key)
        folded = key.lower()
        self._signals[folded] = sig
        self._keys[folded] = key
        self._order[folded] = self._added
        self._added += 1
        for kind, value in self._entries(sig):
            self._by[kind][value].append(folded)

    def remove(self, key: str) -> None:
        """Forget `key`; unknown keys are ignored."""
        folded = key.lower()
        sig = self._signals.pop(folded, None)
        if sig is None:
            return
        del self._keys[folded], self._order[folded]
        for kind, value in self._entries(sig):
            bucket = self._by[kind][value]
            bucket.remove(folded)
            if not bucket:
                del self._by[kind][value]

    def find(self, record: Record, exclude_key: str | None = None) -> list[tuple[str, str]]:
        """Likely duplicates of `record` as `(key, reason)`, strongest signal first.

        `exclude_key` (compared case-insensitively) is left out: the record itself when
        checking an entry already in the library.
        """
        return self._find(_signals(record), exclude_key)

    def _find(self, sig: _Signals, exclude_key: str | None) -> list[tuple[str, str]]:
        excluded = exclude_key.lower() if exclude_key else None
        reasons: dict[str, list[str]] = {}
        rank: dict[str, int] = {}
        labels = {"doi": "same DOI", "isbn": "same ISBN", "url": "same URL",
                  "short": "same title, author and year"}
        for kind, value in self._entries(sig):
            for other in self._lookup(kind, value):
                if other == excluded:
                    continue
                if kind == "title":
                    reason = _title_reason(sig, self._signals_of(other), value)
                    if reason is None:
                        continue
                else:
                    reason = labels[kind]
                found = reasons.setdefault(other, [])
                rank.setdefault(other, ("doi", "isbn", "url", "title", "short").index(kind))
                if reason not in found:
                    found.append(reason)
        ordered = sorted(reasons, key=lambda k: (rank[k], self._position(k)))
        return [(self._key_as_written(k), "; ".join(reasons[k])) for k in ordered]

    # Storage accessors: a subclass may keep the tables elsewhere (see clippings.dupstore).
    def _lookup(self, kind: str, value: str):
        return self._by[kind].get(value, ())

    def _signals_of(self, folded: str) -> _Signals:
        return self._signals[folded]

    def _position(self, folded: str) -> int:
        return self._order[folded]

    def _key_as_written(self, folded: str) -> str:
        return self._keys[folded]


@dataclass
class DuplicateGroup:
    """Keys (in library order) that are likely duplicates of one another."""

    keys: list[str]
    reasons: list[tuple[str, str, str]] = field(default_factory=list)   # (key, key, reason)


def _signal_entries(sig: _Signals) -> list[tuple[str, str]]:
    """(kind, value) look-up entries of a record's signals, strongest kind first."""
    entries = [("doi", v) for v in sig.dois] + [("isbn", v) for v in sig.isbns]
    entries += [("url", v) for v in sig.urls]
    entries += [("title", t) for t in sorted(sig.titles | sig.heads)]
    entries += [("short", t) for t in sorted(sig.shorts)]
    return entries


# The fields (and name lists) duplicate detection reads.
SIGNAL_FIELDS = frozenset({"url", "doi", "isbn", "title", "subtitle", "date", "year",
                           "author", "editor"})
_LABELS = {"doi": "same DOI", "isbn": "same ISBN", "url": "same URL",
           "short": "same title, author and year"}


def find_duplicate_groups(pairs: Iterable[tuple[str, Record]]) -> list[DuplicateGroup]:
    """Every group of likely duplicates among `(key, record)` pairs, in library order.

    One pass puts every record into buckets by signal; only records sharing a bucket
    are compared, so a whole library costs about one signal computation per record.
    """
    keys: list[str] = []
    sigs: list[_Signals] = []
    buckets: dict[tuple[str, str], list[int]] = defaultdict(list)
    seen: set[str] = set()
    for key, record in pairs:
        if key in seen:
            continue
        seen.add(key)
        sig = _signals(record)
        for entry in _signal_entries(sig):
            buckets[entry].append(len(keys))
        keys.append(key)
        sigs.append(sig)

    reasons: dict[tuple[int, int], list[str]] = {}
    for (kind, value), members in buckets.items():
        if len(members) < 2:
            continue
        for a, b in _candidate_pairs(kind, members, sigs):
            reason = _title_reason(sigs[b], sigs[a], value) if kind == "title" \
                else _LABELS[kind]
            if reason is not None:
                found = reasons.setdefault((a, b), [])
                if reason not in found:
                    found.append(reason)

    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in sorted(reasons):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, DuplicateGroup] = {}
    for i, key in enumerate(keys):
        groups.setdefault(root(i), DuplicateGroup([])).keys.append(key)
    for (a, b), why in sorted(reasons.items()):
        groups[root(a)].reasons.append((keys[a], keys[b], "; ".join(why)))
    return [g for g in groups.values() if len(g.keys) > 1]


def _candidate_pairs(kind: str, members: list[int], sigs: list[_Signals]):
    """(earlier, later) index pairs of one bucket worth comparing.

    Equal identifiers link every member to the first; equal titles need a pairwise look
    at the years, within a window of ±1 year once sorted (undated ones meet everybody).
    """
    if kind != "title":
        first = members[0]
        return [(first, m) for m in members[1:]]
    dated = sorted((m for m in members if sigs[m].year is not None),
                   key=lambda m: sigs[m].year)
    undated = [m for m in members if sigs[m].year is None]
    out = []
    for i, a in enumerate(dated):
        for b in dated[i + 1:]:
            if sigs[b].year - sigs[a].year > 1:
                break
            out.append((min(a, b), max(a, b)))
    for u in undated:
        out += [(min(u, m), max(u, m)) for m in members if m != u and
                (m not in undated or m > u)]
    return out
