"""Who may see the panel: the decision, apart from how its inputs are read.

A deployed app's visitors must not see the host's memory, other sessions' runs,
cache function names or session_state key names, so the panel is private by
default. The rules, first match wins:

1. ``panel(visible=...)``: a bool, or a callable returning one, decides alone
   (the author's explicit choice; a callable that raises hides the panel).
2. A token (``ST_MEMWATCH_TOKEN`` or ``st.secrets["st_memwatch"]["token"]``):
   the panel shows in a session whose URL carried ``?memwatch=<token>``, compared
   in constant time and remembered for that session once given; the parameter
   then leaves the page's address, so no later request, Referer or log line
   carries it.
3. Otherwise local development only, or no server at all (AppTest, bare mode).
   Local means three things at once: the TCP peer is loopback, the browser's own
   origin is a loopback host (the websocket handshake's ``Origin``, which a
   reverse proxy passes on unchanged, else the ``Host`` it asked for), and no
   header any common proxy adds is present. A proxy on this machine makes every
   peer loopback, so the peer alone proves nothing.

A client that forges ``Origin`` through a proxy that adds no header at all is
indistinguishable from a local browser: behind a proxy, set a token (then even a
local browser needs it) or let the proxy send ``X-Forwarded-For``.

Recording goes on whatever this decides; only drawing depends on it. The bridge
reads the request (remote address, headers, query parameters, secrets); this
module is pure so that each rule can be tested without a server.
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

QUERY_PARAM = "memwatch"
TOKEN_ENV = "ST_MEMWATCH_TOKEN"
# A request that passed through any of these came from a proxy: not a local browser.
PROXY_HEADERS = (
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-server",
    "x-forwarded-prefix",
    "x-original-forwarded-for",
    "via",
    "cf-connecting-ip",
    "true-client-ip",
    "x-client-ip",
    "x-envoy-external-address",
)
_MAX_REMEMBERED = 10_000
TOKEN_IN_URL = "token in the URL"  # the one reason after which the token leaves the address

Visible = bool | Callable[[], bool] | None


@dataclass(frozen=True, slots=True)
class Visitor:
    """What the bridge learned about the browser of this session.

    ``server`` is False when no server runtime exists (AppTest, bare mode).
    ``remote_ip`` is the TCP peer (None when unknown); ``headers`` are the
    websocket request's headers, lower-cased names; ``token_given`` is the
    ``?memwatch=`` value of this run's URL, if any.
    """

    server: bool
    remote_ip: str | None = None
    headers: Mapping[str, str] | None = None
    token_given: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    show: bool
    reason: str  # fixed words, never a token or an address: it may go to the log


def check_visible(visible: object) -> None:
    """Reject a bad ``visible=`` with a ValueError naming the value and what is accepted."""
    if visible is None or isinstance(visible, bool) or callable(visible):
        return
    raise ValueError(f"invalid visible {visible!r}: expected True, False, or a callable returning True or False")


def is_loopback(address: str | None) -> bool:
    """A loopback address, IPv4-mapped IPv6 included (``::ffff:127.0.0.1``).

    A dual-stack server (Streamlit's Starlette server listens on ``::``) sees an
    IPv4 browser as an IPv4-mapped IPv6 peer, which ``is_loopback`` does not
    count as loopback before Python 3.13.
    """
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool((mapped or ip).is_loopback)


def host_is_loopback(host: str | None) -> bool:
    """``localhost``, ``*.localhost`` or a loopback address, with or without a scheme and port."""
    if not host:
        return False
    text = host.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].rsplit("@", 1)[-1]
    if text.startswith("["):  # [::1]:8501
        name = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        name = text.split(":", 1)[0]
    else:
        name = text  # a bare name, or a bare IPv6 address
    name = name.rstrip(".")
    return name == "localhost" or name.endswith(".localhost") or is_loopback(name)


def browser_origin(headers: Mapping[str, str]) -> str | None:
    """Where the browser thinks it is: ``Origin`` (passed through proxies unchanged), else ``Host``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    origin = lowered.get("origin")
    if origin is not None:
        return origin  # "null" (a sandboxed or file page) is no loopback host either
    return lowered.get("host")


def is_local(visitor: Visitor) -> bool:
    """A browser on this machine talking to the server directly (or no server at all)."""
    if not visitor.server:
        return True
    headers = visitor.headers or {}
    names = {k.lower() for k in headers}
    if any(h in names for h in PROXY_HEADERS):
        return False  # a proxy on this machine makes every visitor look local
    return is_loopback(visitor.remote_ip) and host_is_loopback(browser_origin(headers))


def token_matches(expected: str, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class Gate:
    """Decides per session; remembers (bounded) which sessions gave the right token."""

    def __init__(self) -> None:
        self._granted: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def decide(self, session: str, visible: Visible, token: str, visitor: Visitor) -> Decision:
        if visible is not None:
            if isinstance(visible, bool):
                return Decision(visible, "visible= argument")
            try:
                result = visible()
            except Exception:
                return Decision(False, "visible= callable raised")
            if not isinstance(result, bool):
                return Decision(False, "visible= callable returned a non-bool")
            return Decision(result, "visible= callable")
        if token:
            if token_matches(token, visitor.token_given):
                self._remember(session)
                return Decision(True, TOKEN_IN_URL)
            with self._lock:
                granted = session in self._granted
            return Decision(granted, "token given earlier in this session" if granted else "no valid token")
        if is_local(visitor):
            return Decision(True, "local development")
        return Decision(False, "not local and no token configured")

    def _remember(self, session: str) -> None:
        with self._lock:
            self._granted.pop(session, None)
            self._granted[session] = None
            while len(self._granted) > _MAX_REMEMBERED:
                self._granted.popitem(last=False)

    def forget(self) -> None:
        with self._lock:
            self._granted.clear()


HOW_TO_OPEN = (
    "st_memwatch: the memory panel is hidden from this visitor (not a local browser). It keeps recording. "
    f"To see it in a deployed app, set {TOKEN_ENV} (or st.secrets['st_memwatch']['token']) and open the app "
    f"with ?{QUERY_PARAM}=<token>, or pass panel(visible=...) a bool or a callable."
)
# With a token set, local or not does not matter: the hint must not guess where the visitor is.
HOW_TO_OPEN_WITH_TOKEN = (
    "st_memwatch: the memory panel is hidden from this visitor (no valid token in this session). It keeps "
    f"recording. A token is set ({TOKEN_ENV} or st.secrets['st_memwatch']['token']): open the app with "
    f"?{QUERY_PARAM}=<token> (every browser needs it, a local one too), or pass panel(visible=...)."
)


def how_to_open(token_set: bool) -> str:
    """The one-time log hint for a hidden panel; it names no token, address or session."""
    return HOW_TO_OPEN_WITH_TOKEN if token_set else HOW_TO_OPEN
