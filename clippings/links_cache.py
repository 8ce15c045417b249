"""The link-check results cache: `index/links.json` in the library folder.

Derived data like the rest of `index/`: deleting it loses nothing but the time of the
checks. One record per (key, field, url), so a changed URL is checked afresh. `check
--max-age 7d` reuses records younger than that; `clippings show` reads the last status.

Stdlib only (json), so `clippings show` stays fast.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .errors import UsageError

# How each link status reads (German, English): the chart, the web pages and the static
# site use these words.
STATUS_WORDS = {
    "ok": ("erreichbar", "reachable"), "redirected": ("umgezogen", "moved"),
    "broken": ("nicht gefunden", "not found"), "gone": ("Server weg", "server gone"),
    "soft_404": ("Fehlerseite (Soft 404)", "error page (soft 404)"),
    "drifted": ("Text verändert", "text changed"), "blocked": ("blockiert", "blocked"),
    "timeout": ("Zeitüberschreitung", "timeout"), "tls_error": ("TLS-Fehler", "TLS error"),
    "error": ("Fehler", "error"),
}

CACHE_FILE = Path("index") / "links.json"
VERSION = 1
# Transient outcomes are never reused: the next run should try again.
NOT_REUSED = frozenset({"timeout", "error"})

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)", re.I)


def parse_duration(text: str) -> timedelta:
    """'7d', '12h', '30m', '90s', '2w', '1d12h' or plain seconds -> timedelta."""
    value = (text or "").strip().lower()
    pos, total = 0, 0.0
    for match in _DURATION.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2) or "s"]
        pos = match.end()
    if not value or pos != len(value):
        raise UsageError(f"invalid duration {text!r}: use e.g. 7d, 12h, 30m or 90s")
    return timedelta(seconds=total)


def _path(library_folder) -> Path:
    return Path(library_folder) / CACHE_FILE


def cache_key(key: str, field: str, url: str) -> str:
    return f"{key}\t{field}\t{url}"


def load(library_folder) -> dict[str, dict]:
    """All cached results by `cache_key`; {} when there is no (readable) cache."""
    try:
        data = json.loads(_path(library_folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}
    results = data.get("results")
    return results if isinstance(results, dict) else {}


def save(library_folder, results: list[dict]) -> None:
    """Merge result dicts (as from `Result.as_dict()`) into the cache, atomically."""
    entries = load(library_folder)
    for r in results:
        # One record per (key, field): the result for a URL the entry no longer has
        # (fixed, edited) would only mislead `show`.
        prefix = cache_key(r["key"], r.get("field", "url"), "")
        for stale in [k for k in entries if k.startswith(prefix)]:
            del entries[stale]
        entries[cache_key(r["key"], r.get("field", "url"), r["url"])] = r
    path = _path(library_folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"version": VERSION, "results": entries}, ensure_ascii=False,
                      indent=1, sort_keys=True)
    fd, tmp = tempfile.mkstemp(prefix=".links-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def fresh(entries: dict[str, dict], key: str, field: str, url: str, max_age: timedelta,
          now: datetime | None = None) -> dict | None:
    """The cached result for this link if it is younger than `max_age` and reusable."""
    entry = entries.get(cache_key(key, field, url))
    if not entry or entry.get("status") in NOT_REUSED:
        return None
    checked = _parse_time(entry.get("checked_at", ""))
    now = now or datetime.now(timezone.utc)
    if checked is None or now - checked > max_age or checked > now + timedelta(minutes=5):
        return None
    return entry


def _parse_time(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def last_status(library_folder, key: str, links: dict[str, str] | None = None
                ) -> dict | None:
    """The most recent result for the entry's `url` (else its `archiveurl`), or None.

    Results belong to (key, URL): `links` maps the entry's fields to its URLs now
    (`{"url": ..., "archiveurl": ...}`), and a result for any other URL (the entry was
    edited, or removed and a new entry took its key) is not the entry's any more.
    """
    return current_results(library_folder, [(key, links or {})]).get(key)


def current_results(library_folder, entries) -> dict[str, dict]:
    """key -> the last result for the URL each entry holds now (its `url`, else its
    `archiveurl`), for many entries at once; `entries` yields (key, own fields) pairs.
    Results of URLs an entry no longer has are left out."""
    cached = load(library_folder)
    found: dict[str, dict] = {}
    for key, fields in entries:
        for field in ("url", "archiveurl"):
            url = (fields.get(field) or "").strip()
            hit = cached.get(cache_key(key, field, url)) if url else None
            if hit:
                found[key] = hit
                break
    return found
