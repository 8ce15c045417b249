"""Merge benchmark: two branches each adding entries to a large library.bib.

Generates the library (the generator of `library_scale.py`), makes a git repository with
the driver registered, commits N new entries on each of two branches and times:

- `git merge` of the two branches with the clippings driver (a real process, as a user
  runs it), and git's own line merge of the same file (which conflicts);
- the driver alone as a process (`python -m clippings merge-driver O A B P`);
- the merge in-process (`clippings.gitmerge.merge_texts`), and with the same entries
  scattered through the file (edits in the middle defeat the shared head/tail shortcut).

    python benchmarks/merge.py [--entries 50000] [--added 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from library_scale import generate  # noqa: E402

# As installed: Python may cache bytecode (some shells set PYTHONDONTWRITEBYTECODE, which
# would make every driver start compile the package again).
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
       "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "b",
       "GIT_AUTHOR_EMAIL": "b@example.org", "GIT_COMMITTER_NAME": "b",
       "GIT_COMMITTER_EMAIL": "b@example.org"}


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["git", *args], cwd=cwd, env=ENV, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise SystemExit(f"git {' '.join(args)}: {proc.stderr}")
    return proc


def new_entries(prefix: str, n: int) -> str:
    return "".join(
        f"\n@online{{{prefix}{i},\n  title        = {{Neuer Artikel {prefix} {i} über "
        f"Partnerschaft}},\n  date         = {{2024-05-{i % 28 + 1:02d}}},\n"
        f"  url          = {{https://{prefix}.example.org/artikel/{i}}},\n}}\n"
        for i in range(n))


def scattered(base: str, prefix: str, n: int, seed: int) -> str:
    """`n` new entries inserted before random entries of `base`."""
    rng = random.Random(seed)
    cuts = sorted(rng.sample(_starts(base), n))
    out, pos = [], 0
    for i, cut in enumerate(cuts):
        out.append(base[pos:cut + 1])
        out.append(new_entries(f"{prefix}{i}x", 1).lstrip("\n") + "\n")
        pos = cut + 1
    out.append(base[pos:])
    return "".join(out)


def _starts(text: str) -> list[int]:
    found, pos = [], text.find("\n@")
    while pos != -1:
        found.append(pos)
        pos = text.find("\n@", pos + 1)
    return found


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (git, the driver)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, repeat: int, prepare=None) -> tuple[float, float]:
    """Median wall and CPU seconds of `fn` (CPU time shows the cost on a busy machine)."""
    walls, cpus = [], []
    for _ in range(repeat):
        if prepare:
            prepare()
        start, cpu = time.perf_counter(), cpu_seconds()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=50000)
    parser.add_argument("--added", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    from clippings.gitmerge import merge_texts
    from clippings.gitsetup import setup

    base = generate(opts.entries)
    ours = base + new_entries("ours", opts.added)
    theirs = base + new_entries("theirs", opts.added)
    load = os.getloadavg()[0]
    print(f"library: {opts.entries} entries ({len(base.encode()) / 1e6:.1f} MB), "
          f"{opts.added} new entries on each branch; python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores, load average {load:.1f} at the start")

    folder = Path(tempfile.mkdtemp(prefix="clippings-merge-bench-"))
    rows = []
    try:
        repo = folder / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        (repo / "library.bib").write_text(base, encoding="utf-8")
        setup(repo)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "base")
        for name, text in (("theirs", theirs), ("ours", ours)):
            git(repo, "checkout", "-qb", name, "main")
            (repo / "library.bib").write_text(text, encoding="utf-8")
            git(repo, "commit", "-qam", name)

        def git_merge():
            proc = git(repo, "merge", "-q", "--no-edit", "theirs", check=False)
            if proc.returncode != 0:
                raise SystemExit(f"merge failed: {proc.stderr}")
            merged = (repo / "library.bib").read_text(encoding="utf-8")
            assert merged.count("@online{ours") == opts.added
            assert merged.count("@online{theirs") == opts.added

        git(repo, "checkout", "-qf", "ours")
        subprocess.run([sys.executable, "-m", "compileall", "-q",
                        str(Path(__file__).resolve().parent.parent / "clippings")], env=ENV,
                       capture_output=True)
        ours_commit = git(repo, "rev-parse", "HEAD").stdout.strip()
        rows.append(("git merge, clippings driver", *timed(
            git_merge, opts.repeat,
            lambda: git(repo, "reset", "-q", "--hard", ours_commit)), "clean"))
        git(repo, "reset", "-q", "--hard", ours_commit)

        files = {}
        for name, text in (("base", base), ("ours", ours), ("theirs", theirs)):
            files[name] = folder / name
            files[name].write_text(text, encoding="utf-8")

        def line_merge():
            proc = subprocess.run(["git", "merge-file", "-p", str(files["ours"]),
                                   str(files["base"]), str(files["theirs"])],
                                  capture_output=True)
            line_merge.conflicts = proc.returncode
        rows.append(("git merge-file alone (git's line merge)",
                     *timed(line_merge, opts.repeat),
                     f"{line_merge.conflicts} conflict(s)" if line_merge.conflicts
                     else "clean"))

        def driver():
            shutil.copy(folder / "ours", folder / "work")
            proc = subprocess.run([sys.executable, "-m", "clippings", "merge-driver",
                                   str(files["base"]), str(folder / "work"),
                                   str(files["theirs"]), "library.bib"],
                                  capture_output=True, text=True, cwd=folder, env=ENV)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr)
        driver()   # a first run caches the bytecode, as any installation has it
        rows.append(("merge-driver process", *timed(driver, opts.repeat), "clean"))
        rows.append(("merge_texts in-process", *timed(
            lambda: merge_texts(base, ours, theirs), opts.repeat), "clean"))
        ours_s = scattered(base, "ours", opts.added, 1)
        theirs_s = scattered(base, "theirs", opts.added, 2)
        result = merge_texts(base, ours_s, theirs_s)
        assert result.clean, result.conflicts
        rows.append((f"merge_texts, {opts.added} entries scattered on each side",
                     *timed(lambda: merge_texts(base, ours_s, theirs_s), opts.repeat),
                     "clean"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{'':<50} {'wall s':>7} {'CPU s':>7}  result")
    for label, wall, cpu, outcome in rows:
        print(f"{label:<50} {wall:>7.3f} {cpu:>7.3f}  {outcome}")


if __name__ == "__main__":
    main()
