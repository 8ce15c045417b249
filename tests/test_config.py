"""Settings: clippings.toml, CLIPPINGS_<NAME> (wins over the file), flags (win over both)."""

from __future__ import annotations

import pytest

from clippings.config import load_settings
from clippings.errors import UsageError

from helpers import run


def test_file_then_environment_then_flags(tmp_path):
    (tmp_path / "clippings.toml").write_text('timeout = 5\nemail = "a@example.org"\n'
                                             'key_pattern = "{auth}:{year}"\n')
    settings = load_settings(tmp_path, environ={})
    assert (settings.timeout, settings.email, settings.concurrency) == (5.0, "a@example.org", 16)
    settings = load_settings(tmp_path, environ={"CLIPPINGS_TIMEOUT": "7"})
    assert settings.timeout == 7.0
    settings = load_settings(tmp_path, {"timeout": 9}, environ={"CLIPPINGS_TIMEOUT": "7"})
    assert settings.timeout == 9.0


def test_bad_settings_are_clear_errors(tmp_path):
    (tmp_path / "clippings.toml").write_text("concurency = 3\n")
    with pytest.raises(UsageError, match="unknown setting.*concurency"):
        load_settings(tmp_path, environ={})
    (tmp_path / "clippings.toml").write_text('timeout = "soon"\n')
    with pytest.raises(UsageError, match="timeout"):
        load_settings(tmp_path, environ={})
    (tmp_path / "clippings.toml").write_text("timeout = \n")
    with pytest.raises(UsageError, match="clippings.toml"):
        load_settings(tmp_path, environ={})


def test_key_pattern_setting_is_used(library):
    (library.parent / "clippings.toml").write_text('key_pattern = "{auth}:{year}"\n')
    result = run("add", "--no-fetch", "--set", "author=Lohse, Peggy", "--set",
                 "title=Dossier", "--set", "date=2017", library=library)
    assert result.output.strip() == "lohse:2017"
    (library.parent / "clippings.toml").write_text('key_pattern = "{nonsense}"\n')
    bad = run("add", "--no-fetch", "--set", "title=Anderes", library=library)
    assert bad.exit_code == 2 and "nonsense" in bad.stderr


def test_rename_follows_crossref(library):
    library.write_text("@book{parent, title = {Das Buch}, author = {A, B}, date = {2011}}\n"
                       "@inbook{child, author = {C, D}, title = {Kapitel}, "
                       "crossref = {parent}}\n", encoding="utf-8")
    assert run("rename", "parent", "buch2011", library=library).exit_code == 0
    text = library.read_text()
    assert "crossref = {buch2011}" in text
    shown = run("show", "child", "--json", library=library).output
    assert '"booktitle": "Das Buch"' in shown
