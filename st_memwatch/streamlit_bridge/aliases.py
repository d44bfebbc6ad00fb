"""Sessions' short aliases: the one way a session id crosses into st_memwatch.

A session id is a secret (a client that knows one can reconnect to that session),
so st_memwatch never keeps or shows it: each is mapped here, once, to an alias
numbered in order of first sight. Its own module, imported by the run hooks, the
readers and the visitor check alike, so none of them imports another for it.
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections import OrderedDict

# Sessions remembered at once: beyond it the longest-unused one is forgotten (a session
# that returns after that gets a new alias; its old runs keep the old one).
MAX_ALIASES = 10_000
_aliases: OrderedDict[str, str] = OrderedDict()
_alias_numbers = itertools.count(1)
_alias_lock = threading.Lock()


def session_alias(session_id: object) -> str:
    """The short alias ("s1", "s2", ...) of a real session id; "" for none.

    The one way a session id crosses into st_memwatch: aliases are numbered in
    order of first sight and say nothing about the id.
    """
    key = str(session_id) if session_id else ""
    if not key:
        return ""
    with _alias_lock:
        alias = _aliases.get(key)
        if alias is None:
            alias = sys.intern(f"s{next(_alias_numbers)}")
            _aliases[key] = alias
            while len(_aliases) > MAX_ALIASES:
                _aliases.popitem(last=False)
        else:
            _aliases.move_to_end(key)
    return alias
