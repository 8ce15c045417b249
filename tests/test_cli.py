"""The command-line contract: commands, JSON shapes, exit codes, library discovery."""

from __future__ import annotations

import json
from pathlib import Path

from clippings.library import Library

from helpers import run, run_process


def test_version_and_help():
    proc = run_process("--version")
    assert proc.returncode == 0 and "clippings" in proc.stdout
    assert run("--help").exit_code == 0
    for command in ("init", "add", "list", "show", "set", "unset", "edit", "rename", "rm",
                    "import", "lint"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example" in result.output, command


def test_init_creates_an_empty_library(tmp_path):
    result = run("init", str(tmp_path / "lib"))
    assert result.exit_code == 0
    assert (tmp_path / "lib" / "library.bib").is_file()
    assert (tmp_path / "lib" / "snapshots").is_dir()
    assert "index/" in (tmp_path / "lib" / ".gitignore").read_text()
    assert "web-users.json" in (tmp_path / "lib" / ".gitignore").read_text()
    assert run("init", str(tmp_path / "lib")).exit_code == 2


def test_library_discovery_walks_up(tmp_path, monkeypatch):
    run("init", str(tmp_path))
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    proc = run_process("add", "--no-fetch", "--set", "title=Gefunden", "--set", "date=2020",
                       cwd=sub, env={"CLIPPINGS_LIBRARY": ""})
    assert proc.returncode == 0, proc.stderr
    assert "Gefunden" in (tmp_path / "library.bib").read_text()
    proc = run_process("list", cwd=tmp_path.parent / ".." if False else Path("/"),
                       env={"CLIPPINGS_LIBRARY": str(tmp_path)})
    assert "Gefunden" in proc.stdout


def test_no_library_is_a_clear_error(tmp_path):
    proc = run_process("list", cwd=tmp_path, env={"CLIPPINGS_LIBRARY": ""})
    assert proc.returncode == 2
    assert proc.stderr.startswith("clippings: error: no library.bib")
    assert "Traceback" not in proc.stderr


def test_add_manual_entry_json_and_key(library):
    result = run("add", "--no-fetch", "--type", "article", "--json",
                 "--set", "title=Dossier: Deutsch-russische Städtepartnerschaften",
                 "--set", "author=Lohse, Peggy", "--set", "journaltitle=RBTH",
                 "--set", "date=2017-06-26", "--tag", "dossier",
                 "--set", "url=https://de.rbth.com/x?utm_source=tw&id=5", library=library)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["key"] == "lohse2017dossier"
    assert data["entry"]["url"] == "https://de.rbth.com/x?id=5"
    assert data["entry"]["keywords"] == "dossier"
    assert data["snapshot"] is None and data["duplicates"] == []
    shown = json.loads(run("show", "lohse2017dossier", "--json", library=library).output)
    assert shown["author"] == "Lohse, Peggy" and shown["type"] == "article"


def test_duplicate_refused_then_forced(library):
    args = ("add", "--no-fetch", "--set", "title=Michendorfer Entspannungspolitik",
            "--set", "date=2015-04-20")
    assert run(*args, library=library).exit_code == 0
    before = library.read_bytes()
    refused = run("add", "--no-fetch", "--set", "title=Michendorfer  entspannungspolitik!",
                  "--set", "date=2016", library=library)
    assert refused.exit_code == 1
    assert "michendorfer2015entspannungspolitik" in refused.stderr
    assert library.read_bytes() == before
    forced = run(*args, "--force", library=library)
    assert forced.exit_code == 0
    assert forced.output.strip() == "michendorfer2015entspannungspolitika"


def test_invalid_input_exit_2_and_nothing_written(shipped):
    before = shipped.read_bytes()
    cases = [("show", "nosuchkey"), ("set", "nosuchkey", "note=x"),
             ("set", "lohse2017dossier", "url=not a url"),
             ("set", "lohse2017dossier", "date=26.06.2017"),
             ("set", "lohse2017dossier", "noequals"),
             ("add", "--no-fetch", "--set", "title=X", "--set", "url=ftp//bad"),
             ("rename", "lohse2017dossier", "bad key"),
             ("list", "--year", "zwanzig"), ("list", "--nosuchflag")]
    for args in cases:
        result = run(*args, library=shipped)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
    assert shipped.read_bytes() == before


def test_set_unset_only_change_that_entry(shipped):
    text = shipped.read_text(encoding="utf-8")
    lib = Library.load(shipped)
    start, end = lib.entry_span("rutz2011geschenk")
    assert run("set", "rutz2011geschenk", "urldate=2024-05-01", "note=Neu & {anders}",
               library=shipped).exit_code == 0
    assert run("unset", "rutz2011geschenk", "keywords", library=shipped).exit_code == 0
    after = shipped.read_text(encoding="utf-8")
    assert after[:start] == text[:start]
    assert after.endswith(text[end:])
    rec = Library.load(shipped).record("rutz2011geschenk")
    assert rec.fields["note"] == "Neu & {anders}"
    assert rec.fields["urldate"] == "2024-05-01"
    assert "keywords" not in rec.fields
    assert run("lint", library=shipped).exit_code == 0


def test_list_filters_and_json(shipped):
    result = run("list", "--type", "article", "--year", "2016..2017", "--json",
                 library=shipped)
    rows = json.loads(result.output)
    assert {r["key"] for r in rows} == {"staedtepartner2017naehkaestchen",
                                        "lohse2017dossier", "kreis2016dueren",
                                        "spremberg2016schlaegt"}
    assert all(set(r) >= {"key", "type", "title"} for r in rows)
    lines = run("list", "--tag", "dossier", library=shipped).output.splitlines()
    assert [line.split()[0] for line in lines] == ["lohse2017dossier"]


REPORT_WITH_TYPE_AND_KEY_FIELDS = (
    "@report{r1,\n  author = {Muster, Max},\n  title = {Bericht},\n"
    "  type = {Arbeitspapier},\n  institution = {X},\n  date = {2016},\n"
    "  key = {Sortkey},\n}\n")


def test_fields_named_type_and_key_never_hide_the_entrys_type_and_key(library):
    library.write_text(REPORT_WITH_TYPE_AND_KEY_FIELDS, encoding="utf-8")
    shown = json.loads(run("show", "r1", "--json", library=library).output)
    listed = json.loads(run("list", "--json", library=library).output)
    for data in (shown, listed[0]):
        assert (data["key"], data["type"]) == ("r1", "report")
        assert (data["field:type"], data["field:key"]) == ("Arbeitspapier", "Sortkey")
        assert data["title"] == "Bericht"
    lines = run("show", "r1", library=library).output.splitlines()
    assert lines[0].split() == ["r1", "@report"]
    assert ["type", "Arbeitspapier"] in [line.split() for line in lines]
    # set and add write the fields under their own names; the JSON shows them prefixed
    assert run("set", "r1", "type=Diskussionspapier", library=library).exit_code == 0
    data = json.loads(run("show", "r1", "--json", library=library).output)
    assert (data["type"], data["field:type"]) == ("report", "Diskussionspapier")
    assert Library.load(library).record("r1").fields["type"] == "Diskussionspapier"
    added = run("add", "--no-fetch", "--type", "report", "--json", "--set", "title=Zweiter",
                "--set", "type=Gutachten", "--set", "date=2017", library=library)
    entry = json.loads(added.output)["entry"]
    assert (entry["type"], entry["field:type"]) == ("report", "Gutachten")
    assert entry["key"] == json.loads(added.output)["key"]


def test_rename_and_rm_move_snapshots(shipped):
    snap = shipped.parent / "snapshots" / "lohse2017dossier"
    snap.mkdir(parents=True)
    (snap / "text.txt").write_text("Text", encoding="utf-8")
    assert run("rename", "lohse2017dossier", "lohse2017", library=shipped).exit_code == 0
    assert (shipped.parent / "snapshots" / "lohse2017" / "text.txt").is_file()
    assert not snap.exists()
    assert run("rename", "lohse2017", "rutz2011geschenk", library=shipped).exit_code == 1
    assert run("rm", "lohse2017", library=shipped).exit_code == 0
    assert not (shipped.parent / "snapshots" / "lohse2017").exists()
    assert "lohse2017" not in Library.load(shipped)
    assert len(Library.load(shipped)) == 16


def test_edit_validates_before_saving(shipped, tmp_path):
    editor = tmp_path / "editor.py"
    editor.write_text("import sys\np = sys.argv[1]\nt = open(p).read()\n"
                      "open(p, 'w').write(t.replace('RBTH', 'Russia Beyond'))\n")
    proc = run_process("--library", str(shipped), "edit", "lohse2017dossier",
                       env={"EDITOR": f"python3 {editor}"})
    assert proc.returncode == 0, proc.stderr
    assert Library.load(shipped).record("lohse2017dossier").fields["journaltitle"] == \
        "Russia Beyond"
    broken = tmp_path / "broken.py"
    broken.write_text("import sys\np = sys.argv[1]\nt = open(p).read()\n"
                      "open(p, 'w').write(t.replace('},', '', 1))\n")
    before = shipped.read_bytes()
    proc = run_process("--library", str(shipped), "edit", "lohse2017dossier",
                       env={"EDITOR": f"python3 {broken}"})
    assert proc.returncode == 2
    assert "nothing was saved" in proc.stderr and "rejected-edits" in proc.stderr
    assert shipped.read_bytes() == before


def test_import_bib_with_collisions_and_duplicates(shipped, tmp_path):
    other = tmp_path / "other.bib"
    other.write_text("@string{lr = {Lausitzer Rundschau}}\n"
                     "@article{lohse2017dossier, author = {M{\\\"u}ller, Hans}, "
                     "title = {Ganz anderer Artikel}, journaltitle = lr, date = {2019}}\n"
                     "@article{copy, title = {Spremberg schlägt Brücke nach Russland}, "
                     "journaltitle = lr, date = {2016-04-29}}\n", encoding="utf-8")
    result = run("import", str(other), library=shipped)
    assert result.exit_code == 1  # one duplicate was refused
    assert "lohse2017dossiera" in result.output
    assert "spremberg2016schlaegt" in result.stderr
    rec = Library.load(shipped).record("lohse2017dossiera")
    assert rec.names["author"][0].family == "Müller"
    assert rec.fields["journaltitle"] == "Lausitzer Rundschau"
    assert run("lint", library=shipped).exit_code == 0


def test_lint_reports_findings_with_lines(library):
    library.write_text(
        "@article{a,\n  title = {A},\n  date = {2017-13-01},\n"
        "  url = {https://example.org/x?utm_source=news},\n  note = {},\n}\n"
        "@Book{A2, title = {Caf\u0065\u0301}, year = 2000, author = {X, Y}}\n"
        "@weird{w, title = {W}, date = {2000}}\n"
        "@misc{dup, title = {Caf\u00e9}, date = {2000}}\n", encoding="utf-8")
    result = run("lint", "--json", library=library)
    assert result.exit_code == 1
    findings = json.loads(result.output)
    got = {(f["key"], f["field"]) for f in findings}
    assert ("a", "date") in got and ("a", "url") in got and ("a", "note") in got
    assert ("a", "journaltitle") in got      # required field
    assert ("A2", "title") in got            # not NFC
    assert ("w", "") in got                   # unknown type
    assert all(set(f) >= {"key", "field", "severity", "message", "line"} for f in findings)
    assert next(f for f in findings if f["field"] == "date")["line"] == 3


def test_import_ris_and_csljson_files(library):
    fixtures = Path(__file__).parent / "fixtures" / "formats"
    result = run("import", str(fixtures / "zotero.ris"), str(fixtures / "zotero.json"),
                 library=library)
    assert result.exit_code in (0, 1), result.output
    lib = Library.load(library)
    assert len(lib) >= 2
    assert all(rec.fields.get("title") for rec in lib.records())
    # A second import of the same files adds nothing: every item is a likely duplicate.
    again = run("import", str(fixtures / "zotero.ris"), library=library)
    assert again.exit_code == 1 and "likely duplicate" in again.stderr
    assert len(Library.load(library)) == len(lib)


def test_import_prints_every_changed_key_whatever_the_format(library, tmp_path):
    csl = tmp_path / "u.json"
    csl.write_text(json.dumps([
        {"id": "..", "type": "webpage", "title": "Dots page",
         "issued": {"date-parts": [[2020]]}},
        {"id": "a b", "type": "webpage", "title": "Space page",
         "issued": {"date-parts": [[2020]]}},
        {"id": "12345/ABCD", "type": "webpage", "title": "Zotero page",
         "issued": {"date-parts": [[2020]]}},     # a database id, not a key: no line
        {"id": "kept", "type": "webpage", "title": "Kept page",
         "issued": {"date-parts": [[2020]]}}]), encoding="utf-8")
    ris = tmp_path / "u.ris"
    ris.write_text("TY  - ELEC\nID  - a b\nTI  - RIS page\nPY  - 2021\nER  - \n",
                   encoding="utf-8")
    bib = tmp_path / "u.bib"
    bib.write_text("@misc{.hidden, title={Hidden}, date={2020}}\n", encoding="utf-8")
    result = run("import", str(csl), str(ris), str(bib), library=library)
    assert result.exit_code == 0, result.output
    changed = [line for line in result.stdout.splitlines() if " -> " in line]
    assert changed == [".. -> dots2020page", "a b -> a_b", "a b -> a_ba",
                       ".hidden -> hidden2020"]
    assert set(Library.load(library).keys()) == {"dots2020page", "a_b", "zotero2020page",
                                                 "kept", "a_ba", "hidden2020"}


def test_a_closed_pipe_is_not_an_error(library):
    import subprocess
    import sys
    # More output than a pipe buffer holds, so the writer really meets the closed pipe.
    library.write_text("".join(f"@misc{{k{i}, title = {{Ein ziemlich langer Titel Nummer {i} "
                               f"über Städtepartnerschaften}}, date = {{2020}}}}\n"
                               for i in range(3000)), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "clippings", "--library", str(library),
                             "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()            # like `clippings list | head -1`
    _, err = proc.communicate(timeout=60)
    assert err == b""


def test_set_latex_writes_the_value_as_given(shipped):
    result = run("set", "lohse2017dossier", "--latex",
                 r'title=Dossier: {D}eutsch-russische St{\"a}dtepartnerschaften',
                 library=shipped)
    assert result.exit_code == 0, result.output
    assert r'St{\"a}dtepartnerschaften' in shipped.read_text(encoding="utf-8")
    rec = Library.load(shipped).record("lohse2017dossier")
    assert rec.fields["title"] == "Dossier: Deutsch-russische Städtepartnerschaften"
    before = shipped.read_bytes()
    bad = run("set", "lohse2017dossier", "--latex", "title={unbalanced", library=shipped)
    assert bad.exit_code == 2 and shipped.read_bytes() == before


def test_encoding_setting_reads_and_writes_a_latin1_library(library):
    library.write_bytes("@misc{k, title = {Grüße aus Köln}, date = {2020}}\n"
                        .encode("latin-1"))
    assert run("list", library=library).exit_code == 2      # not UTF-8: refused
    (library.parent / "clippings.toml").write_text('encoding = "latin-1"\n')
    assert "Grüße aus Köln" in run("list", library=library).output
    assert run("set", "k", "note=schön", library=library).exit_code == 0
    assert "schön".encode("latin-1") in library.read_bytes()


def test_no_fetch_source_goes_into_its_field(library):
    result = run("add", "--no-fetch", "https://example.org/a?utm_source=x", "--set",
                 "title=Ohne Abruf", "--json", library=library)
    assert json.loads(result.output)["entry"]["url"] == "https://example.org/a"
    doi = run("add", "--no-fetch", "doi:10.1234/ABC", "--set", "title=Mit DOI", "--json",
              library=library)
    assert json.loads(doi.output)["entry"]["doi"] == "10.1234/abc"
    assert run("add", "--no-fetch", "kein Beleg", library=library).exit_code == 2
