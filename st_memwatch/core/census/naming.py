"""The census's key for a type, and which types are st_memwatch's own.

Keys are ``module.QualName`` (``builtins`` dropped) rather than the type object, so
that the same class seen in two censuses, or redefined by a Streamlit rerun, lines up
under one key, and so that a census result keeps no class (and, through it, no
module) alive.
"""

from __future__ import annotations

#: The top-level package whose classes the census leaves out: the monitor's own
#: bookkeeping (census results, suspects, run records) is never the app's growth.
OWN_PACKAGE = __name__.split(".")[0]


def type_name(t: type) -> str:
    """The census key of a type: ``module.QualName``, or the bare name for builtins.

    >>> type_name(dict), type_name(type(iter(range(0))))
    ('dict', 'range_iterator')
    """
    mod = getattr(t, "__module__", None)
    qual = getattr(t, "__qualname__", None) or getattr(t, "__name__", "?")
    if not isinstance(qual, str):
        qual = str(qual)
    if not isinstance(mod, str) or not mod or mod == "builtins":
        return qual
    return f"{mod}.{qual}"


def is_own_type(t: type) -> bool:
    """True for classes defined in the st_memwatch package (not for a package that only
    shares the prefix of its name)."""
    mod = getattr(t, "__module__", None)
    return isinstance(mod, str) and (mod == OWN_PACKAGE or mod.startswith(OWN_PACKAGE + "."))
