"""`clippings edit` as a real process with scripted editors: validation with the buffer's
lines, edits that are never thrown away, conflicts, and the editor fallback."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from clippings.library import Library

KEY = "lohse2017dossier"


def editor(tmp_path: Path, body: str, name: str = "editor.py") -> str:
    """A command usable as $EDITOR: a Python script that changes the file it is given.
    `body` sees `path` (the file) and `text` (its content) and sets `text`."""
    script = tmp_path / name
    script.write_text("import sys\npath = sys.argv[1]\ntext = open(path, encoding='utf-8')"
                      ".read()\n" + body + "\nopen(path, 'w', encoding='utf-8').write(text)\n",
                      encoding="utf-8")
    return f"{sys.executable} {script}"


def edit(shipped: Path, editor_command: str | None, *args: str, **env: str):
    full = {k: v for k, v in os.environ.items() if k not in ("VISUAL", "EDITOR")}
    if editor_command:
        full["EDITOR"] = editor_command
    full.update(env)
    return subprocess.run([sys.executable, "-m", "clippings", "--library", str(shipped),
                           "edit", KEY, *args], env=full, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def test_a_date_set_refuses_is_refused_by_edit_too_with_the_buffer_line(shipped, tmp_path):
    before = shipped.read_bytes()
    proc = edit(shipped, editor(tmp_path, "text = text.replace('2017-06-26', '02.08.2018')"))
    assert proc.returncode == 2
    lines = Library.load(shipped).entry_text(KEY).splitlines()
    line = next(i for i, l in enumerate(lines, 1) if "2017-06-26" in l)
    assert f"line {line} of the edited entry: invalid date '02.08.2018'" in proc.stderr
    assert str(shipped) not in proc.stderr.split("kept in")[0]   # not library.bib's path
    assert shipped.read_bytes() == before
    # The rejected edit is kept, and its path is printed.
    kept = Path(proc.stderr.rsplit("kept in ", 1)[1].strip())
    assert "02.08.2018" in kept.read_text(encoding="utf-8")
    # --force saves it.
    forced = edit(shipped, editor(tmp_path, "text = text.replace('2017-06-26', '02.08.2018')"),
                  "--force")
    assert forced.returncode == 0, forced.stderr
    assert Library.load(shipped).record(KEY).fields["date"] == "02.08.2018"


def test_a_syntax_error_names_the_line_in_the_buffer(shipped, tmp_path):
    proc = edit(shipped, editor(tmp_path, "text = text.replace('},', '', 1)"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("clippings: error: line ")
    assert "of the edited entry" in proc.stderr and proc.stderr.count("\n") == 1
    assert "rejected-edits" in proc.stderr


def test_an_unknown_entry_type_is_refused(shipped, tmp_path):
    proc = edit(shipped, editor(tmp_path, "text = text.replace('@article', '@zeitung', 1)"))
    assert proc.returncode == 2 and "unknown entry type 'zeitung'" in proc.stderr


def test_a_change_on_disk_during_edit_keeps_the_edit_and_shows_both(shipped, tmp_path):
    """The editor changes the buffer while someone else changes the same entry in
    library.bib: nothing is written, both versions are shown, the edit is kept."""
    lib_path = str(shipped)
    body = (f"lib = open({lib_path!r}, encoding='utf-8').read()\n"
            f"open({lib_path!r}, 'w', encoding='utf-8').write("
            "lib.replace('Dossier: Deutsch', 'Dossier (von Hand): Deutsch'))\n"
            "text = text.replace('{RBTH}', '{Russia Beyond}')")
    proc = edit(shipped, editor(tmp_path, body))
    assert proc.returncode == 1
    assert "changed in library.bib while you were editing it" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "Dossier (von Hand)" in proc.stdout and "Russia Beyond" in proc.stdout
    on_disk = shipped.read_text(encoding="utf-8")
    assert "Dossier (von Hand)" in on_disk and "{Russia Beyond}" not in on_disk
    kept = Path(proc.stderr.rsplit("kept in ", 1)[1].strip())
    assert "Russia Beyond" in kept.read_text(encoding="utf-8")


def test_a_failing_editor_is_one_error_line(shipped):
    proc = edit(shipped, "/nonexistent/editor")
    assert proc.returncode == 2
    assert proc.stderr.startswith("clippings: error: the editor '/nonexistent/editor' "
                                  "failed")
    assert proc.stderr.count("\n") == 1


def _fake(folder: Path, name: str, body: str) -> None:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f"#!{sys.executable}\nimport sys\npath = sys.argv[1]\n"
                    "text = open(path, encoding='utf-8').read()\n" + body +
                    "\nopen(path, 'w', encoding='utf-8').write(text)\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_without_editor_variables_nano_is_used_and_said(shipped, tmp_path):
    bin_dir = tmp_path / "bin"
    _fake(bin_dir, "nano", "text = text.replace('RBTH', 'per nano')")
    _fake(bin_dir, "vi", "text = text.replace('RBTH', 'per vi')")
    proc = edit(shipped, None, PATH=str(bin_dir))
    assert proc.returncode == 0, proc.stderr
    assert "editing with nano" in proc.stderr and "EDITOR" in proc.stderr
    assert Library.load(shipped).record(KEY).fields["journaltitle"] == "per nano"
    (bin_dir / "nano").unlink()
    proc = edit(shipped, None, PATH=str(bin_dir))
    assert "editing with vi" in proc.stderr
    (bin_dir / "vi").unlink()
    proc = edit(shipped, None, PATH=str(bin_dir))
    assert proc.returncode == 2 and "no editor found" in proc.stderr


def test_in_a_terminal_a_rejected_edit_reopens_the_editor_on_the_users_text(shipped, tmp_path):
    """The README's promise: in a terminal, an invalid edit offers to reopen the editor,
    which gets the user's own text back (not the entry as it was)."""
    import pty
    import select
    # First round: a wrong date. Second round: the editor must see that wrong date (the
    # user's text) and fixes it.
    body = ("import os\n"
            "if '02.08.2018' in text:\n"
            "    open(os.environ['ROUNDS'], 'a').write('saw my text\\n')\n"
            "    text = text.replace('02.08.2018', '2018-08-02')\n"
            "else:\n"
            "    open(os.environ['ROUNDS'], 'a').write('first\\n')\n"
            "    text = text.replace('2017-06-26', '02.08.2018')\n")
    rounds = tmp_path / "rounds.txt"
    env = {k: v for k, v in os.environ.items() if k not in ("VISUAL", "EDITOR")}
    env.update(EDITOR=editor(tmp_path, body), ROUNDS=str(rounds))
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "clippings", "--library", str(shipped),
                             "edit", KEY], stdin=child, stdout=child, stderr=child, env=env)
    os.close(child)
    seen, answered = b"", False
    while True:
        ready, _, _ = select.select([main], [], [], 30)
        if not ready:
            proc.kill()
            raise AssertionError(f"no prompt or end: {seen!r}")
        try:
            chunk = os.read(main, 4096)
        except OSError:   # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"Edit again?" in seen:
            os.write(main, b"y\n")
            answered = True
    assert proc.wait(timeout=30) == 0, seen
    os.close(main)
    assert answered and b"invalid date '02.08.2018'" in seen
    assert rounds.read_text().splitlines() == ["first", "saw my text"]
    assert Library.load(shipped).record(KEY).fields["date"] == "2018-08-02"
