"""`clippings site`: the reading list as a static web page with in-page search."""

from __future__ import annotations

import click


@click.command("site")
@click.option("--output", "-o", "output", required=True, metavar="DIR",
              type=click.Path(file_okay=False),
              help="The folder to write (new, empty, a fresh Pages repository, or a site "
                   "written before).")
@click.option("--style", "-s", metavar="S",
              help="CSL style name or .csl file, or plain/unsrt/alpha/unsrtalpha "
                   "(default: the 'style' setting, din-iso-690).")
@click.option("--group-by", type=click.Choice(["type", "year"]), default="type",
              show_default=True, help="Sections by entry type or by year (newest first).")
@click.option("--locale", "-l", metavar="L",
              help="CSL locale of the references (default: the 'locale' setting, else the "
                   "entries' language, else de-DE).")
@click.option("--lang", type=click.Choice(["de", "en"]),
              help="Language of the page's own words (default: from the locale, German "
                   "unless English).")
@click.option("--title", metavar="TEXT", help="The page's heading (default: Literaturliste).")
@click.option("--health", is_flag=True,
              help="Include the link statuses and the chart of link rot by year, from the "
                   "last `clippings check` (index/links.json).")
@click.pass_context
def site(ctx, output, style, group_by, locale, lang, title, health):
    """Write the reading list as a static web page, ready to upload.

    DIR gets index.html, site.css and site.js: no CDN, nothing fetched, so it works
    offline and opened from the disk. The references are formatted as `clippings
    export` formats them; the search box filters the list as you type. Rebuilding
    replaces the files the site wrote before and deletes those it no longer has; other
    files in DIR (a Pages repository's .git, CNAME) are left alone. DIR may also be a
    fresh Pages repository holding only .git, CNAME, .nojekyll, README.md and the like.
    Two runs into the same DIR take turns.

    \b
    Examples:
      clippings site -o public
      clippings site -o public --style apa --locale en-US --lang en --group-by year
      clippings check --max-age 7d; clippings site -o public --health
      rsync -a --delete public/ www.example.org:/var/www/literatur/
    """
    from .base import library_path, settings_for
    from .export import _configured_locale
    from ..linkreport import lang_for
    from ..static_site import build_site
    path = library_path(ctx)
    settings = settings_for(path)
    locale = locale or _configured_locale(path)
    result = build_site(path, output, style=style or settings.style, group_by=group_by,
                        lang=lang or lang_for(locale or settings.locale), locale=locale,
                        title=title, with_health=health, settings=settings)
    entries = f"{result.entries} entr{'y' if result.entries == 1 else 'ies'}"
    sections = f"{result.groups} section{'' if result.groups == 1 else 's'}"
    click.echo(f"wrote {entries} in {sections} to {result.folder}/index.html", err=True)
