"""`clippings serve`: the library in a browser.

- `app`: the Starlette application (routes, middleware: sessions, CSRF, security headers,
  JSON negotiation, error pages);
- `views`: one function per page; each parses the request, calls the same package
  function the command line calls, and renders a template or the CLI's JSON shape;
- `users`: editor accounts (scrypt hashes in `web-users.json`), login throttling;
- `library_state`: the library held in memory, reloaded when library.bib changes;
- `i18n`: German and English texts;
- `templates/`, `static/`: Jinja2 templates (autoescaped) and the CSS and JS, shipped
  in the package so the pages work offline.
"""
