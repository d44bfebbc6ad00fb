"""The gate's decision, rule by rule, with the visitor described by hand (pure logic)."""

from __future__ import annotations

import pytest

from st_memwatch.ui.gate import Gate, Visitor, check_visible, is_local, token_matches

LOCAL = Visitor(server=True, remote_ip="127.0.0.1", headers={"host": "localhost:8501"})
REMOTE = Visitor(server=True, remote_ip="203.0.113.7", headers={"host": "app.example.com"})


def test_loopback_browser_sees_the_panel_without_any_setting():
    assert Gate().decide("s1", None, "", LOCAL).show
    assert Gate().decide("s1", None, "", Visitor(server=True, remote_ip="::1")).show


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
