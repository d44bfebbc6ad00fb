"""What the gate needs to know about this session's browser, read from Streamlit.

The remote address is the websocket's TCP peer: ``client.client_context.remote_ip``
on recent Streamlit (Tornado and Starlette servers alike), the Tornado handler's
``request.remote_ip`` on 1.40. ``st.context.ip_address`` is not used: it returns
None both for a loopback peer and when it knows nothing. Headers come from
``st.context.headers`` (the websocket handshake's: ``Origin`` and ``Host``
included, on the Tornado server of 1.40 and the Starlette server of newer
releases alike), the token from ``st.query_params``. Any of it missing reads as
"not known", which the gate treats as not local: unknown never opens the panel.

The browser's XSRF cookie (``_streamlit_xsrf``, which Streamlit sets on every
page by default) is read too: it is what ties the live gauge's metrics requests,
which carry no session, to a browser the gate let in (see ``metrics.py``).
"""

from __future__ import annotations

import os
import time
from typing import Any

from st_memwatch.core.gate import QUERY_PARAM, TOKEN_ENV, Visitor


def _runtime() -> Any | None:
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return None
    runtime = Runtime.instance()
    # AppTest installs a MagicMock(spec=Runtime): no server, no browser.
    return runtime if issubclass(type(runtime), Runtime) else None


def has_server() -> bool:
    """Is this a real ``streamlit run`` server (not AppTest, not bare mode)?"""
    try:
        return _runtime() is not None
    except Exception:  # noqa: BLE001
        return False


def _client(runtime: Any, session_id: str) -> Any | None:
    get_client = getattr(runtime, "get_client", None)
    if callable(get_client):
        return get_client(session_id)
    mgr = getattr(runtime, "_session_mgr", None)
    info = mgr.get_session_info(session_id) if mgr is not None else None
    return getattr(info, "client", None)


def _remote_ip(client: Any) -> str | None:
    context = getattr(client, "client_context", None)
    ip = getattr(context, "remote_ip", None)
    if ip is None:
        ip = getattr(getattr(client, "request", None), "remote_ip", None)
    return str(ip) if ip else None


def _headers() -> dict[str, str]:
    import streamlit as st

    try:
        return {str(k).lower(): str(v) for k, v in st.context.headers.items()}
    except Exception:  # noqa: BLE001 - an old or mocked context: no headers known
        return {}


def _token_given() -> str | None:
    import streamlit as st

    try:
        value = st.query_params.get(QUERY_PARAM)
    except Exception:  # noqa: BLE001
        return None
    return str(value) if value else None


XSRF_COOKIE = "_streamlit_xsrf"


def xsrf_cookie() -> str | None:
    """This session's XSRF cookie as its websocket handshake carried it (None when none)."""
    import streamlit as st

    if _runtime() is None:
        return None  # AppTest, bare mode: no browser, and AppTest's mocked context costs milliseconds a read
    try:
        value = st.context.cookies.get(XSRF_COOKIE)
    except Exception:  # noqa: BLE001 - an old or mocked context: no cookie known
        return None
    return str(value) if value else None


def active_aliases() -> set[str] | None:
    """The aliases of the sessions with a browser connected now (None when unknown)."""
    from st_memwatch.streamlit_bridge.aliases import session_alias

    try:
        runtime = _runtime()
        mgr = getattr(runtime, "_session_mgr", None)
        if mgr is None:
            return None
        return {session_alias(info.session.id) for info in mgr.list_active_sessions()}
    except Exception:  # noqa: BLE001 - unknown: nothing is pruned
        return None


def drop_token_from_url() -> str:
    """Take ``?memwatch=`` out of the page's address (the session stays open); "" or why not."""
    import streamlit as st

    try:
        if QUERY_PARAM in st.query_params:
            del st.query_params[QUERY_PARAM]
    except Exception as exc:  # noqa: BLE001 - the panel still opens; the note says what stayed
        return f"the token could not be removed from the address ({type(exc).__name__})"
    return ""


def read_visitor(token_set: bool) -> Visitor:
    """This script run's browser as the gate sees it (call on the script thread).

    The gate reads the URL's token only when a token is configured, and the peer and
    headers only when none is: each is read only when the gate asks (they cost a
    visible share of a rerun).
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    given = _token_given() if token_set and ctx is not None else None
    runtime = _runtime()
    if ctx is None or runtime is None:
        return Visitor(server=False, token_given=given)
    if token_set:
        return Visitor(server=True, token_given=given)
    try:
        ip = _remote_ip(_client(runtime, ctx.session_id))
    except Exception:  # noqa: BLE001
        ip = None
    return Visitor(server=True, remote_ip=ip, headers=_headers())


# The secrets file is looked for on disk at every read when there is none: the answer is
# kept a few seconds, so a token added to secrets.toml takes effect within that time.
SECRETS_TOKEN_TTL_S = 5.0
_secrets_token: tuple[float, str] | None = None


def configured_token() -> str:
    """``ST_MEMWATCH_TOKEN``, else ``st.secrets["st_memwatch"]["token"]``, else ""."""
    global _secrets_token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return token
    now = time.monotonic()
    kept = _secrets_token
    if kept is not None and now - kept[0] < SECRETS_TOKEN_TTL_S:
        return kept[1]
    token = _token_in_secrets()
    _secrets_token = (now, token)
    return token


def forget_secrets_token() -> None:
    """Read secrets.toml again at the next call (tests that write one)."""
    global _secrets_token
    _secrets_token = None


def _token_in_secrets() -> str:
    try:
        import streamlit as st

        secrets: Any = st.secrets
        if not _has_secrets_file(secrets):
            return ""
        section = secrets.get("st_memwatch")
        value = section.get("token") if section is not None else None
    except Exception:  # noqa: BLE001 - no secrets file, or a malformed one
        return ""
    return str(value).strip() if value else ""


def _has_secrets_file(secrets: Any) -> bool:
    """Ask first, so that an app without a secrets file sees no "No secrets found" error."""
    probe = getattr(secrets, "load_if_toml_exists", None)
    return bool(probe()) if callable(probe) else False
