"""The git merge driver: real repositories, real `git merge` / `git pull`, the driver
registered as `python -m clippings merge-driver %O %A %B %P`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from clippings.config import Settings
from clippings.gitmerge import merge_texts
from clippings.gitsetup import setup
from clippings.library import Library
from clippings.model import Record
from helpers import REALBIBS, REPO, run, run_process

if shutil.which("git") is None:
    if os.environ.get("CLIPPINGS_CI") == "1":
        raise RuntimeError("git is missing: .ci/run must install it")
    pytest.skip("git is not installed", allow_module_level=True)

BASE = """% Team library
@string{mdz = {Moskauer Deutsche Zeitung}}

@article{lohse2017dossier,
  author       = {Lohse, Peggy},
  title        = {Dossier: Deutsch-russische Städtepartnerschaften},
  journaltitle = mdz,
  date         = {2017-06-26},
  url          = {https://example.de/dossier},
}

% Konferenzen
@online{forum2015konferenz,
  title        = {Städtepartnerkonferenz in Karlsruhe},
  date         = {2015-10-28},
  url          = {https://example.de/konferenz},
  note         = {XIII. Konferenz},
}

@book{rutz2011geschenk,
  author       = {Rutz, Hans},
  title        = {Ein Geschenk der Geschichte},
  date         = {2011},
  publisher    = {Verlag},
}
"""


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd.parent),
           "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.org"}
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {args}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def make_repo(tmp_path: Path, text: str = BASE) -> Path:
    repo = tmp_path / "team"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "library.bib").write_text(text, encoding="utf-8")
    (repo / ".gitignore").write_text("index/\n")
    setup(repo)   # the driver runs as sys.executable -m clippings: any venv works
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    return repo


def branch(repo: Path, name: str, text: str, start: str = "main") -> None:
    git(repo, "checkout", "-q", "-B", name, start)
    (repo / "library.bib").write_text(text, encoding="utf-8")
    git(repo, "commit", "-qam", name)


def merge(repo: Path, ours: str, theirs: str) -> subprocess.CompletedProcess:
    """Commit `ours` on main and `theirs` on a branch, then `git merge` it into main."""
    branch(repo, "theirs", theirs)
    branch(repo, "main", ours, start="main")
    return git(repo, "merge", "--no-edit", "theirs", check=False)


def bib(repo: Path) -> str:
    return (repo / "library.bib").read_text(encoding="utf-8")


def keys(text: str) -> list[str]:
    return re.findall(r"^@(?!string)\w+\{([^,\s]+),", text, re.M | re.I)


def add_entry(text: str, key: str, title: str, url: str) -> str:
    return text + (f"\n@online{{{key},\n  title        = {{{title}}},\n"
                   f"  date         = {{2024}},\n  url          = {{{url}}},\n}}\n")


# -- scenarios through git merge ----------------------------------------------------------

def test_entries_added_on_both_sides_are_all_kept_ours_first(tmp_path):
    repo = make_repo(tmp_path)
    ours = add_entry(add_entry(BASE, "o1", "Unser erster Artikel", "https://o.de/1"),
                     "o2", "Unser zweiter Artikel", "https://o.de/2")
    theirs = add_entry(BASE, "t1", "Ihr Artikel über Partnerschaften", "https://t.de/1")
    proc = merge(repo, ours, theirs)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    merged = bib(repo)
    assert keys(merged) == ["lohse2017dossier", "forum2015konferenz", "rutz2011geschenk",
                            "o1", "o2", "t1"]
    # Ours byte for byte, theirs' entry after it.
    assert merged.startswith(ours)
    assert merged[len(ours):].strip() == theirs[len(BASE):].strip()
    assert git(repo, "status", "--porcelain").stdout.strip() == ""
    assert run("lint", library=repo).exit_code in (0, 1)


def test_different_fields_of_one_entry_merge_field_by_field(tmp_path):
    repo = make_repo(tmp_path)
    ours = BASE.replace("  note         = {XIII. Konferenz},\n",
                        "  note         = {XIII. Konferenz},\n  langid       = {ngerman},\n")
    theirs = BASE.replace("{2015-10-28}", "{2015-10-29}").replace(
        "  note         = {XIII. Konferenz},\n", "")
    proc = merge(repo, ours, theirs)
    assert proc.returncode == 0, proc.stderr
    assert "forum2015konferenz" in proc.stderr and "field by field" in proc.stderr
    entry = bib(repo).split("@online{forum2015konferenz,")[1].split("\n}\n")[0]
    assert "{2015-10-29}" in entry and "langid       = {ngerman}" in entry
    assert "note" not in entry
    # Everything else is ours as written.
    assert bib(repo).replace(entry, "") == ours.replace(
        ours.split("@online{forum2015konferenz,")[1].split("\n}\n")[0], "")


def test_entry_removed_on_one_side_and_untouched_on_the_other_is_removed(tmp_path):
    repo = make_repo(tmp_path)
    rutz = BASE[BASE.index("@book{rutz"):]
    ours = add_entry(BASE, "o1", "Unser erster Artikel", "https://o.de/1")
    theirs = BASE.replace("\n" + rutz, "")
    proc = merge(repo, ours, theirs)
    assert proc.returncode == 0, proc.stderr
    assert keys(bib(repo)) == ["lohse2017dossier", "forum2015konferenz", "o1"]
    assert bib(repo) == ours.replace(rutz + "\n", "")


def test_entry_changed_on_one_side_and_removed_on_the_other_is_a_conflict(tmp_path):
    repo = make_repo(tmp_path)
    rutz = BASE[BASE.index("@book{rutz"):]
    ours = BASE.replace("{Verlag}", "{Verlag der Geschichte}")
    theirs = BASE.replace("\n" + rutz, "")
    proc = merge(repo, ours, theirs)
    assert proc.returncode != 0
    assert "'rutz2011geschenk': changed by ours, removed by theirs" in proc.stderr
    merged = bib(repo)
    assert "<<<<<<< ours\n@book{rutz2011geschenk," in merged
    assert "{Verlag der Geschichte},\n}\n=======\n>>>>>>> theirs\n" in merged
    assert merged.split("<<<<<<< ours\n")[0] == ours.split("@book{rutz")[0]


def test_same_work_added_on_both_sides_is_kept_once(tmp_path):
    repo = make_repo(tmp_path)
    ours = add_entry(BASE, "mdz2024partner", "Partnerstädte feiern Jubiläum",
                     "https://www.mdz.ru/artikel/42")
    # The same article, clipped by a colleague from a tracking link with its own key.
    theirs = add_entry(BASE, "partner2024staedte", "Partnerstädte feiern Jubiläum",
                       "http://mdz.ru/artikel/42?utm_source=newsletter")
    proc = merge(repo, ours, theirs)
    assert proc.returncode == 0, proc.stderr
    assert keys(bib(repo)).count("mdz2024partner") == 1
    assert "partner2024staedte" not in keys(bib(repo))
    assert "same work" in proc.stderr and "same URL" in proc.stderr
    assert bib(repo) == ours


def test_same_new_key_for_two_works_gets_the_next_free_key(tmp_path):
    repo = make_repo(tmp_path)
    ours = add_entry(BASE, "lohse2024", "Ein Artikel über Wolgograd", "https://o.de/w")
    theirs = add_entry(add_entry(BASE, "lohse2024", "Ganz anderes Thema: Kaluga",
                                 "https://t.de/k"), "lohse2024a", "Noch einer aus Kaluga",
                       "https://t.de/k2")
    proc = merge(repo, ours, theirs)
    assert proc.returncode == 0, proc.stderr
    merged = bib(repo)
    assert keys(merged)[-3:] == ["lohse2024", "lohse2024b", "lohse2024a"]
    assert "theirs is now 'lohse2024b'" in proc.stderr
    entry = merged.split("@online{lohse2024b,")[1]
    assert "Kaluga" in entry.split("}\n")[0] + entry
    assert "Wolgograd" in merged.split("@online{lohse2024,")[1].split("\n}\n")[0]
    assert Library.load(repo / "library.bib")   # loads: no repeated key


def test_same_field_changed_differently_is_a_conflict_inside_that_entry(tmp_path):
    repo = make_repo(tmp_path)
    ours = BASE.replace("{Ein Geschenk der Geschichte}", "{Ein Geschenk der Geschichte!}")
    ours = add_entry(ours, "o1", "Unser erster Artikel", "https://o.de/1")
    theirs = BASE.replace("{Ein Geschenk der Geschichte}", "{Geschenk der Geschichte}")
    theirs = theirs.replace("{2017-06-26}", "{2017-06-27}")
    proc = merge(repo, ours, theirs)
    assert proc.returncode != 0
    assert "CONFLICT" in proc.stdout
    assert "'rutz2011geschenk': title changed differently" in proc.stderr
    merged = bib(repo)
    expected_conflict = ("@book{rutz2011geschenk,\n  author       = {Rutz, Hans},\n"
                         "<<<<<<< ours\n"
                         "  title        = {Ein Geschenk der Geschichte!},\n"
                         "=======\n"
                         "  title        = {Geschenk der Geschichte},\n"
                         ">>>>>>> theirs\n"
                         "  date         = {2011},\n")
    assert expected_conflict in merged
    assert merged.count("<<<<<<<") == 1
    assert "{2017-06-27}" in merged   # the other side's clean change still merged
    assert "@online{o1," in merged
    # Every command now names the marker's line; lint lists them all.
    marker_line = merged[:merged.index("<<<<<<<")].count("\n") + 1
    before = bib(repo)
    for args in (["list"], ["show", "o1"], ["search", "Geschenk"], ["set", "o1", "note=x"],
                 ["export", "--format", "ris"]):
        result = run(*args, library=repo)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith(
            f"clippings: error: {repo / 'library.bib'}:{marker_line}: unresolved merge "
            "conflict marker"), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert bib(repo) == before
    lint = run("lint", library=repo)
    assert lint.exit_code == 2
    listed = [int(n) for n in re.findall(r"library\.bib:(\d+): error: unresolved", lint.stdout)]
    assert listed == [marker_line, marker_line + 2, marker_line + 4]
    assert "Traceback" not in lint.output


def test_comments_and_strings_merge_with_gits_line_merge(tmp_path):
    repo = make_repo(tmp_path)
    ours = add_entry(BASE.replace("% Konferenzen", "% Konferenzen (alle)"),
                     "o1", "Unser erster Artikel", "https://o.de/1")
    theirs = BASE.replace("@string{mdz = {Moskauer Deutsche Zeitung}}",
                          "@string{mdz = {Moskauer Deutsche Zeitung (MDZ)}}")
    theirs = theirs.replace("% Team library", "% Team library\n% Pflege: Redaktion")
    proc = merge(repo, ours, theirs)
    assert proc.returncode == 0, proc.stderr
    merged = bib(repo)
    assert "% Konferenzen (alle)" in merged and "% Pflege: Redaktion" in merged
    assert "Zeitung (MDZ)" in merged and "@online{o1," in merged
    # A comment changed differently on both sides: git's own conflict, where it is.
    repo2 = make_repo(tmp_path / "two")
    proc = merge(repo2, BASE.replace("% Konferenzen", "% Tagungen"),
                 BASE.replace("% Konferenzen", "% Treffen"))
    assert proc.returncode != 0
    assert "<<<<<<< ours\n% Tagungen\n=======\n% Treffen\n>>>>>>> theirs\n" in bib(repo2)


def test_a_key_renamed_on_one_side_and_edited_on_the_other_follows_the_rename(tmp_path):
    (tmp_path / "team").mkdir()
    repo = tmp_path / "team"
    git(repo, "init", "-q", "-b", "main")
    (repo / "library.bib").write_text(BASE, encoding="utf-8")
    snap = repo / "snapshots" / "forum2015konferenz"
    snap.mkdir(parents=True)
    (snap / "text.txt").write_text("Die Konferenz in Karlsruhe ...\n", encoding="utf-8")
    setup(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "edit")
    assert run("set", "forum2015konferenz", "note=XIII. Städtepartnerkonferenz",
               library=repo).exit_code == 0
    git(repo, "commit", "-qam", "edit")
    git(repo, "checkout", "-q", "main")
    result = run("rename", "forum2015konferenz", "karlsruhe2015", library=repo)
    assert result.exit_code == 0, result.output
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "rename")
    proc = git(repo, "merge", "--no-edit", "edit", check=False)
    assert proc.returncode == 0, proc.stderr
    merged = bib(repo)
    assert "forum2015konferenz" not in merged
    entry = merged.split("@online{karlsruhe2015,")[1].split("\n}\n")[0]
    assert "{XIII. Städtepartnerkonferenz}" in entry
    assert (repo / "snapshots" / "karlsruhe2015" / "text.txt").is_file()
    assert not (repo / "snapshots" / "forum2015konferenz").exists()
    # The other way round: the rename arrives with theirs onto an edit of ours.
    git(repo, "checkout", "-q", "-b", "edit2", "main~1")   # the rename commit
    git(repo, "checkout", "-q", "-b", "mine", "edit")
    git(repo, "checkout", "-q", "main")
    git(repo, "reset", "-q", "--hard", "main~1")   # back to the rename alone
    git(repo, "checkout", "-q", "mine")
    proc = git(repo, "merge", "--no-edit", "main", check=False)
    assert proc.returncode == 0, proc.stderr
    assert "'forum2015konferenz' was renamed to 'karlsruhe2015' (theirs)" in proc.stderr
    entry = bib(repo).split("@online{karlsruhe2015,")[1].split("\n}\n")[0]
    assert "{XIII. Städtepartnerkonferenz}" in entry
    assert (repo / "snapshots" / "karlsruhe2015" / "text.txt").is_file()
    assert not (repo / "snapshots" / "forum2015konferenz").exists()


def test_snapshot_added_under_the_old_key_moves_to_the_new_key(tmp_path):
    repo = make_repo(tmp_path)
    git(repo, "checkout", "-qb", "fetched")
    snap = repo / "snapshots" / "rutz2011geschenk"
    snap.mkdir(parents=True)
    (snap / "text.txt").write_text("Ein Geschenk ...\n", encoding="utf-8")
    run("set", "rutz2011geschenk", "note=Rezension", library=repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "snapshot")
    git(repo, "checkout", "-q", "main")
    branch(repo, "renamed", BASE.replace("{rutz2011geschenk,", "{rutz2011,"))
    git(repo, "checkout", "-q", "fetched")
    proc = git(repo, "merge", "--no-edit", "renamed", check=False)
    assert proc.returncode == 0, proc.stderr
    assert "@book{rutz2011," in bib(repo) and "{Rezension}" in bib(repo)
    assert (repo / "snapshots" / "rutz2011" / "text.txt").is_file()
    assert "moved snapshots/rutz2011geschenk to snapshots/rutz2011" in proc.stderr


def test_git_pull_between_clones(tmp_path):
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    seed = make_repo(tmp_path)
    git(seed, "remote", "add", "origin", str(origin))
    git(seed, "push", "-q", "origin", "main")
    clones = []
    for name in ("anna", "ben"):
        git(tmp_path, "clone", "-q", str(origin), name)
        clones.append(tmp_path / name)
    anna, ben = clones
    # A clone carries .gitattributes but not the driver: each member runs git-setup once.
    assert git(anna, "config", "--get", "merge.clippings.driver", check=False).returncode
    for clone in clones:
        result = run_process("git-setup", cwd=clone)
        assert result.returncode == 0 and "merge.clippings.driver" in result.stdout
    for clone, title, key in ((anna, "Annas Artikel über Kaluga", "anna2024"),
                              (ben, "Bens Artikel über Krasnodar", "ben2024")):
        (clone / "library.bib").write_text(
            add_entry(BASE, key, title, f"https://{key}.de/"), encoding="utf-8")
        git(clone, "commit", "-qam", key)
    git(anna, "push", "-q", "origin", "main")
    proc = git(ben, "pull", "--no-rebase", "--no-edit", "-q", "origin", "main", check=False)
    assert proc.returncode == 0, proc.stderr
    assert keys(bib(ben))[-2:] == ["ben2024", "anna2024"]


def test_malformed_side_falls_back_to_a_plain_conflict_and_says_why(tmp_path):
    repo = make_repo(tmp_path)
    ours = add_entry(BASE, "o1", "Unser erster Artikel", "https://o.de/1")
    broken = BASE.replace("  publisher    = {Verlag},\n}", "  publisher    = {Verlag,\n}")
    proc = merge(repo, ours, broken)
    assert proc.returncode != 0
    assert "cannot merge entry by entry (theirs:" in proc.stderr
    assert "git's line merge" in proc.stderr
    result = run("list", library=repo)
    assert result.exit_code == 2   # the file says what is wrong; nothing silently broken
    # Both sides' lines are still there for the person resolving it.
    assert "@online{o1," in bib(repo) and "{Verlag,\n" in bib(repo)


def test_git_setup_is_idempotent_and_init_sets_up_inside_a_repository(tmp_path):
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    result = run("init", str(repo / "presse"))
    assert result.exit_code == 0, result.output
    assert "merge.clippings.driver" in result.output
    attributes = (repo / "presse" / ".gitattributes").read_text()
    assert "library.bib merge=clippings" in attributes
    assert "merge-driver %O %A %B %P" in git(repo, "config", "merge.clippings.driver").stdout
    again = run("git-setup", library=repo / "presse")
    assert again.exit_code == 0 and "already set up" in again.output
    assert (repo / "presse" / ".gitattributes").read_text() == attributes
    outside = tmp_path / "plain"
    assert run("init", str(outside)).exit_code == 0
    assert not (outside / ".gitattributes").exists()
    refused = run("git-setup", library=outside)
    assert refused.exit_code == 2 and "not inside a git repository" in refused.stderr


def test_references_follow_keys_the_merge_renamed():
    # Theirs adds a book and a chapter pointing at it, under a key ours took for another
    # work: the book gets the next free key and the chapter follows it.
    ours = add_entry(BASE, "sammel2024", "Ein ganz anderes Werk", "https://o.de/x")
    theirs = BASE + ("\n@book{sammel2024,\n  title        = {Sammelband Partnerschaften},\n"
                     "  date         = {2024},\n}\n\n@incollection{kapitel2024,\n"
                     "  title        = {Ein Kapitel},\n  crossref     = {sammel2024},\n}\n")
    result = merge_texts(BASE, ours, theirs)
    assert result.clean
    assert "@book{sammel2024a," in result.text
    assert "crossref     = {sammel2024a}" in result.text
    assert "@online{sammel2024," in result.text   # ours keeps its key
    # A key renamed on one side: what the other side added pointing at it follows too.
    ours = BASE.replace("{rutz2011geschenk,", "{rutz2011,")
    theirs = BASE + ("\n@inbook{rutz2011kapitel,\n  title        = {Kapitel eins},\n"
                     "  xref         = {rutz2011geschenk},\n}\n")
    result = merge_texts(BASE, ours, theirs)
    assert result.clean
    assert "xref         = {rutz2011}" in result.text
    assert Library(Path("library.bib"), result.text.encode(), Settings(), use_cache=False)


def test_windows_line_endings_and_one_line_entries_are_kept():
    base = BASE.replace("\n", "\r\n")
    ours = add_entry(BASE, "o1", "Unser erster Artikel", "https://o.de/1").replace("\n", "\r\n")
    theirs = base.replace("{2011}", "{2011-05}")
    result = merge_texts(base, ours, theirs)
    assert result.clean
    assert result.text == ours.replace("{2011}", "{2011-05}")
    # A field theirs added to an entry ours changed ends its line as the file does.
    ours = base.replace("{Verlag}", "{Verlag X}")
    theirs = base.replace("  publisher    = {Verlag},\r\n",
                          "  publisher    = {Verlag},\r\n  langid       = {ngerman},\r\n")
    result = merge_texts(base, ours, theirs)
    assert result.clean
    assert "  publisher    = {Verlag X},\r\n  langid       = {ngerman},\r\n}" in result.text
    assert "\n" not in result.text.replace("\r\n", "")
    # Fields that share a line cannot get markers of their own: the entry is the conflict.
    one_line = "@misc{a, title = {Eins}, note = {n}}\n@misc{b, title = {Zwei}}"
    result = merge_texts(one_line, one_line.replace("{Eins}", "{One}"),
                         one_line.replace("{Eins}", "{Uno}"))
    assert not result.clean
    assert result.text == ("<<<<<<< ours\n@misc{a, title = {One}, note = {n}}\n=======\n"
                           "@misc{a, title = {Uno}, note = {n}}\n>>>>>>> theirs\n"
                           "@misc{b, title = {Zwei}}")


# -- property: random work on two branches of real files ---------------------------------

def _load(text: str, path: Path) -> Library:
    return Library(path, text.encode("utf-8"), Settings(), use_cache=False)


def _apply(text: str, path: Path, ops: list, side: str) -> str:
    """Removals, field edits, renames and additions through the library's own code."""
    lib = _load(text, path)
    for op in ops:
        if op[0] == "remove":
            lib.remove(op[1])
        elif op[0] == "rename":   # entries pointing at it follow, as with `rename`
            lib.rename(op[1], op[1] + RENAMED)
        elif op[0] == "edit":
            lib.set_fields(op[1], {op[2]: "{" + op[3] + "}"})
        else:
            rec = Record("online", {"title": f"Neuer Artikel {side} Nummer {op[1]} über "
                                    f"{op[2]}", "date": "2024",
                                    "url": f"https://{side}.example.org/{op[1]}"})
            lib.add(rec, f"{side}new{op[1]}")
    return lib.new_text()[0]


@st.composite
def two_branches(draw, keys: list[str]):
    """Ops for ours and theirs that a merge can settle without a person."""
    def side_ops(name):
        ops = []
        for key in draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
            kinds = ["remove", "edit", "rename"] if name == "ours" else ["remove", "edit"]
            kind = draw(st.sampled_from(kinds))
            if kind != "edit":
                ops.append((kind, key))
            else:
                ops.append(("edit", key, draw(st.sampled_from(["note", "title", "addendum"])),
                            f"{name} {draw(st.text('abcxyzäöü ', min_size=1, max_size=8))}"))
        for i in range(draw(st.integers(0, 3))):
            ops.append(("add", i, draw(st.sampled_from(["Kaluga", "Wolgograd", "Tver"]))))
        return ops
    ours, theirs = side_ops("ours"), side_ops("theirs")
    touched = {op[1]: op for op in ours if op[0] != "add"}
    # A field both change, or a removal against an edit, needs a person: leave those out.
    # A rename meets an edit or a removal on the other side.
    theirs = [op for op in theirs if op[0] == "add" or op[1] not in touched or
              touched[op[1]][0] == "rename" or
              (op[0] == "edit" and touched[op[1]][0] == "edit" and
               touched[op[1]][2] != op[2])]
    return ours, theirs


RENAMED = "-renamed"


def _check_merge(base: str, ours_ops, theirs_ops, path: Path) -> None:
    ours = _apply(base, path, ours_ops, "ours")
    # A rename also changes the entries that point at the key (crossref ...): theirs
    # removing one of those would be a real conflict, so theirs leaves them alone.
    before, after = _load(base, path), _load(ours, path)
    renamed = {op[1]: op[1] + RENAMED for op in ours_ops if op[0] == "rename"}
    changed = {k for k in before.keys() if after.resolve_key(renamed.get(k, k), False) and
               before.entry_text(k) != after.entry_text(renamed.get(k, k)).replace(
                   "{" + renamed.get(k, k) + ",", "{" + k + ",", 1)}
    theirs_ops = [op for op in theirs_ops if not (op[0] == "remove" and op[1] in changed)]
    theirs = _apply(base, path, theirs_ops, "theirs")
    result = merge_texts(base, ours, theirs)
    assert result.clean, result.conflicts
    merged = _load(result.text, path)   # loads: syntax, no repeated key
    new = lambda key: renamed.get(key, key)   # noqa: E731
    removed = {new(op[1]) for op in ours_ops + theirs_ops if op[0] == "remove"}
    kept = {new(k) for k in after.keys() + _load(theirs, path).keys()} - removed
    assert set(merged.keys()) == kept
    for op in ours_ops + theirs_ops:
        if op[0] == "edit":
            assert merged.block(new(op[1])).get(op[2]).value == op[3]
    # No byte of ours changes outside the entries theirs touched (blank lines between
    # entries aside: a removed entry takes a separating blank line along).
    touched = {new(op[1]) for op in theirs_ops if op[0] != "add"}
    touched |= {f"theirsnew{op[1]}" for op in theirs_ops if op[0] == "add"}
    assert _outside(result.text, path, touched) == _outside(ours, path, touched)


def _outside(text: str, path: Path, touched: set[str]) -> str:
    """The text with the `touched` entries cut out, without blank lines."""
    pieces, pos = [], 0
    for block in _load(text, path).blocks:
        if block.kind == "entry" and block.key in touched:
            pieces.append(text[pos:block.start])
            pos = block.end
    pieces.append(text[pos:])
    return re.sub(r"\n(?:[ \t]*\n)+", "\n", "".join(pieces)).strip()


# Modest by default (the suite stays fast); raise it to hunt: CLIPPINGS_MERGE_EXAMPLES=500
EXAMPLES = int(os.environ.get("CLIPPINGS_MERGE_EXAMPLES", "25"))
SHIPPED = (REPO / "library.bib").read_text(encoding="utf-8")
SHIPPED_KEYS = keys(SHIPPED)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_random_work_on_the_shipped_library_merges(tmp_path, data):
    ours_ops, theirs_ops = data.draw(two_branches(SHIPPED_KEYS))
    _check_merge(SHIPPED, ours_ops, theirs_ops, tmp_path / "library.bib")


def _real_files() -> list[tuple[str, list[str]]]:
    out = []
    for path in sorted(REALBIBS.glob("*.bib")) if REALBIBS.is_dir() else []:
        try:
            text = path.read_text(encoding="utf-8")
            lib = _load(text, path)
        except Exception:   # other encodings and the deliberately broken files
            continue
        entry_keys = lib.keys()
        if len(entry_keys) >= 3:
            out.append((text, entry_keys))
    return out


REAL = _real_files()


@pytest.mark.skipif(not REAL, reason="../shared/realbibs not present")
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_random_work_on_real_world_files_merges(tmp_path, data):
    text, entry_keys = data.draw(st.sampled_from(REAL))
    ours_ops, theirs_ops = data.draw(two_branches(entry_keys))
    _check_merge(text, ours_ops, theirs_ops, tmp_path / "library.bib")
