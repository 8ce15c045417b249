"""Settings: `clippings.toml` beside library.bib, overridden by CLIPPINGS_<NAME> variables.

Flags win over both; the CLI passes them as `overrides`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import UsageError

LIBRARY_FILE = "library.bib"


def find_library(option: str | os.PathLike | None = None, cwd: Path | None = None,
                 environ: dict | None = None) -> Path:
    """The library.bib to use: --library, else $CLIPPINGS_LIBRARY, else walk up from cwd."""
    environ = os.environ if environ is None else environ
    given = option or environ.get("CLIPPINGS_LIBRARY")
    if given:
        path = Path(given).expanduser()
        if path.is_dir() or path.suffix.lower() != ".bib":
            path = path / LIBRARY_FILE
        if not path.is_file():
            raise UsageError(f"no library at {path} (create one with `clippings init`)")
        return path
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / LIBRARY_FILE
        if candidate.is_file():
            return candidate
    raise UsageError("no library.bib here or in any parent folder; run `clippings init` "
                     "or pass --library PATH")


@dataclass
class Settings:
    user_agent: str = ""
    email: str = ""
    concurrency: int = 16
    per_host: int = 2
    timeout: float = 20.0
    host_spacing: float = 0.0   # seconds between two requests to the same host
    max_download_mb: float = 25.0
    key_pattern: str = "{auth}{year}{title}"
    style: str = "din-iso-690"
    locale: str = "de-DE"
    crossref_url: str = "https://api.crossref.org"
    openlibrary_url: str = "https://openlibrary.org"
    wayback_url: str = "https://archive.org"
    wayback_save_url: str = "https://web.archive.org"
    encoding: str = ""          # of library.bib when it is not UTF-8 and has no coding line
    old_url_field: str = "origurl"
    search_backend: str = "whoosh"   # or a postgresql:// URL (clippings.search.backend)
    search_schema: str = ""          # PostgreSQL schema of this library; "" = from its folder
    search_read_url: str = ""        # a read replica that search/export/serve query instead
    search_timeout: float = 0.0      # seconds a search statement may run in PostgreSQL; 0: none
    # Fetching from loopback/private networks: fine for the CLI, refused by `serve`
    # unless the library's settings allow it (air-gapped installs, tests).
    allow_private_addresses: bool = True


def load_settings(folder: Path | None, overrides: dict | None = None,
                  environ: dict | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    values: dict = {}
    if folder is not None:
        path = Path(folder) / "clippings.toml"
        if path.is_file():
            try:
                import tomllib   # only when there is a file: a search starts faster
                values.update(tomllib.loads(path.read_text(encoding="utf-8")))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise UsageError(f"{path}: {exc}") from None
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise UsageError(f"{folder}/clippings.toml: unknown setting(s): {', '.join(unknown)}")
    for name in known:
        env = environ.get("CLIPPINGS_" + name.upper())
        if env is not None:
            values[name] = env
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    settings = Settings()
    for name, value in values.items():
        kind = type(getattr(settings, name))
        try:
            setattr(settings, name, boolean(value) if kind is bool else kind(value))
        except (TypeError, ValueError):
            raise UsageError(f"setting {name}: {value!r} is not a valid {kind.__name__}") \
                from None
    if not 0 <= settings.search_timeout < 86400:
        raise UsageError(f"setting search_timeout: {settings.search_timeout:g} is not a "
                         "number of seconds under a day (0: no limit)")
    return settings


def boolean(value) -> bool:
    """A bool setting from TOML (true/false) or the environment ("1", "yes", "false" ...)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)
