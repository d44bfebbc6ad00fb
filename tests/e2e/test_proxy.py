"""A deployed app behind a real reverse proxy (Debian's nginx on 127.0.0.1), as its visitors meet it.

A proxy on the app's machine makes every visitor a loopback peer. Two nginx
configurations stand in front of one `streamlit run` each: the smallest websocket
proxy (``Host`` passed on, no forwarding header: only the browser's ``Origin``
and ``Host`` tell) and one with Debian's ``proxy_params`` (``X-Forwarded-For``
and friends). The visitor's Chromium reaches nginx as ``http://myapp.test/``
(a host-resolver rule maps it to the proxy's port), as a browser elsewhere would.

- Without a token configured, a visitor through either proxy gets no panel, no
  sidebar, no exports, and none of st_memwatch's figures on ``/_stcore/metrics``;
  a browser on this machine talking to the app directly still gets all of them.
- The nginx docs' literal minimal proxy (not even ``Host`` passed on; the app
  accepts cross-origin websockets, XSRF off) leaves only the browser's
  ``Origin``: that alone keeps the panel closed.
- With a token, only the right one opens the panel; the token then leaves the
  address, the gauge polls its live figures through the proxy, and no metrics
  request, Referer or later access-log line carries the token. A reload without
  it asks again.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from servers import APPS, Proxy, Server, Visit, chromium, proxying, serving

pytestmark = pytest.mark.e2e

HOST = "myapp.test"  # resolved to 127.0.0.1 by the visitor's Chromium only
APP = APPS / "private_app.py"
TOKEN = "t0ken-through-the-proxy"
SIDEBAR = '[data-testid="stSidebar"]'
POLL_TIMEOUT_MS = 30_000
FETCH_METRICS = "() => fetch('/_stcore/metrics', {cache: 'no-store', credentials: 'same-origin'}).then(r => r.text())"


def _log(artifacts: Path, name: str) -> Path:
    from importlib.metadata import version

    return artifacts / f"server-proxy-{name}-{version('streamlit')}.log"


@pytest.fixture(scope="module")
def open_server(artifacts: Path) -> Iterator[Server]:
    with serving(APP, _log(artifacts, "open")) as server:
        yield server


@pytest.fixture(scope="module")
def token_server(artifacts: Path) -> Iterator[Server]:
    with serving(APP, _log(artifacts, "token"), {"ST_MEMWATCH_TOKEN": TOKEN}) as server:
        yield server


@pytest.fixture(scope="module", params=["bare", "proxy_params"])
def config(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_proxy(open_server: Server, config: str, tmp_path: Path) -> Iterator[Proxy]:
    with proxying(open_server.port, tmp_path / "nginx", proxy_params=config == "proxy_params") as proxy:
        yield proxy


@pytest.fixture
def token_proxy(token_server: Server, config: str, tmp_path: Path) -> Iterator[Proxy]:
    with proxying(token_server.port, tmp_path / "nginx", proxy_params=config == "proxy_params") as proxy:
        yield proxy


@contextmanager
def visitor_browser(browser: Any, proxy: Proxy) -> Iterator[Any]:
    """A Chromium for which ``myapp.test`` (port 80) is this proxy: the browser's origin is not loopback."""
    with chromium(browser, [f"--host-resolver-rules=MAP {HOST} 127.0.0.1:{proxy.port}"]) as b:
        yield b


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return str(resp.read().decode())


# What any drawn panel sends down the websocket (the page may still be loading a chunk to show it).
PANEL_MARKS = (b"Memory details", b"Record (JSON)", b"Prepare export", b"st_memwatch_gauge")


def assert_nothing_of_st_memwatch(visit: Visit) -> None:
    sent = b"".join(visit.frames)
    assert not [m for m in PANEL_MARKS if m in sent], "the websocket carried the panel"
    page = visit.page
    body = page.locator("body").inner_text()
    assert not visit.panel_shown(), body
    assert page.locator(SIDEBAR).count() == 0, "the hidden panel still drew a sidebar"
    assert "Memory" not in body and "st_memwatch" not in body and "limit:" not in body, body
    assert page.get_by_test_id("stDownloadButton").count() == 0, "an export is offered"
    assert page.get_by_role("button", name="Prepare export").count() == 0
    assert "st_memwatch_" not in page.evaluate(FETCH_METRICS), "the visitor's own browser reads the figures"


def gauge_polls(visit: Visit, n: int) -> list[str]:
    """The bodies of the gauge's next ``n`` metrics responses (it polls about once a second)."""
    bodies = []
    for _ in range(n):
        response = visit.page.wait_for_event(
            "response", predicate=lambda r: "/_stcore/metrics" in r.url, timeout=POLL_TIMEOUT_MS
        )
        bodies.append(response.text())
    return bodies


def test_a_visitor_through_the_proxy_gets_no_panel_no_exports_and_no_figures(
    browser: Any, open_server: Server, open_proxy: Proxy
) -> None:
    with visitor_browser(browser, open_proxy) as remote:
        _visit_without_access(remote, browser, open_server, open_proxy)


def _visit_without_access(remote: Any, browser: Any, open_server: Server, open_proxy: Proxy) -> None:
    visitor = Visit(remote, f"http://{HOST}/")
    author = Visit(browser, open_server.url)  # a browser on this machine, talking to the app directly
    try:
        assert_nothing_of_st_memwatch(visitor)
        visitor.rerun()
        assert_nothing_of_st_memwatch(visitor)
        scraped = fetch(open_proxy.url() + "_stcore/metrics")  # a scraper through the proxy, no cookie
        assert "st_memwatch_" not in scraped, scraped[:500]
        # The same app, the same moment: the author still sees everything (so the above can fail).
        author.page.get_by_text("Memory details", exact=True).wait_for()
        assert [m for m in PANEL_MARKS[:2] if m in b"".join(author.frames)] == [b"Memory details"]
        assert "st_memwatch_rss_bytes" in author.page.evaluate(FETCH_METRICS)
        assert "st_memwatch_rss_bytes" in "".join(gauge_polls(author, 2)), "the author's gauge gets no live figures"
    finally:
        visitor.close()
        author.close()


def test_through_the_proxy_only_the_right_token_opens_it_and_the_token_does_not_travel(
    browser: Any, token_server: Server, token_proxy: Proxy
) -> None:
    with visitor_browser(browser, token_proxy) as remote:
        _visit_with_token(remote, token_server, token_proxy)


def _visit_with_token(visitor_browser: Any, token_server: Server, token_proxy: Proxy) -> None:
    base = f"http://{HOST}/"
    plain = Visit(visitor_browser, base)
    wrong = Visit(visitor_browser, base + "?memwatch=t0ken-through-the-prox")
    try:
        assert_nothing_of_st_memwatch(plain)
        assert_nothing_of_st_memwatch(wrong)
    finally:
        plain.close()
        wrong.close()
    right = Visit(visitor_browser, base + f"?memwatch={TOKEN}")
    try:
        right.page.get_by_text("Memory details", exact=True).wait_for()
        assert b"Memory details" in b"".join(right.frames)
        right.page.wait_for_function("() => !location.search.includes('memwatch')")
        polls = gauge_polls(right, 3)
        assert all("st_memwatch_rss_bytes" in body for body in polls), "the gauge gets no live figures through the proxy"
        right.rerun()
        assert right.panel_shown(), "the session stays open once the token left the address"
        carrying = [line for line in token_proxy.access_lines() if TOKEN in line]
        gauge_polls(right, 3)
        lines = token_proxy.access_lines()
        start = next(i for i, line in enumerate(lines) if f"GET /?memwatch={TOKEN} " in line)  # this visit's page
        polled = [line for line in lines[start:] if "/_stcore/metrics" in line]
        assert len(polled) >= 6, polled
        assert not [line for line in polled if TOKEN in line], "a metrics request carried the token"
        assert [line for line in lines if TOKEN in line] == carrying, "requests after the first ones still carry the token"
        first_poll = next(i for i in range(start, len(lines)) if "/_stcore/metrics" in lines[i])
        late = [line for line in lines[first_poll:] if TOKEN in line]
        assert not late, late
        assert TOKEN not in token_server.log_text()
        # A reload without the token asks for it again.
        right.frames.clear()  # what the reloaded page receives, alone
        right.page.reload()
        right.idle()
        right.rerun()  # a decision after the first page's session has gone
        assert "memwatch" not in right.page.url
        assert_nothing_of_st_memwatch(right)
    finally:
        right.close()


@pytest.fixture(scope="module")
def cross_origin_server(artifacts: Path) -> Iterator[Server]:
    """An app that accepts websockets from any origin, as it must behind a proxy that rewrites Host."""
    env = {"STREAMLIT_SERVER_ENABLE_CORS": "false", "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION": "false"}
    with serving(APP, _log(artifacts, "cross-origin"), env) as server:
        yield server


def test_behind_the_literal_minimal_proxy_the_origin_alone_keeps_the_panel_closed(
    browser: Any, cross_origin_server: Server, tmp_path: Path
) -> None:
    with proxying(cross_origin_server.port, tmp_path / "nginx", pass_host=False) as proxy:
        with visitor_browser(browser, proxy) as remote:
            visitor = Visit(remote, f"http://{HOST}/")
            author = Visit(browser, cross_origin_server.url)
            try:
                assert_nothing_of_st_memwatch(visitor)
                assert "st_memwatch_" not in fetch(proxy.url() + "_stcore/metrics")
                author.page.get_by_text("Memory details", exact=True).wait_for()
                # Without Streamlit's XSRF cookie nothing ties a metrics request to the author's browser:
                # the figures stay private, and the author's gauge shows per-run figures instead.
                assert "st_memwatch_" not in author.page.evaluate(FETCH_METRICS)
            finally:
                visitor.close()
                author.close()
