"""The HTTP client against real servers on 127.0.0.1 with real faults (no mocked transport)."""

from __future__ import annotations

import codecs
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clippings import __version__
from clippings.errors import NetworkError, SourceError, UsageError
from clippings.http import (
    BadRedirect, BadURL, ConnectionFailed, HostNotFound, HttpClient, HttpSettings,
    HTTPStatusError, RedirectLoop, TLSError, Timeout, TooLarge, TooManyRedirects, check_url,
    decode_body, parse_retry_after,
)
from servers import (
    gzip_bomb, gzipped, huge, never_answer, redirect, reset, reset_mid_body, send, sequence,
    slow, trickle, unused_port,
)

GERMAN = ("Spremberg schlägt Brücke nach Russland. Der Partnerschaftsvertrag mit Schelesnogorsk "
          "wurde beim Jahresempfang unterzeichnet; die Bürgermeisterin begrüßte die Gäste. "
          "Größere Öffentlichkeit, Übersetzer und Ärzte waren dabei. ") * 3
RUSSIAN = ("Грани успеха — российско-германский специальный выпуск к XIII Германо-российской "
           "конференции городов-партнёров в Карлсруэ и Баден-Бадене. Екатеринбург, Волгоград, "
           "Ульяновск и Железногорск дружат с немецкими городами. ") * 3
MIXED = "Grüße aus Köln — Привет из Москвы"

FAST = HttpSettings(connect_timeout=2, read_timeout=2, deadline=10, backoff=0.01, retries=2)


@pytest.fixture
def client():
    with HttpClient(FAST) as c:
        yield c


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>"


# --------------------------------------------------------------------------- charsets

def test_utf8_declared_in_header(http_server, client):
    url = http_server.route("/u", send(200, page(MIXED).encode(), "text/html; charset=utf-8"))
    r = client.get(url)
    assert MIXED in r.text
    assert (r.encoding, r.encoding_source) == ("utf-8", "header")
    assert r.content_type == "text/html"


def test_cp1251_declared_only_in_meta(http_server, client):
    body = page(RUSSIAN, '<meta charset="windows-1251">').encode("cp1251")
    url = http_server.route("/ru", send(200, body, "text/html"))
    r = client.get(url)
    assert RUSSIAN in r.text
    assert (r.encoding, r.encoding_source) == ("cp1251", "meta")


def test_cp1251_in_meta_http_equiv():
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
    body = page(RUSSIAN, meta)
    text, encoding = decode_body(body.encode("cp1251"), None)
    assert RUSSIAN in text and encoding == "cp1251"


def test_latin1_german_without_any_declaration(http_server, client):
    url = http_server.route("/de", send(200, page(GERMAN).encode("latin-1"), "text/html"))
    r = client.get(url)
    assert GERMAN in r.text
    assert r.encoding_source == "detected"


def test_cp1251_russian_without_any_declaration():
    text, _encoding = decode_body(page(RUSSIAN).encode("cp1251"), "text/html")
    assert RUSSIAN in text


@pytest.mark.parametrize("text, encoding", [
    ("Größe und Übermaß", "latin-1"),
    ("Грани успеха, российско-германский специальный выпуск", "koi8-r"),
])
def test_short_undeclared_legacy_text(text, encoding):
    # Detection must stay with encodings browsers use, not EBCDIC or Urdu code pages.
    assert decode_body(text.encode(encoding), None)[0] == text


def test_header_claiming_utf8_for_cp1252_bytes_falls_back(http_server, client):
    body = page(GERMAN + " „Zitat“ – 5 €").encode("cp1252")
    url = http_server.route("/lie", send(200, body, "text/html; charset=utf-8"))
    r = client.get(url)
    assert GERMAN + " „Zitat“ – 5 €" in r.text
    assert "\ufffd" not in r.text
    assert r.encoding_source == "detected"


def test_header_claiming_latin1_for_utf8_bytes_reads_utf8():
    # A common server default in front of UTF-8 pages; reading it as latin-1 gives "Ã¤".
    text, encoding = decode_body(page(GERMAN).encode("utf-8"), "text/html; charset=ISO-8859-1")
    assert GERMAN in text and encoding == "utf-8"


def test_declared_latin1_means_windows_1252():
    body = "„Zitat“ für 5 €".encode("cp1252")
    text, encoding = decode_body(body, "text/html; charset=iso-8859-1")
    assert text == "„Zitat“ für 5 €" and encoding == "cp1252"


def test_utf8_page_with_one_broken_byte_stays_utf8():
    body = page(MIXED * 5).encode() + b"<!-- footer \xff -->"
    text, encoding = decode_body(body, "text/html; charset=utf-8")
    assert MIXED * 5 in text and encoding == "utf-8"


def test_byte_order_mark_wins():
    text, encoding = decode_body("\ufeff".encode("utf-16-le") + MIXED.encode("utf-16-le"),
                                 "text/html; charset=iso-8859-1")
    assert text == MIXED and encoding == "utf-16"


def test_xml_declaration_is_read():
    body = f'<?xml version="1.0" encoding="windows-1251"?><r>{RUSSIAN}</r>'.encode("cp1251")
    assert RUSSIAN in decode_body(body, "application/xml")[0]


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=400),
       header=st.sampled_from([None, "", "text/html", "text/html; charset=utf-8",
                               "text/html; charset=nonsense", "text/plain; charset=\"koi8-r\"",
                               "text/html; charset=utf-16"]))
def test_decode_body_never_fails_and_names_a_real_codec(body, header):
    text, encoding = decode_body(body, header)
    assert isinstance(text, str)
    assert codecs.lookup(encoding)


def test_empty_body_decodes_to_empty_text():
    assert decode_body(b"", None)[0] == ""


# --------------------------------------------------------------------------- bodies

def test_gzip_body_is_inflated(http_server, client):
    url = http_server.route("/gz", gzipped(page(MIXED * 100).encode()))
    r = client.get(url)
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.content == page(MIXED * 100).encode()
    assert MIXED in r.text


def test_headers_are_case_insensitive(http_server, client):
    url = http_server.route("/h", send(200, b"x", "text/plain", {"X-Thing": "yes"}))
    r = client.get(url)
    assert r.headers["x-thing"] == r.headers["X-THING"] == "yes"


def test_body_over_declared_length_cap_is_refused_early(http_server):
    url = http_server.route("/big", huge(5 * 1024 * 1024))
    with HttpClient(FAST) as c, pytest.raises(TooLarge) as info:
        c.get(url, max_bytes=1024 * 1024)
    assert "1 MB" in str(info.value) and url in str(info.value)
    assert info.value.limit == 1024 * 1024


def test_body_without_length_is_stopped_at_the_cap(http_server):
    url = http_server.route("/big", huge(5 * 1024 * 1024, declare_length=False))
    with HttpClient(FAST) as c, pytest.raises(TooLarge):
        c.get(url, max_bytes=1024 * 1024)


def test_settings_cap_applies_by_default(http_server):
    url = http_server.route("/big", huge(300_000, declare_length=False))
    with HttpClient(HttpSettings(max_bytes=100_000, backoff=0.01)) as c, pytest.raises(TooLarge):
        c.get(url)


def test_truncation_when_allowed(http_server, client):
    url = http_server.route("/big", huge(5 * 1024 * 1024, declare_length=False))
    r = client.get(url, max_bytes=100_000, allow_truncate=True)
    assert r.truncated and r.content == b"a" * 100_000


def test_gzip_bomb_is_stopped_on_inflated_size(http_server, client):
    url = http_server.route("/bomb", gzip_bomb(64 * 1024 * 1024))
    with pytest.raises(TooLarge):
        client.get(url, max_bytes=1024 * 1024)
    r = client.get(url, max_bytes=1024 * 1024, allow_truncate=True)
    assert r.truncated and len(r.content) == 1024 * 1024


# --------------------------------------------------------------------------- redirects

def test_redirect_chain_is_followed_and_recorded(http_server, client):
    final = http_server.route("/c", send(200, b"done", "text/plain"))
    second = http_server.route("/b", redirect(final, 302))
    first = http_server.route("/a", redirect("/b", 301))     # relative Location
    r = client.get(first)
    assert (r.status, r.content, r.url, r.final_url) == (200, b"done", first, final)
    assert r.redirects == [(first, 301), (second, 302)]


def test_head_follows_redirects_too(http_server, client):
    final = http_server.route("/c", send(200, b"done", "text/plain"))
    first = http_server.route("/a", redirect(final, 308))
    r = client.head(first)
    assert (r.status, r.final_url, r.content) == (200, final, b"")
    assert [s.method for s in http_server.seen] == ["HEAD", "HEAD"]


def test_redirects_not_followed_on_request(http_server, client):
    url = http_server.route("/a", redirect("/b", 301))
    r = client.get(url, follow_redirects=False)
    assert (r.status, r.final_url, r.redirects) == (301, url, [])
    assert r.headers["Location"] == "/b"
    assert http_server.hits["/b"] == 0


def test_redirect_loop_is_detected(http_server, client):
    http_server.route("/a", redirect("/b"))
    url = http_server.route("/b", redirect("/a"))
    with pytest.raises(RedirectLoop) as info:
        client.get(url)
    assert url in str(info.value)
    # The server answered: a problem with the source (exit 1), not the network (exit 3).
    assert isinstance(info.value, SourceError) and not isinstance(info.value, NetworkError)
    assert info.value.exit_code == 1


def test_cookie_check_bounce_is_not_a_loop(http_server, client):
    # Many news sites set a cookie on a detour and send the reader back to the article.
    def article(h):
        if "seen=1" in h.headers.get("Cookie", ""):
            send(200, b"article", "text/plain")(h)
        else:
            redirect("/cookie-check")(h)

    url = http_server.route("/article", article)
    http_server.route("/cookie-check", send(302, b"", "text/plain",
                                            {"Location": "/article",
                                             "Set-Cookie": "seen=1; Path=/"}))
    r = client.get(url)
    assert (r.status, r.content, r.final_url) == (200, b"article", url)
    assert [status for _, status in r.redirects] == [302, 302]


def test_too_many_redirects(http_server):
    for n in range(6):
        http_server.route(f"/{n}", redirect(f"/{n + 1}"))
    http_server.route("/6", send(200, b"end", "text/plain"))
    with HttpClient(HttpSettings(max_redirects=3)) as c:
        with pytest.raises(TooManyRedirects) as info:
            c.get(http_server.url("/0"))
        assert "3 redirects" in str(info.value)
    with HttpClient(HttpSettings(max_redirects=6)) as c:
        assert c.get(http_server.url("/0")).content == b"end"


def test_redirect_to_a_malformed_location_is_refused(http_server, client):
    url = http_server.route("/a", redirect("http://[::1/broken"))
    with pytest.raises(BadRedirect):
        client.get(url)


def test_redirect_to_ftp_is_refused(http_server, client):
    url = http_server.route("/a", redirect("ftp://127.0.0.1/file.txt"))
    with pytest.raises(BadRedirect) as info:
        client.get(url)
    assert "ftp://127.0.0.1/file.txt" in str(info.value) and url in str(info.value)


# --------------------------------------------------------------------------- statuses, retries

def test_404_is_returned_and_raise_for_status_explains(http_server, client):
    url = http_server.route("/gone", send(404, page("Seite nicht gefunden").encode()))
    r = client.get(url)
    assert r.status == 404 and "nicht gefunden" in r.text
    assert http_server.hits["/gone"] == 1          # a 404 is not retried
    with pytest.raises(HTTPStatusError) as info:
        r.raise_for_status()
    assert "404" in str(info.value) and url in str(info.value)
    assert info.value.response is r


def test_429_with_retry_after_is_waited_for_then_succeeds(http_server, client):
    url = http_server.route("/rate", sequence(send(429, b"slow down", "text/plain",
                                                   {"Retry-After": "1"}),
                                              send(200, b"welcome", "text/plain")))
    r = client.get(url)
    assert (r.status, r.content) == (200, b"welcome")
    assert http_server.hits["/rate"] == 2


def test_retry_after_beyond_the_cap_returns_the_429(http_server):
    url = http_server.route("/rate", send(429, b"come back later", "text/plain",
                                          {"Retry-After": "3"}))
    with HttpClient(HttpSettings(retry_after_cap=1, deadline=60)) as c:
        r = c.get(url)
    assert r.status == 429 and r.content == b"come back later"
    assert http_server.hits["/rate"] == 1


def test_503_always_is_returned_after_the_retries(http_server, client):
    url = http_server.route("/down", send(503, b"maintenance", "text/plain"))
    r = client.get(url)
    assert r.status == 503 and r.content == b"maintenance"
    assert http_server.hits["/down"] == FAST.retries + 1


def test_500_then_200_succeeds(http_server, client):
    url = http_server.route("/flaky", sequence(send(500), send(200, b"ok", "text/plain")))
    assert client.get(url).content == b"ok"


def test_connection_reset_is_retried_then_reported(http_server, client):
    url = http_server.route("/rst", reset())
    with pytest.raises(ConnectionFailed) as info:
        client.get(url)
    assert url in str(info.value)
    assert http_server.hits["/rst"] == FAST.retries + 1


def test_reset_once_then_success(http_server, client):
    url = http_server.route("/rst", sequence(reset(), send(200, b"fine", "text/plain")))
    assert client.get(url).content == b"fine"


def test_reset_in_the_middle_of_the_body(http_server):
    url = http_server.route("/half", reset_mid_body())
    with HttpClient(HttpSettings(retries=0)) as c, pytest.raises(ConnectionFailed):
        c.get(url)


def test_refused_port(client):
    url = f"http://127.0.0.1:{unused_port()}/x"
    with pytest.raises(ConnectionFailed) as info:
        client.get(url)
    assert url in str(info.value) and "refused" in str(info.value)


def test_unknown_host():
    with HttpClient(HttpSettings(retries=0)) as c, pytest.raises(HostNotFound) as info:
        c.get("http://no-such-host.invalid/page")
    assert "no-such-host.invalid" in str(info.value)


def test_server_that_never_answers_times_out(http_server):
    url = http_server.route("/mute", never_answer())
    with HttpClient(HttpSettings(read_timeout=0.3, retries=1, backoff=0.01)) as c:
        with pytest.raises(Timeout) as info:
            c.get(url)
    assert url in str(info.value) and not info.value.deadline
    assert http_server.hits["/mute"] == 2          # a timeout is retried


def test_slow_answer_within_the_timeout_is_fine(http_server):
    url = http_server.route("/slow", slow(0.2, send(200, b"late", "text/plain")))
    with HttpClient(HttpSettings(read_timeout=2)) as c:
        assert c.get(url).content == b"late"


def test_endless_trickle_is_stopped_by_the_deadline(http_server):
    url = http_server.route("/drip", trickle(interval=0.02))
    with HttpClient(HttpSettings(read_timeout=1, deadline=0.5)) as c:
        with pytest.raises(Timeout) as info:
            c.get(url)
    assert info.value.deadline and "deadline" in str(info.value)
    assert http_server.hits["/drip"] == 1          # a passed deadline is not retried


# --------------------------------------------------------------------------- TLS

def test_self_signed_certificate_is_rejected(https_server, client):
    url = https_server.route("/s", send(200, b"secret", "text/plain"))
    with pytest.raises(TLSError) as info:
        client.get(url)
    assert url in str(info.value)


def test_self_signed_certificate_accepted_without_verification(https_server):
    url = https_server.route("/s", send(200, b"secret", "text/plain"))
    with HttpClient(HttpSettings(verify_tls=False)) as c:
        assert c.get(url).content == b"secret"


# --------------------------------------------------------------------------- URLs

@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)", "mailto:a@b.de",
    "http://", "https:///path", "example.org/page", "", "   ", "http://exa mple.org\n/x",
    "http://example.org:99999/", "http://[::1/x",
])
def test_bad_urls_are_usage_errors(client, url):
    with pytest.raises(BadURL) as info:
        client.get(url)
    assert isinstance(info.value, UsageError) and not isinstance(info.value, NetworkError)
    with pytest.raises(BadURL):
        client.head(url)


def test_check_url_accepts_http_and_https():
    assert check_url(" https://de.rbth.com/articles/2011/05/02/x ") == \
        "https://de.rbth.com/articles/2011/05/02/x"
    assert check_url("HTTP://Example.org") == "HTTP://Example.org"


def test_query_parameters_are_added(http_server, client):
    url = http_server.route("/api", send(200, b"{}", "application/json"))
    client.get(url, params={"url": "http://a.de/?x=1", "timestamp": "2017"})
    assert http_server.seen[0].path == "/api?url=http%3A%2F%2Fa.de%2F%3Fx%3D1&timestamp=2017"


# --------------------------------------------------------------------------- politeness

def test_user_agent_names_project_and_contact(http_server):
    url = http_server.route("/ua", send(200))
    with HttpClient(HttpSettings(email="ich@example.org")) as c:
        c.get(url)
    with HttpClient(HttpSettings()) as c:
        c.get(url)
    with_mail, without = (s.headers["User-Agent"] for s in http_server.seen)
    assert with_mail == (f"clippings/{__version__} (+https://github.com/clippings/clippings; "
                         "mailto:ich@example.org)")
    assert without == f"clippings/{__version__} (+https://github.com/clippings/clippings)"


def _parallel_gets(client: HttpClient, urls: list[str]) -> list:
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(client.get, urls))


@pytest.mark.parametrize("per_host", [1, 2])
def test_per_host_concurrency_is_limited(http_server, per_host):
    url = http_server.route("/busy", slow(0.1, send(200, b"ok", "text/plain")))
    with HttpClient(HttpSettings(per_host=per_host)) as c:
        results = _parallel_gets(c, [url] * 8)
    assert [r.status for r in results] == [200] * 8
    assert http_server.max_active == per_host


def test_concurrency_probe_sees_parallel_requests_when_allowed(http_server):
    # The control for the test above: without a tight limit the server does see overlap.
    url = http_server.route("/busy", slow(0.15, send(200, b"ok", "text/plain")))
    with HttpClient(HttpSettings(per_host=8)) as c:
        _parallel_gets(c, [url] * 8)
    assert http_server.max_active > 2


def test_host_spacing_spreads_request_starts(http_server):
    url = http_server.route("/p", send(200, b"ok", "text/plain"))
    with HttpClient(HttpSettings(per_host=5, host_spacing=0.1)) as c:
        _parallel_gets(c, [url] * 5)
    arrivals = [s.at for s in http_server.seen]
    # Five starts 0.1 s apart span 0.4 s; allow generous jitter on the server side.
    assert max(arrivals) - min(arrivals) >= 0.25


def test_shared_client_from_sixteen_threads(http_server):
    urls = [http_server.route(f"/p{n}", send(200, f"body {n} {MIXED}".encode()))
            for n in range(48)]
    with HttpClient(HttpSettings(per_host=4)) as c:
        results = _parallel_gets(c, urls)
    assert [r.text for r in results] == [f"body {n} {MIXED}" for n in range(48)]
    assert http_server.max_active <= 4


# --------------------------------------------------------------------------- pure helpers

def test_retry_after_parsing():
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_http_date_retry_after_is_honoured(http_server, client):
    later = datetime.now(timezone.utc) + timedelta(seconds=1)
    url = http_server.route("/rate", sequence(
        send(503, b"", "text/plain", {"Retry-After": format_datetime(later, usegmt=True)}),
        send(200, b"back", "text/plain")))
    assert client.get(url).content == b"back"
    assert http_server.hits["/rate"] == 2


def test_errors_are_one_line_network_errors(http_server, client):
    url = http_server.route("/rst", reset())
    with pytest.raises(NetworkError) as info:
        client.get(url)
    assert "\n" not in str(info.value) and info.value.exit_code == 3


@pytest.mark.parametrize("error,code", [
    (Timeout, 3), (ConnectionFailed, 3), (HostNotFound, 3), (TLSError, 3),
    (RedirectLoop, 1), (TooManyRedirects, 1), (BadRedirect, 1), (TooLarge, 1),
    (HTTPStatusError, 1),
])
def test_no_answer_is_the_networks_failure_an_answer_the_sources(error, code):
    """cli.md: exit 3 only when no answer came (DNS, connection, timeout, TLS)."""
    assert error.exit_code == code
    assert issubclass(error, NetworkError) == (code == 3)
    assert issubclass(error, SourceError) == (code == 1)


def test_client_is_usable_after_errors(http_server, client):
    bad = http_server.route("/rst", reset())
    good = http_server.route("/ok", send(200, b"ok", "text/plain"))
    with pytest.raises(ConnectionFailed):
        client.get(bad)
    assert client.get(good).content == b"ok"


def test_the_connection_itself_refuses_a_private_peer(http_server):
    """DNS rebinding: a name that was public when checked may resolve to 127.0.0.1 a
    moment later. The address the socket actually reached is checked as well; here the
    request goes straight to the connection, past the name check, as after a rebinding."""
    from clippings.http import PrivateAddress
    url = http_server.route("/inside", send(200, b"internal"))
    with HttpClient(HttpSettings(allow_private_addresses=False)) as client:
        with pytest.raises(PrivateAddress, match=r"127\.0\.0\.1"):
            client._send("GET", url, {}, (5.0, 5.0))
    assert http_server.hits["/inside"] == 0
    with HttpClient(HttpSettings(allow_private_addresses=True)) as client:
        assert client.get(url).content == b"internal"    # allowed when configured
