"""Structural checks of what drivers hand NDIS, made once at DDI entry.

A structure a driver passes is a Python object it built, so anything can be wrong with it: a field
deleted, a field of the wrong type, a structure that contains itself, a chain of NET_BUFFER_LISTs
that loops. NDIS reads these structures after its checks, so each check here walks the whole
structure first and names the first field that is wrong; the DDI then refuses the call with
``condis.BadParameter`` before anything changes. Each function returns ``None`` when the value is
well formed and otherwise what is wrong with it, as text for the refusal's message.

The expected shape of every structure is its declaration in :mod:`condis.structs`: the field
annotations, read once per type.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from typing import Any

from condis import structs
from condis._safe_repr import safe_repr

_MISSING = object()
_ANY = object()     # a field of any value: a driver's context, a handle, a buffer, a handler


@functools.cache
def _shape(struct_type: type) -> tuple[tuple[str, Any, type | None], ...]:
    """For each field of a structure type: its name, the types it accepts (or ``_ANY``), and the
    structure type it nests, if any. Read from the declaration in condis/structs.py."""
    hints = typing.get_type_hints(struct_type, vars(structs))
    out = []
    for name in struct_type.__slots__:
        accepted, nested = _accepted(hints.get(name, Any))
        out.append((name, accepted, nested))
    return tuple(out)


def _accepted(hint: Any) -> tuple[Any, type | None]:
    if hint is Any:
        return _ANY, None
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union \
        else (hint,)
    accepted: list[type] = []
    nested = None
    for option in options:
        origin = typing.get_origin(option) or option
        if origin is Callable:
            return _ANY, None    # handlers: callable() is checked where NDIS calls them
        if origin is type(None):
            accepted.append(type(None))
        elif isinstance(origin, type):
            accepted.append(origin)
            if hasattr(origin, "__dataclass_fields__"):
                nested = origin
        else:
            return _ANY, None
    if bytes in accepted:
        accepted.extend((bytearray, memoryview))
    return tuple(accepted), nested


def structure_fault(value: Any, expected: type, param: str) -> str | None:
    """What is wrong with ``value`` as the structure ``expected`` passed as ``param``, if anything.

    Every field must be present and of its declared type, and every nested structure likewise. A
    field of the structure's own type is a chain link (NET_BUFFER.Next), walked by whoever walks the
    chain (:func:`nbl_chain_fault`), not here; any other structure that contains itself fails a
    type check, as no declared shape nests a type inside itself otherwise.
    """
    if _usual(value, expected):
        return None
    return _fault(value, expected, param, 0)


@functools.cache
def _usual_check(struct_type: type) -> Callable[[Any], bool]:
    """A function that tells whether a value is ``struct_type`` with every field, nested structures'
    too, of its first declared type or None where None is allowed: the common case, checked without
    building any message. It is generated from the structure's shape as straight-line code (one
    attribute read and one type test per field), the cheapest check Python offers; anything it
    does not accept takes :func:`_fault`'s walk, which also accepts the other declared types (a
    bool for an int, a bytearray for bytes) and says what is wrong."""
    shape = _shape(struct_type)
    env: dict[str, Any] = {"T": struct_type}
    lines = ["def check(v):", "    if type(v) is not T:", "        return False", "    try:"]
    lines += [f"        x{i} = v.{name}" for i, (name, _, _) in enumerate(shape)]
    lines += ["    except Exception:", "        return False"]
    for i, (_, accepted, nested) in enumerate(shape):
        if accepted is _ANY:
            continue
        env[f"U{i}"] = accepted[0]
        test = f"type(x{i}) is not U{i}"
        if type(None) in accepted:
            test += f" and x{i} is not None"
        lines += [f"    if {test}:", "        return False"]
        if nested is not None and nested is not struct_type:
            env[f"C{i}"] = _usual_check(nested)
            lines += [f"    if x{i} is not None and not C{i}(x{i}):", "        return False"]
    lines.append("    return True")
    exec("\n".join(lines), env)     # the code comes from condis's own declarations, never from a driver
    return env["check"]


def _usual(value: Any, expected: type) -> bool:
    """See :func:`_usual_check`."""
    return _usual_check(expected)(value)


def _fault(value: Any, expected: type, path: str, depth: int) -> str | None:
    if not isinstance(value, expected):
        return f"{path} must be {expected.__name__}, got {type(value).__name__} {safe_repr(value)}"
    if depth > 8:
        return f"{path} nests structures deeper than {expected.__name__} can"
    for name, accepted, nested in _shape(expected):
        try:
            field = getattr(value, name)
        except AttributeError:
            return f"{path}.{name} is missing"
        except Exception as e:  # a property of a look-alike subclass that raises
            return f"{path}.{name} cannot be read ({type(e).__name__})"
        if accepted is _ANY:
            continue
        if not isinstance(field, accepted):
            names = " or ".join("None" if t is type(None) else t.__name__ for t in accepted)
            return f"{path}.{name} must be {names}, got {type(field).__name__} {safe_repr(field)}"
        if nested is not None and nested is not expected and field is not None:
            fault = _fault(field, nested, f"{path}.{name}", depth + 1)
            if fault is not None:
                return fault
    return None


def call_parameters_fault(params: Any, param: str = "CallParameters") -> str | None:
    """CO_CALL_PARAMETERS, with its CO_CALL_MANAGER_PARAMETERS, FLOWSPECs, CO_MEDIA_PARAMETERS and
    CO_SPECIFIC_PARAMETERS, every field present and of its type."""
    return structure_fault(params, structs.CO_CALL_PARAMETERS, param)


def address_family_fault(family: Any, param: str = "AddressFamily") -> str | None:
    return structure_fault(family, structs.CO_ADDRESS_FAMILY, param)


def sap_fault(sap: Any, param: str = "Sap") -> str | None:
    return structure_fault(sap, structs.CO_SAP, param)


def oid_request_fault(request: Any, param: str = "OidRequest") -> str | None:
    return structure_fault(request, structs.NDIS_OID_REQUEST, param)


def timer_characteristics_fault(chars: Any, param: str = "TimerCharacteristics") -> str | None:
    fault = structure_fault(chars, structs.NDIS_TIMER_CHARACTERISTICS, param)
    if fault is None and not callable(chars.TimerFunction):
        return f"{param}.TimerFunction must be callable, got {safe_repr(chars.TimerFunction)}"
    return fault


def nbl_chain_fault(first: Any, param: str = "NetBufferLists") -> str | None:
    """A NULL-terminated chain of NET_BUFFER_LISTs linked by ``Next``: no loop, no other type, the
    fields NDIS reads (Next, SourceHandle, Pool, Freed) present, Freed a bool, and the NET_BUFFERs
    of each well formed."""
    seen: set[int] = set()
    nbl, n = first, 0
    while nbl is not None:
        where = param if n == 0 else f"{param} (NET_BUFFER_LIST {n} of the chain)"
        if type(nbl) is not structs.NET_BUFFER_LIST:
            return f"{where} must be a NET_BUFFER_LIST, got {type(nbl).__name__} {safe_repr(nbl)}"
        if id(nbl) in seen:
            return f"{param}: the Next chain comes back to a NET_BUFFER_LIST after {n} lists; a chain ends with NULL"
        seen.add(id(nbl))
        for name in ("Next", "SourceHandle", "Pool", "Freed", "FirstNetBuffer"):
            if getattr(nbl, name, _MISSING) is _MISSING:
                return f"{where}.{name} is missing"
        if type(nbl.Freed) is not bool:
            return f"{where}.Freed must be a bool, got {safe_repr(nbl.Freed)}"
        fault = _net_buffers_fault(nbl.FirstNetBuffer, f"{where}.FirstNetBuffer")
        if fault is not None:
            return fault
        nbl, n = nbl.Next, n + 1
    return None


def _net_buffers_fault(first: Any, where: str) -> str | None:
    """The NET_BUFFERs of a list, which the driver NDIS hands the list to reads: NULL-terminated,
    each NET_BUFFER with its data as bytes and its offset and length as ints."""
    seen: set[int] = set()
    nb = first
    while nb is not None:
        if id(nb) in seen:
            return f"{where}: the NET_BUFFER chain loops; it ends with NULL"
        seen.add(id(nb))
        if not _usual(nb, structs.NET_BUFFER):
            fault = structure_fault(nb, structs.NET_BUFFER, where)
            if fault is not None:
                return fault
        nb, where = nb.Next, f"{where}.Next"
    return None


def int_fault(value: Any, param: str, minimum: int | None = None) -> str | None:
    """An int (not a bool), at least ``minimum`` if given."""
    if type(value) is not int:
        return f"{param} must be an int, got {type(value).__name__} {safe_repr(value)}"
    if minimum is not None and value < minimum:
        return f"{param} must be at least {minimum}, got {value}"
    return None
