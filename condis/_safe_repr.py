"""Messages that cannot fail: a repr for anything a driver passes, and the repr of condis structures.

A refusal's message names what the driver passed. Building it must not fail on a structure with a
field deleted, a structure that contains itself, a very long NET_BUFFER_LIST chain, or an object
whose ``__repr__`` raises: that would lose the refusal itself.
"""

from __future__ import annotations

import reprlib
from typing import Any

_REPR_LIMIT = 160


def safe_repr(value: Any, limit: int = _REPR_LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters, or a description of the value if its repr fails.

    Messages name what a driver passed; building one must not fail on a broken structure, a
    structure that contains itself, or an object whose ``__repr__`` raises.
    """
    try:
        text = repr(value)
    except Exception as e:      # RecursionError included: the message is built whatever the value
        text = f"<{type(value).__name__} object whose repr raised {type(e).__name__}>"
    if type(text) is not str:
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


_MISSING = object()
_DEPTH = 4          # structures nested deeper are shown by type name only (a long chain, a deep tree)
_depth = [0]


@reprlib.recursive_repr("...")
def struct_repr(obj: Any) -> str:
    """The repr of a condis structure: its type and fields, each field shown with :func:`safe_repr`,
    a deleted field as ``<missing>``; a structure met again inside itself is shown as ``...``."""
    name = type(obj).__name__
    if _depth[0] >= _DEPTH:
        return f"{name}(...)"
    _depth[0] += 1
    try:
        parts = []
        for field in type(obj).__slots__:
            value = getattr(obj, field, _MISSING)
            parts.append(f"{field}=<missing>" if value is _MISSING else f"{field}={safe_repr(value)}")
    finally:
        _depth[0] -= 1
    return f"{name}({', '.join(parts)})"
