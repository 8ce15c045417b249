"""`clippings serve` (the web interface) and `clippings user add|rm|list` (its editors).

Starlette, Jinja2 and uvicorn load only when `serve` runs.
"""

from __future__ import annotations

import ipaddress
import os
import sys

import click

from ..errors import UsageError
from .base import library_path, settings_for

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _private_allowed(folder) -> bool:
    """`serve` refuses private addresses unless clippings.toml or the environment say
    otherwise (the CLI's default of true is for a person at their own terminal). The
    value is read as every setting is (`config.boolean`: "false" is false)."""
    import tomllib
    from ..config import boolean
    value = os.environ.get("CLIPPINGS_ALLOW_PRIVATE_ADDRESSES")
    toml = folder / "clippings.toml"
    if value is None and toml.is_file():
        try:
            value = tomllib.loads(toml.read_text(encoding="utf-8")).get(
                "allow_private_addresses")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return False
    try:
        return value is not None and boolean(value)
    except ValueError:
        raise UsageError(f"setting allow_private_addresses: {value!r} is not a valid "
                         "bool") from None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; a non-loopback one needs editor accounts.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--read-only", is_flag=True, help="No editing, even for logged-in editors.")
@click.option("--page-cache", default=256, show_default=True, type=click.IntRange(min=0),
              help="Search pages kept per library version (0 = none).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (one per CPU core serves the most pages).")
@click.option("--proxy", "proxies", metavar="ADDRESS", multiple=True,
              help="Address of a reverse proxy in front (repeatable): its X-Forwarded-For "
                   "and X-Forwarded-Proto are believed, so the login throttle counts the "
                   "users' own addresses.")
@click.option("--secure-cookies", is_flag=True,
              help="Users reach the server over HTTPS (a TLS proxy in front): send the "
                   "session cookie only over HTTPS.")
@click.option("--backend", metavar="URL",
              help="Search backend: 'whoosh' or postgresql://user@host/database (overrides "
                   "the search_backend and search_read_url settings).")
@click.pass_context
def serve(ctx, host, port, read_only, page_cache, workers, proxies, secure_cookies,
          backend):
    """Open the library in a browser: search, read, add, edit, cite and export.

    Everyone who can reach the server may read; editing needs an account (see
    `clippings user add`). Without accounts only 127.0.0.1 is allowed.

    \b
    Examples:
      clippings serve                      # http://127.0.0.1:8080/
      clippings user add anna && clippings serve --host 0.0.0.0 --port 8080
      clippings serve --host 10.0.0.5 --proxy 10.0.0.2 --secure-cookies   # behind nginx
      clippings serve --backend postgresql://reader@db-replica/clippings
    """
    path = library_path(ctx)
    settings = settings_for(path)
    settings.allow_private_addresses = _private_allowed(path.parent)
    from ..search.backend import use_backend
    use_backend(settings, backend)   # a bad URL or a database that is down stops here
    from ..library import Library
    from ..web.users import Users, users_path
    Library.load(path, settings)   # a broken library.bib is reported before starting
    users = Users.of(path.parent)
    if not is_loopback(host) and not users.configured:
        raise UsageError(f"refusing to listen on {host}: anyone on the network could "
                         f"reach it; create an editor account first (clippings user add "
                         f"NAME, stored in {users_path(path.parent)}) or use 127.0.0.1")
    import uvicorn
    from ..web.app import create_app
    allowed = ["127.0.0.1", "localhost", "[::1]", "::1"] if is_loopback(host) else None
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"clippings: serving {path} on http://{shown}:{port}/ "
               f"({'read-only' if read_only else 'editing after login'}; Ctrl-C stops)",
               err=True)
    for address in proxies:
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise UsageError(f"--proxy {address!r} is not an IP address or network") \
                from None
    # Forwarded headers only from the named proxies: anyone else could forge them.
    common = dict(host=host, port=port, log_level="warning", server_header=False,
                  proxy_headers=bool(proxies), forwarded_allow_ips=",".join(proxies) or None,
                  access_log=False)
    if workers > 1:
        import json
        users.secret()   # made here, once: every worker must sign sessions with one key
        from ..web.app import SERVE_ENV
        os.environ[SERVE_ENV] = json.dumps({
            "bib_path": str(path), "read_only": read_only, "allowed_hosts": allowed,
            "page_cache": page_cache, "secure_cookies": secure_cookies, "backend": backend,
            "allow_private_addresses": settings.allow_private_addresses})
        uvicorn.run("clippings.web.app:app_from_environment", factory=True,
                    workers=workers, **common)
        return
    app = create_app(path, settings, read_only=read_only, users=users,
                     allowed_hosts=allowed, page_cache=page_cache,
                     secure_cookies=secure_cookies, warm=True)
    uvicorn.run(app, **common)


@click.group()
def user():
    """Editor accounts of the web interface (stored hashed in web-users.json).

    \b
    Examples:
      clippings user add anna            # asks for the password twice
      echo "$PASSWORD" | clippings user add bot
      clippings user list
      clippings user rm anna
    """


@user.command("add")
@click.argument("name")
@click.pass_context
def user_add(ctx, name):
    """Create an account (or set a new password); the password comes from the terminal,
    or from the first line of standard input."""
    from ..web.users import Users
    path = library_path(ctx)
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    users = Users.of(path.parent)
    users.add(name, password)
    click.echo(f"user {name} saved in {users.path}")


@user.command("rm")
@click.argument("name")
@click.pass_context
def user_rm(ctx, name):
    """Remove an account."""
    from ..web.users import Users
    users = Users.of(library_path(ctx).parent)
    users.remove(name)
    click.echo(f"user {name} removed")


@user.command("list")
@click.pass_context
def user_list(ctx):
    """List the accounts."""
    from ..web.users import Users
    for name in Users.of(library_path(ctx).parent).names():
        click.echo(name)
