"""`clippings check`: check every link of the library (or of some entries)."""

from __future__ import annotations

import sys

import click


@click.command("check")
@click.argument("keys", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]),
              default="table", show_default=True, help="Output format.")
@click.option("--fix", is_flag=True,
              help="Write new URLs of permanent redirects into url (the old one goes to "
                   "the field named by the old_url_field setting, default origurl) and "
                   "found archive copies into archiveurl/archivedate.")
@click.option("--archive", is_flag=True,
              help="Ask the Wayback Machine to archive live links that have no copy yet.")
@click.option("--concurrency", type=click.IntRange(1, 512), metavar="N",
              help="Requests in flight at once (setting concurrency, default 16).")
@click.option("--per-host", type=click.IntRange(1, 64), metavar="N",
              help="Requests in flight per host (setting per_host, default 2).")
@click.option("--spacing", type=click.FloatRange(0, 600), metavar="SECONDS",
              help="Wait this long between two requests to the same host "
                   "(setting host_spacing, default 0).")
@click.option("--timeout", type=click.FloatRange(0.1, 600), metavar="SECONDS",
              help="Per-request timeout (setting timeout, default 20).")
@click.option("--max-age", metavar="DURATION",
              help="Reuse results younger than this from index/links.json (e.g. 7d, 12h).")
@click.option("--cached", is_flag=True,
              help="Do not check: show the last results from index/links.json, however old.")
@click.option("--report", "report_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Also write the link health of the whole library from the cached "
                   "results: FILE.svg the chart of link rot by year, FILE.json the figures.")
@click.pass_context
def check(ctx, keys, fmt, fix, archive, concurrency, per_host, spacing, timeout, max_age,
          cached, report_file):
    """Check links: find broken, moved, blocked and silently changed pages.

    Every url and archiveurl is checked. Statuses: ok, redirected (permanent: the URL
    should be updated), broken, gone, blocked, timeout, tls_error, soft_404 (an error page
    answering 200, or a deep link sent to the home page), drifted (the page is no longer
    the article of the snapshot), error. An ok page whose text changed since the
    snapshot says "text changed, 97 % the same". When no host at all resolves (offline),
    nothing is reported, cached or fixed: exit 3. Broken, gone, soft-404 and drifted links get the
    closest copy from the Wayback Machine. Exit 1 when a link is broken, gone or soft_404.

    \b
    Examples:
      clippings check
      clippings check --max-age 7d --format markdown > links.md
      clippings check lohse2017dossier --fix
      clippings check --cached --report link-rot.svg   # the chart, no network
    """
    from .. import links as L
    from .. import links_cache
    from ..errors import UsageError
    from ..progress import Progress
    from .base import library_path, settings_for
    path = library_path(ctx)
    settings = settings_for(path, concurrency=concurrency, per_host=per_host,
                            timeout=timeout, host_spacing=spacing)
    age = links_cache.parse_duration(max_age) if max_age else None
    if report_file:
        from pathlib import Path

        from ..linkreport import check_report_name
        check_report_name(report_file)
        if not Path(report_file).absolute().parent.is_dir():   # say so before checking
            raise UsageError(f"no folder to write {report_file} into")
    if cached:
        if fix or archive or max_age:
            raise UsageError("--cached does not check, so it cannot --fix, --archive or "
                             "take --max-age")
        results, missing = L.cached_results(path, keys, settings)
        _render(results, {}, fmt, L.CheckRun(results, {}, 0, 0, False, cached=len(results)))
        if missing:
            click.echo(f"{missing} link{'s' if missing != 1 else ''} not checked yet "
                       "(run clippings check)", err=True)
        _write_report(path, settings, report_file)
        if any(r.status in L.FAILING for r in results):
            ctx.exit(1)
        return
    failing = 0

    def on_result(result) -> None:
        nonlocal failing
        failing += result.status in L.FAILING
        progress.step(note=f"{failing} failing")

    with Progress("checking", noun="links", ticking=True) as progress:
        run = L.run_check(path, keys, settings, max_age=age, archive=archive, fix=fix,
                          on_result=on_result, on_start=progress.start)
    if run.network_down:
        # Verdicts made offline say nothing about the links: no report, one line.
        from ..errors import NetworkError
        hosts = {L.host_of(r.url) for r in run.results if not r.cached}
        raise NetworkError(
            f"no host could be looked up ({_count(len(hosts), 'host')} and the web "
            "archive): the network seems to be down, so nothing was cached or fixed")
    results, fixed = run.results, run.fixed
    _render(results, fixed, fmt, run)
    for key, values in fixed.items():
        names = ", ".join(f"{k}={v}" for k, v in values.items())
        click.echo(f"fixed {key}: {names}", err=True)
    if run.interrupted:
        click.echo(f"clippings: interrupted: {run.checked} of {_count(run.todo, 'link')} "
                   "checked, the rest not" + (" (nothing written to library.bib)"
                                              if fix else ""), err=True)
        ctx.exit(130)
    _write_report(path, settings, report_file)
    if any(r.status in L.FAILING for r in results):
        ctx.exit(1)


def _render(results, fixed, fmt, run=None) -> None:
    from .base import echo_json
    if fmt == "json":
        data = []
        for r in results:
            item = r.as_dict()
            item["fixed"] = sorted(fixed.get(r.key, {})) if r.field == "url" else []
            data.append(item)
        echo_json(data)
    elif fmt == "markdown":
        click.echo(render_markdown(results, run))
    else:
        click.echo(render_table(results, color=sys.stdout.isatty(), run=run), nl=False)


def _write_report(path, settings, report_file) -> None:
    """The link health of the whole library, from the cache this run just updated."""
    if not report_file:
        return
    from ..linkreport import lang_for, library_health, report
    from .base import write_output
    found = library_health(path, settings)
    write_output(report_file, report(found, report_file, lang_for(settings.locale)), path)
    click.echo(f"wrote the link report to {report_file} ({found.checked} of {found.total} "
               "links checked)", err=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


_COLORS = {"ok": "green", "redirected": "cyan", "broken": "red", "gone": "red",
           "soft_404": "red", "drifted": "magenta", "blocked": "yellow",
           "timeout": "yellow", "tls_error": "yellow", "error": "yellow"}


def _groups(results):
    from ..links import ORDER
    for status in ORDER:
        members = [r for r in results if r.status is status]
        if members:
            yield status, members


def _details(r) -> list[str]:
    lines = []
    if r.message:
        lines.append(r.message)
    if r.final_url and r.final_url != r.url and r.status.value not in ("redirected",):
        lines.append(f"final URL: {r.final_url}")
    if r.archive_url:
        lines.append(f"archived: {r.archive_url}"
                     + (f" ({r.archive_date})" if r.archive_date else ""))
    if r.cached:
        lines.append(f"cached result from {r.checked_at}")
    return lines


def render_table(results, color: bool = False, run=None) -> str:
    """Results grouped by status (problems first), then a one-line summary."""
    out: list[str] = []
    for status, members in _groups(results):
        head = f"{status.value} ({len(members)})"
        out.append(click.style(head, fg=_COLORS[status.value], bold=True) if color else head)
        for r in members:
            code = str(r.http_status) if r.http_status else "-"
            where = "" if r.field == "url" else f" [{r.field}]"
            out.append(f"  {r.key}{where}  {code}  {r.url}")
            out += [f"      {line}" for line in _details(r)]
        out.append("")
    out.append(summary(results, run))
    return "\n".join(out) + "\n"


def summary(results, run=None) -> str:
    """`80 links checked: 2 broken, 78 ok`; after Ctrl-C it counts the same links as
    the interruption message (`37 of 80 links checked (interrupted)`), and results
    reused from the cache are said to be."""
    from ..links import ORDER
    counts = [f"{sum(r.status is s for r in results)} {s.value}" for s in ORDER
              if any(r.status is s for r in results)]
    changed = sum(bool(getattr(r, "changed", False)) for r in results)
    if changed:
        counts.append(f"{changed} with changed text")
    if run is not None and run.interrupted:
        head = f"{run.checked} of {_count(run.todo, 'link')} checked (interrupted)"
    else:
        head = f"{_count(len(results), 'link')} checked"
    if run is not None and run.cached:
        head += f", {run.cached} of them from the cache"
    return head + (": " + ", ".join(counts) if counts else "")


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(results, run=None) -> str:
    """A report for issues, wikis and CI logs: one table per status."""
    out = ["# Link check", "", summary(results, run), ""]
    for status, members in _groups(results):
        out += [f"## {status.value} ({len(members)})", "",
                "| key | URL | HTTP | details |", "|---|---|---|---|"]
        for r in members:
            code = str(r.http_status) if r.http_status else ""
            where = "" if r.field == "url" else f" ({r.field})"
            details = "; ".join(_details(r))
            out.append(f"| {_md(r.key + where)} | <{_md(r.url)}> | {code} | {_md(details)} |")
        out.append("")
    return "\n".join(out)
