"""Every `clippings` command shown in README.md runs clean (exit 0).

The commands are read from the README's ```sh blocks, not copied here, so an example
that stops working fails this test. The quick tour runs in order in a fresh library; every
other example runs in its own copy of the shipped library. A local HTTP server stands in
for the network: the pages of every URL (in the README and in the library), Crossref,
Open Library and the Wayback Machine. Synopsis lines (`SOURCE...`, `KEY...`, `T`) are
not examples; optional parts in brackets are left out.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO
from servers import TestServer, send

README = REPO / "README.md"
PAGES = Path(__file__).parent / "fixtures" / "pages"
TOUR = "A quick tour"
URL = re.compile(r"https?://[^\s'\"}]+")
# SOURCE..., KEY, FIELD=VALUE..., T; and git's %O %A %B %P in the merge driver's line.
PLACEHOLDER = re.compile(r"^([A-Z][A-Z_]*(=[A-Z]+)?(\.\.\.)*|%[A-Z])$")
COMMANDS_SECTION = "Commands"
PASSWORD = "korrekt-Pferd-Batterie-42"


def readme_commands() -> list[tuple[str, str]]:
    """(section, command line) for every clippings command in README's sh blocks."""
    found, section = [], ""
    lines = README.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        if line.strip() == "```sh":
            block = []
            i += 1
            while lines[i].strip() != "```":
                block.append(lines[i])
                i += 1
            found += [(section, cmd) for cmd in _commands("\n".join(block))]
        i += 1
    return found


def _commands(block: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", block)
    out = []
    for line in joined.split("\n"):
        line = re.sub(r"\s+#\s.*$", "", line).strip()
        for part in line.split(" && "):
            part = re.sub(r"^\.venv/bin/", "", part.strip())
            words = part.split()
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words = words[1:]
            if words and words[0] == "clippings" or part.startswith("cd "):
                out.append(part)
    return out


# Commands that run until they are stopped (a web server): their own tests start them.
UNTIL_STOPPED = {"serve"}
# Examples that name a database server of their own (`--backend postgresql://...@dbhost`):
# the PostgreSQL tests run the same commands against a database they start.
NEEDS_DATABASE = re.compile(r"postgres(ql)?://")


def runnable(command: str) -> str | None:
    """The example without its optional [parts]; None for a synopsis line."""
    while re.search(r"\[[^\[\]]*\]", command):
        command = re.sub(r"\s*\[[^\[\]]*\]", "", command)
    words = shlex.split(command)
    if words[0] == "cd" or any(PLACEHOLDER.match(w) for w in words[1:]) or \
            (len(words) > 1 and words[1] in UNTIL_STOPPED) or NEEDS_DATABASE.search(command):
        return None
    return command


# --------------------------------------------------------------------------- stand-ins

CROSSREF = {"status": "ok", "message": {
    "DOI": "10.1234/abcd", "type": "journal-article",
    "title": ["Städtepartnerschaften zwischen Deutschland und Russland"],
    "author": [{"family": "Schmidt", "given": "Anna"}],
    "container-title": ["Osteuropa"], "volume": "66", "issue": "4", "page": "45-60",
    "issued": {"date-parts": [[2016, 4]]}, "language": "de"}}
OPENLIBRARY = {"ISBN:9783161484100": {
    "title": "Zwischen Annäherung und Distanz", "authors": [{"name": "Gabriele Gorzka"}],
    "publish_date": "2018", "publishers": [{"name": "Kassel University Press"}],
    "publish_places": [{"name": "Kassel"}]}}


class Network(dict):
    """The route table of the stand-in server: any path not named is the article."""

    def __init__(self, article: bytes):
        super().__init__()
        self.article = article

    def get(self, path, default=None):
        return super().get(path) or send(200, self.article)


@pytest.fixture(scope="module")
def network():
    page = (PAGES / "de_news_jsonld.html").read_text(encoding="utf-8")
    with TestServer() as server:
        # The page's own canonical address must lead back here, as on the web.
        server.routes = Network(local(page, server).encode("utf-8"))
        server.route("/works/10.1234/abcd",
                     send(200, json.dumps(CROSSREF).encode(), "application/json"))
        server.route("/api/books",
                     send(200, json.dumps(OPENLIBRARY).encode(), "application/json"))
        server.route("/wayback/available", send(200, json.dumps(
            {"archived_snapshots": {}}).encode(), "application/json"))
        yield server


def local(text: str, server: TestServer) -> str:
    """Every web address in `text` pointed at the stand-in server (same path)."""
    def swap(match: re.Match) -> str:
        rest = re.sub(r"^https?://[^/]+", "", match.group(0))
        return server.url(rest or "/")
    return URL.sub(swap, text)


def environment(server: TestServer, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPPINGS_")}
    base = server.url("").rstrip("/")
    env.update(HOME=str(home), EDITOR="true", VISUAL="true", PYTHONPATH=str(REPO),
               CLIPPINGS_CROSSREF_URL=base, CLIPPINGS_OPENLIBRARY_URL=base,
               CLIPPINGS_WAYBACK_URL=base, CLIPPINGS_WAYBACK_SAVE_URL=base,
               CLIPPINGS_TIMEOUT="10")
    return env


def execute(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    words = shlex.split(command.replace("~/", str(Path(env["HOME"])) + "/"))
    extra = {}
    while re.match(r"^[A-Z_]+=", words[0]):
        name, _, _value = words.pop(0).partition("=")
        extra[name] = "true" if name in ("EDITOR", "VISUAL") else _value
    # A password for `user add` comes from stdin when it is not a terminal.
    return subprocess.run([sys.executable, "-m", "clippings", *words[1:]], cwd=cwd,
                          env={**env, **extra}, capture_output=True, text=True,
                          timeout=300, input=PASSWORD + "\n")


def make_pdf(path: Path) -> None:
    """A small PDF handout with document metadata, as `add handreichung.pdf` expects."""
    from pypdf import PdfWriter
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "Handreichung Städtepartnerschaften",
                         "/Author": "Deutsch-Russisches Forum",
                         "/CreationDate": "D:20160301120000"})
    with path.open("wb") as handle:
        writer.write(handle)


def import_files(folder: Path) -> None:
    """The files the README's `import` example names, with valid new entries."""
    (folder / "zotero-export.ris").write_text(
        "TY  - NEWS\nTI  - Partnerschaft mit Twer gefeiert\nAU  - Becker, Jonas\n"
        "T2  - Osnabrücker Zeitung\nDA  - 2019/05/12\nLA  - de\nER  - \n", encoding="utf-8")
    (folder / "more.bib").write_text(
        "@book{weber2020staedte, author = {Weber, Karin}, title = {Städte im Dialog},\n"
        "  publisher = {Metropol}, location = {Berlin}, date = {2020}}\n", encoding="utf-8")
    (folder / "zotero.json").write_text(json.dumps([{
        "id": "krause2021", "type": "article-newspaper",
        "title": "Neue Wege der Bürgerbegegnung",
        "author": [{"family": "Krause", "given": "Lena"}],
        "container-title": "Märkische Allgemeine",
        "issued": {"date-parts": [[2021, 3, 2]]}, "language": "de"}]), encoding="utf-8")


def shipped_copy(folder: Path, server: TestServer) -> Path:
    folder.mkdir()
    text = (REPO / "library.bib").read_text(encoding="utf-8")
    (folder / "library.bib").write_text(local(text, server), encoding="utf-8")
    (folder / "snapshots").mkdir()
    import_files(folder)
    if shutil.which("git"):   # the shipped library lives in a git checkout
        subprocess.run(["git", "init", "-q", str(folder)], check=True)
    return folder


# --------------------------------------------------------------------------- the tests

COMMANDS = readme_commands()


def test_the_readme_has_examples_to_run():
    tour = [c for s, c in COMMANDS if s == TOUR]
    assert len(tour) >= 10 and any("--no-fetch" in c for c in tour)
    others = [c for s, c in COMMANDS if s != TOUR and runnable(c)]
    assert len(others) >= 25 and len(EXAMPLES) >= 25 and SECTIONS
    assert runnable("clippings add SOURCE... [--type T]") is None
    assert runnable("clippings show k [--json | --bibtex]") == "clippings show k"


def test_the_quick_tour_runs_clean_and_its_entries_pass_lint(network, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = environment(network, home)
    cwd = tmp_path
    for command in (c for s, c in COMMANDS if s == TOUR):
        if command.startswith("cd "):
            cwd = Path(command[3:].replace("~", str(home)))
            make_pdf(cwd / "handreichung.pdf")
            continue
        proc = execute(local(command, network), cwd, env)
        assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"
    assert (cwd / "literatur.txt").read_text(encoding="utf-8").strip()
    lint = execute("clippings lint", cwd, env)
    assert lint.returncode == 0 and "no findings" in lint.stdout


EXAMPLES = sorted({c for s, c in COMMANDS if s == COMMANDS_SECTION and runnable(c)},
                  key=lambda c: [x for _, x in COMMANDS].index(c))
SECTIONS = list(dict.fromkeys(s for s, c in COMMANDS
                              if s not in (TOUR, COMMANDS_SECTION) and runnable(c)))


def shipped_env(tmp_path: Path, network: TestServer) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "home"
    home.mkdir()
    return shipped_copy(tmp_path / "lib", network), environment(network, home)


@pytest.mark.parametrize("command", EXAMPLES)
def test_every_command_example_runs_clean(network, tmp_path, command):
    """Each example of the Commands section, alone in a copy of the shipped library (one
    renames or removes what the next one uses)."""
    command = runnable(command)
    cwd, env = shipped_env(tmp_path, network)
    if command.split()[1] == "init":
        cwd = tmp_path / "empty"
        cwd.mkdir()
    proc = execute(local(command, network), cwd, env)
    assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.parametrize("section", SECTIONS)
def test_every_other_section_runs_clean(network, tmp_path, section):
    """The examples of every other section, in order, in one copy of the shipped library
    (`user add anna`, then `user list`, then `user rm anna`)."""
    cwd, env = shipped_env(tmp_path, network)
    for command in (runnable(c) for s, c in COMMANDS if s == section):
        if command:
            proc = execute(local(command, network), cwd, env)
            assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"
    shutil.rmtree(tmp_path, ignore_errors=True)
