"""The gate's decision, rule by rule, with the visitor described by hand (pure logic)."""

from __future__ import annotations

import pytest

from st_memwatch.core.gate import (
    HOW_TO_OPEN,
    HOW_TO_OPEN_WITH_TOKEN,
    PROXY_HEADERS,
    Gate,
    Visitor,
    check_visible,
    host_is_loopback,
    how_to_open,
    is_local,
    token_matches,
)

LOCAL = Visitor(server=True, remote_ip="127.0.0.1", headers={"host": "localhost:8501", "origin": "http://localhost:8501"})
REMOTE = Visitor(server=True, remote_ip="203.0.113.7", headers={"host": "app.example.com"})


def test_loopback_browser_sees_the_panel_without_any_setting():
    assert Gate().decide("s1", None, "", LOCAL).show
    v6 = Visitor(server=True, remote_ip="::1", headers={"Host": "[::1]:8501", "Origin": "http://[::1]:8501"})
    assert Gate().decide("s1", None, "", v6).show
    by_host_only = Visitor(server=True, remote_ip="127.0.0.1", headers={"host": "127.0.0.1:8501"})
    assert Gate().decide("s1", None, "", by_host_only).show


def test_a_dual_stack_server_sees_a_local_ipv4_browser_as_an_ipv4_mapped_peer():
    """Streamlit's Starlette server listens on ``::``: 127.0.0.1 arrives as ``::ffff:127.0.0.1``."""
    mapped = Visitor(server=True, remote_ip="::ffff:127.0.0.1", headers={"host": "127.0.0.1:8501", "origin": "http://127.0.0.1:8501"})
    assert is_local(mapped)
    assert Gate().decide("s1", None, "", mapped).show
    assert host_is_loopback("[::ffff:127.0.0.1]:8501")
    outside = Visitor(server=True, remote_ip="::ffff:10.0.0.5", headers={"host": "127.0.0.1:8501"})
    assert not is_local(outside)


def through_a_bare_proxy(origin: str | None, host: str = "127.0.0.1:8501") -> Visitor:
    """What a same-host proxy that adds no header passes on: a loopback peer, the browser's Origin."""
    headers = {"host": host} | ({"origin": origin} if origin is not None else {})
    return Visitor(server=True, remote_ip="127.0.0.1", headers=headers)


@pytest.mark.parametrize(
    "visitor",
    [
        through_a_bare_proxy("https://app.example.com"),
        through_a_bare_proxy("http://myapp.test:8080"),
        through_a_bare_proxy("null"),  # a sandboxed page: no loopback host either
        through_a_bare_proxy("http://localhost.example.com"),
        through_a_bare_proxy("http://127.0.0.1.nip.io:8501"),
        through_a_bare_proxy(None, host="app.example.com"),  # no Origin: the Host the browser used
        Visitor(server=True, remote_ip="127.0.0.1", headers={}),  # neither: unknown never opens it
        Visitor(server=True, remote_ip="127.0.0.1"),
    ],
)
def test_a_loopback_peer_with_a_foreign_origin_or_host_is_not_local(visitor):
    assert not is_local(visitor)
    assert not Gate().decide("s1", None, "", visitor).show


@pytest.mark.parametrize("header", PROXY_HEADERS)
def test_any_one_proxy_header_alone_makes_a_loopback_browser_not_local(header):
    names = {"Via", "CF-Connecting-IP", "True-Client-IP", "X-Client-IP", "X-Envoy-External-Address", "X-Forwarded-Port"}
    name = next((n for n in names if n.lower() == header), header.upper())  # any spelling counts
    visitor = Visitor(server=True, remote_ip="127.0.0.1", headers=dict(LOCAL.headers or {}) | {name: "x"})
    assert not is_local(visitor)


def test_the_proxy_header_list_covers_the_common_proxies():
    assert set(PROXY_HEADERS) >= {
        "x-forwarded-for", "x-real-ip", "forwarded", "x-forwarded-host", "x-forwarded-proto", "via",
        "cf-connecting-ip", "true-client-ip", "x-client-ip", "x-envoy-external-address", "x-forwarded-port",
        "x-forwarded-server", "x-forwarded-prefix", "x-original-forwarded-for",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True), ("LOCALHOST:8501", True), ("http://localhost:8501", True), ("app.localhost", True),
        ("127.0.0.1", True), ("127.1.2.3:80", True), ("[::1]:8501", True), ("::1", True), ("http://[::1]", True),
        ("localhost.", True), ("example.com", False), ("localhost.example.com", False), ("10.0.0.1:8501", False),
        ("", False), (None, False), ("null", False), ("http://user@evil.example", False),
    ],
)  # fmt: skip
def test_loopback_host_names(host, loopback):
    assert host_is_loopback(host) is loopback


def test_the_log_hint_does_not_call_a_browser_remote_when_a_token_is_what_it_lacks():
    assert how_to_open(False) == HOW_TO_OPEN and "not a local browser" in HOW_TO_OPEN
    assert how_to_open(True) == HOW_TO_OPEN_WITH_TOKEN
    assert "not a local browser" not in HOW_TO_OPEN_WITH_TOKEN and "a local one too" in HOW_TO_OPEN_WITH_TOKEN


def test_no_server_means_local_development():
    assert Gate().decide("s1", None, "", Visitor(server=False)).show


@pytest.mark.parametrize(
    "visitor",
    [
        REMOTE,
        Visitor(server=True, remote_ip=None),  # unknown peer never opens it
        Visitor(server=True, remote_ip="127.0.0.1", headers={"X-Forwarded-For": "198.51.100.4"}),
        Visitor(server=True, remote_ip="127.0.0.1", headers={"forwarded": "for=198.51.100.4"}),
        Visitor(server=True, remote_ip="10.0.0.5"),
        Visitor(server=True, remote_ip="not an address"),
    ],
)
def test_anything_but_a_direct_loopback_browser_is_not_local(visitor):
    assert not is_local(visitor)
    decision = Gate().decide("s1", None, "", visitor)
    assert not decision.show and decision.reason == "not local and no token configured"


def test_token_wrong_missing_right_and_remembered():
    gate = Gate()
    assert not gate.decide("s1", None, "sesame", REMOTE).show  # no token in the URL
    assert not gate.decide("s1", None, "sesame", Visitor(server=True, token_given="sesam")).show
    assert not gate.decide("s1", None, "sesame", Visitor(server=True, token_given="sesame2")).show
    assert gate.decide("s1", None, "sesame", Visitor(server=True, token_given="sesame")).show
    # Remembered for that session once given, and only for it.
    assert gate.decide("s1", None, "sesame", REMOTE).show
    assert not gate.decide("s2", None, "sesame", REMOTE).show


def test_a_token_closes_even_a_local_browser_without_it():
    assert not Gate().decide("s1", None, "sesame", LOCAL).show


def test_visible_bool_and_callable_decide_alone():
    gate = Gate()
    assert gate.decide("s1", True, "", REMOTE).show
    assert not gate.decide("s1", False, "", LOCAL).show
    assert gate.decide("s1", lambda: True, "sesame", REMOTE).show
    assert not gate.decide("s1", lambda: False, "", LOCAL).show


def test_a_callable_that_raises_or_returns_a_non_bool_hides_the_panel():
    def boom() -> bool:
        raise RuntimeError("no user")

    assert Gate().decide("s1", boom, "", LOCAL).reason == "visible= callable raised"
    assert not Gate().decide("s1", boom, "", LOCAL).show
    assert not Gate().decide("s1", lambda: "yes", "", LOCAL).show  # type: ignore[arg-type,return-value]


def test_bad_visible_is_a_clear_error():
    for bad in ("yes", 1, [True]):
        with pytest.raises(ValueError, match=r"invalid visible .*expected True, False, or a callable"):
            check_visible(bad)
    for good in (None, True, False, lambda: True):
        check_visible(good)


def test_token_comparison_needs_both_sides():
    assert not token_matches("", "")
    assert not token_matches("a", None)
    assert token_matches("ä-token", "ä-token")
