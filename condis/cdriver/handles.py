"""What a C driver holds instead of Python objects: opaque handle values, and C copies of the
structures NDIS hands it.

Per host, one :class:`HostSide` keeps

- the handle table: every NDIS object a C driver is given (a VC handle, an AF handle, a bind
  context, ...) gets a value that is the same from run to run and never a valid user-space
  address, so it cannot be mistaken for one of the driver's own context pointers; a value that
  is in no table (stale, forged, another host's) is passed to NDIS as the number it is, and
  NDIS refuses it as a bad handle;
- the structures that cross the boundary in both directions and keep their identity while they
  do: CO_CALL_PARAMETERS (IN OUT: what a call manager writes is what the client sees), NDIS
  OID requests, NET_BUFFER_LISTs, spin locks.
"""

from __future__ import annotations

from typing import Any

from condis.cdriver._ffi import address, ffi
from condis.structs import (
    CO_CALL_MANAGER_PARAMETERS,
    CO_CALL_PARAMETERS,
    CO_MEDIA_PARAMETERS,
    CO_SPECIFIC_PARAMETERS,
    FLOWSPEC,
    NDIS_OID_REQUEST,
    NET_BUFFER,
    NET_BUFFER_LIST,
)

# Kernel-half addresses: no user-space pointer a driver passes as a context can equal one.
_HANDLE_BASE = 0xFFFF_A000_0000_0000
_MAX_BYTES = 1 << 20          # the most a length field may claim before it is taken as garbage
_MAX_CHAIN = 1 << 16          # the longest NET_BUFFER_LIST / MDL chain walked
_FLOWSPEC = ("TokenRate", "TokenBucketSize", "PeakBandwidth", "Latency", "DelayVariation", "ServiceType",
             "MaxSduSize", "MinimumPolicedSize")
_OID_COMMON = ("RequestType", "PortNumber", "Timeout")


class CPointer(int):
    """A pointer a C driver gave NDIS (one of its contexts, or a value that is no handle):
    an int, shown in hex as C shows pointers."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self):#x}"

    __str__ = __repr__


class BadPointer(Exception):
    """A pointer or length from C that condis will not follow (a chain that loops, a length past
    any sane buffer); the bridge turns it into a Violation of the DDI that was called."""


class HostSide:
    """One host's tables (see the module docstring)."""

    def __init__(self, ordinal: int) -> None:
        self.base = _HANDLE_BASE + (ordinal << 36)
        self.by_value: dict[int, Any] = {}
        self.by_id: dict[int, int] = {}
        self.params_c2py: dict[int, tuple[Any, Any]] = {}   # C address -> (Python object, C memory)
        self.params_py2c: dict[int, int] = {}
        self.oid_c2py: dict[int, tuple[Any, Any]] = {}
        self.oid_py2c: dict[int, int] = {}
        self.nbl_c2py: dict[int, NET_BUFFER_LIST] = {}
        self.nbl_py2c: dict[int, int] = {}
        self.nbl_memory: dict[int, tuple[Any, ...]] = {}     # bridge-owned C NET_BUFFER_LISTs
        self.locks: dict[int, Any] = {}
        self.keep: dict[int, Any] = {}                       # C memory the bridge made for a driver
        self.work_items: dict[int, Any] = {}                 # a driver's IO_WORKITEM storage -> its item
        self.work_item_addresses: dict[int, int] = {}

    # ------------------------------------------------------------------ handles

    def to_c(self, obj: Any) -> Any:
        """The C value for ``obj``: NULL for None, the pointer a C driver gave for an int, else the
        object's handle value (made on first use)."""
        if obj is None:
            return ffi().NULL
        if isinstance(obj, int):
            return ffi().cast("void *", obj & 0xFFFF_FFFF_FFFF_FFFF)
        value = self.by_id.get(id(obj))
        if value is None:
            value = self.base + (len(self.by_value) + 1) * 0x10
            self.by_value[value] = obj
            self.by_id[id(obj)] = value
        return ffi().cast("void *", value)

    def from_c(self, ptr: Any) -> Any:
        """The Python value of a handle or context from C: None for NULL, the NDIS object of a
        handle value, else the pointer as an int (a driver's context, or a forged handle)."""
        value = address(ptr)
        if value == 0:
            return None
        obj = self.by_value.get(value)
        return CPointer(value) if obj is None else obj

    # ------------------------------------------------------------------ CO_CALL_PARAMETERS

    def params_to_c(self, params: Any) -> Any:
        """The C CO_CALL_PARAMETERS for a Python one: the same C structure it came from (updated
        with what Python changed), or a new one."""
        if params is None:
            return ffi().NULL
        addr = self.params_py2c.get(id(params))
        if addr is not None:
            old = self.params_c2py[addr][1]
            if _fits(old, params):
                _write_params(old, params)
                return old
        mem, keep = _new_params(params)
        addr = address(mem)
        self.keep[addr] = keep          # the parts' memory lives as long as the host's tables
        self.params_c2py[addr] = (params, mem)
        self.params_py2c[id(params)] = addr
        return mem

    def params_from_c(self, ptr: Any) -> Any:
        """The Python CO_CALL_PARAMETERS for a C one: the object it stands for, brought up to date
        with what the C driver wrote, or a new one."""
        addr = address(ptr)
        if addr == 0:
            return None
        known = self.params_c2py.get(addr)
        if known is not None:
            _read_params(ptr, known[0])
            return known[0]
        params = CO_CALL_PARAMETERS()
        _read_params(ptr, params)
        self.params_c2py[addr] = (params, ptr)
        self.params_py2c[id(params)] = addr
        return params

    def sync_params(self, params: Any) -> None:
        """After a C handler returned: what it wrote into a CO_CALL_PARAMETERS NDIS gave it."""
        addr = self.params_py2c.get(id(params))
        if addr is not None:
            _read_params(self.params_c2py[addr][1], params)

    # ------------------------------------------------------------------ OID requests

    def oid_to_c(self, req: Any) -> Any:
        addr = self.oid_py2c.get(id(req))
        if addr is not None:
            mem = self.oid_c2py[addr][1]
        else:
            mem = ffi().new("NDIS_OID_REQUEST *")
            addr = address(mem)
            self.oid_c2py[addr] = (req, mem)
            self.oid_py2c[id(req)] = addr
        _write_oid(self, mem, req)
        return mem

    def oid_from_c(self, ptr: Any) -> Any:
        addr = address(ptr)
        if addr == 0:
            return None
        known = self.oid_c2py.get(addr)
        req = known[0] if known is not None else NDIS_OID_REQUEST()
        if known is None:
            self.oid_c2py[addr] = (req, ptr)
            self.oid_py2c[id(req)] = addr
        _read_oid(self, ptr, req)
        return req

    def sync_oid(self, req: Any) -> None:
        addr = self.oid_py2c.get(id(req))
        if addr is not None:
            _read_oid(self, self.oid_c2py[addr][1], req)

    # ------------------------------------------------------------------ NET_BUFFER_LISTs

    def nbl_from_c(self, ptr: Any) -> Any:
        """The Python NET_BUFFER_LIST chain for a C one, brought up to date from C (links, status,
        source handle and the data its MDLs describe). A C NET_BUFFER_LIST NDIS never allocated
        becomes one with no pool, which NDIS refuses."""
        f = ffi()
        first = None
        prev = None
        seen: set[int] = set()
        while ptr != f.NULL:
            addr = address(ptr)
            if addr in seen or len(seen) >= _MAX_CHAIN:
                raise BadPointer("the NET_BUFFER_LIST chain loops back on itself")
            seen.add(addr)
            nbl = self.nbl_c2py.get(addr)
            if nbl is None:
                nbl = NET_BUFFER_LIST()
            nbl.SourceHandle = self.from_c(ptr.SourceHandle)
            nbl.Status = ptr.Status
            nbl.Flags = ptr.Flags
            _read_nb(ptr.FirstNetBuffer, nbl)
            if prev is None:
                first = nbl
            else:
                prev.Next = nbl
            prev = nbl
            ptr = ptr.Next
        if prev is not None:
            prev.Next = None
        return first

    def nbl_to_c(self, nbl: Any) -> Any:
        """The C NET_BUFFER_LIST chain for a Python one: the C lists a C driver allocated, and for
        those a Python driver allocated, C copies that live until they go back to that driver."""
        f = ffi()
        first = f.NULL
        prev = None
        count = 0
        while nbl is not None:
            count += 1
            if count > _MAX_CHAIN:
                raise BadPointer("the NET_BUFFER_LIST chain loops back on itself")
            addr = self.nbl_py2c.get(id(nbl))
            if addr is None:
                mem = self._shadow(nbl)
            else:
                mem = f.cast("NET_BUFFER_LIST *", addr)
            mem.SourceHandle = self.to_c(nbl.SourceHandle)
            mem.Status = nbl.Status if type(nbl.Status) is int else 0
            if prev is None:
                first = mem
            else:
                prev.Next = mem
            prev = mem
            nbl = nbl.Next
        if prev is not None:
            prev.Next = f.NULL
        return first

    def adopt_nbl(self, nbl: Any, mem: Any, keep: tuple[Any, ...]) -> None:
        """Pair a NET_BUFFER_LIST NDIS allocated for a C driver with the C structure it gets."""
        addr = address(mem)
        self.nbl_c2py[addr] = nbl
        self.nbl_py2c[id(nbl)] = addr
        self.nbl_memory[addr] = keep

    def forget_nbl(self, nbl: Any) -> None:
        addr = self.nbl_py2c.pop(id(nbl), None)
        if addr is not None:
            self.nbl_c2py.pop(addr, None)
            self.nbl_memory.pop(addr, None)

    def forget_shadows(self, first: Any) -> None:
        """A chain of Python-allocated NET_BUFFER_LISTs went back to its owner: drop their C copies."""
        nbl = first
        count = 0
        while nbl is not None and count < _MAX_CHAIN:
            count += 1
            addr = self.nbl_py2c.get(id(nbl))
            if addr is not None and self.nbl_memory.get(addr, (None,))[0] == "shadow":
                self.forget_nbl(nbl)
            nbl = nbl.Next

    def forget_shadows_of(self, ptr: Any) -> None:
        """:meth:`forget_shadows` for a chain given as C pointers (the lists NDIS just handed back)."""
        f = ffi()
        count = 0
        while ptr != f.NULL and count < _MAX_CHAIN:
            count += 1
            addr = address(ptr)
            nbl = self.nbl_c2py.get(addr)
            if nbl is not None and self.nbl_memory.get(addr, (None,))[0] == "shadow":
                self.forget_nbl(nbl)
            ptr = ptr.Next

    def _shadow(self, nbl: Any) -> Any:
        f = ffi()
        mem = f.new("NET_BUFFER_LIST *")
        keep: list[Any] = ["shadow", mem]
        nb_py = nbl.FirstNetBuffer
        prev_nb = None
        while nb_py is not None:
            nb = f.new("NET_BUFFER *")
            data = bytes(nb_py.Data) if isinstance(nb_py.Data, (bytes, bytearray)) else b""
            buf = f.new("UCHAR[]", max(len(data), 1))
            f.memmove(buf, data, len(data))
            mdl = f.new("MDL *")
            mdl.MappedSystemVa = mdl.StartVa = buf
            mdl.ByteCount = len(data)
            nb.MdlChain = nb.CurrentMdl = mdl
            nb.DataOffset = nb.CurrentMdlOffset = nb_py.DataOffset
            nb.DataLength = nb_py.DataLength
            keep += [nb, buf, mdl]
            if prev_nb is None:
                mem.FirstNetBuffer = nb
            else:
                prev_nb.Next = nb
            prev_nb = nb
            nb_py = nb_py.Next
        self.adopt_nbl(nbl, mem, tuple(keep))
        return mem


# ---------------------------------------------------------------------- structure copies

def read_bytes(ptr: Any, length: int) -> bytes:
    if length < 0 or length > _MAX_BYTES:
        raise BadPointer(f"a length of {length} bytes is past any buffer a driver could have")
    if length == 0 or ptr == ffi().NULL:
        return b""
    return bytes(ffi().buffer(ptr, length))


def mdl_bytes(mdl: Any, upto: int) -> bytes:
    """The bytes of an MDL chain, up to ``upto`` of them."""
    f = ffi()
    parts = []
    got = 0
    count = 0
    while mdl != f.NULL and got < upto:
        count += 1
        if count > _MAX_CHAIN:
            raise BadPointer("the MDL chain loops back on itself")
        take = min(mdl.ByteCount, upto - got)
        parts.append(read_bytes(mdl.MappedSystemVa, take))
        got += take
        mdl = mdl.Next
    return b"".join(parts)


def _read_nb(nb: Any, nbl: Any) -> None:
    f = ffi()
    first = None
    prev = None
    count = 0
    while nb != f.NULL:
        count += 1
        if count > _MAX_CHAIN:
            raise BadPointer("the NET_BUFFER chain loops back on itself")
        offset, length = nb.DataOffset, nb.DataLength
        py = NET_BUFFER(Data=mdl_bytes(nb.MdlChain, offset + length), DataOffset=offset, DataLength=length)
        if prev is None:
            first = py
        else:
            prev.Next = py
        prev = py
        nb = nb.Next
    nbl.FirstNetBuffer = first


def _specific_size(sp: Any) -> int:
    data = sp.Parameters if sp is not None else b""
    return len(data) if isinstance(data, (bytes, bytearray)) else 0


def _fits(mem: Any, params: Any) -> bool:
    """Whether a C CO_CALL_PARAMETERS can take ``params`` without growing (same sub-structures,
    media- and call-manager-specific parameters no longer than they were)."""
    f = ffi()
    cm, media = params.CallMgrParameters, params.MediaParameters
    if (cm is None) != (mem.CallMgrParameters == f.NULL) or (media is None) != (mem.MediaParameters == f.NULL):
        return False
    if cm is not None and _specific_size(cm.CallMgrSpecific) > mem.CallMgrParameters.CallMgrSpecific.Length:
        return False
    return not (media is not None and _specific_size(media.MediaSpecific) > mem.MediaParameters.MediaSpecific.Length)


def _new_params(params: Any) -> tuple[Any, list[Any]]:
    """A C CO_CALL_PARAMETERS laid out as a driver would: each part with its variable-length
    specific parameters after it; and the C memory of its parts, to keep alive with it."""
    f = ffi()
    mem = f.new("CO_CALL_PARAMETERS *")
    keep = [mem]
    cm, media = params.CallMgrParameters, params.MediaParameters
    if cm is not None:
        size = f.sizeof("CO_CALL_MANAGER_PARAMETERS") + _specific_size(cm.CallMgrSpecific)
        raw = f.new("UCHAR[]", size)
        keep.append(raw)
        mem.CallMgrParameters = f.cast("CO_CALL_MANAGER_PARAMETERS *", raw)
    if media is not None:
        size = f.sizeof("CO_MEDIA_PARAMETERS") + _specific_size(media.MediaSpecific)
        raw = f.new("UCHAR[]", size)
        keep.append(raw)
        mem.MediaParameters = f.cast("CO_MEDIA_PARAMETERS *", raw)
    _write_params(mem, params)
    return mem, keep


def _write_specific(c: Any, py: Any) -> None:
    data = py.Parameters if isinstance(py.Parameters, (bytes, bytearray)) else b""
    c.ParamType = py.ParamType
    c.Length = len(data)
    ffi().memmove(c.Parameters, data, len(data))


def _write_params(mem: Any, params: Any) -> None:
    mem.Flags = params.Flags
    cm, media = params.CallMgrParameters, params.MediaParameters
    if cm is not None:
        c = mem.CallMgrParameters
        for side in ("Transmit", "Receive"):
            spec, cspec = getattr(cm, side), getattr(c, side)
            for name in _FLOWSPEC:
                setattr(cspec, name, getattr(spec, name))
        _write_specific(c.CallMgrSpecific, cm.CallMgrSpecific)
    if media is not None:
        c = mem.MediaParameters
        c.Flags, c.ReceivePriority, c.ReceiveSizeHint = media.Flags, media.ReceivePriority, media.ReceiveSizeHint
        _write_specific(c.MediaSpecific, media.MediaSpecific)


def _read_specific(c: Any) -> CO_SPECIFIC_PARAMETERS:
    return CO_SPECIFIC_PARAMETERS(ParamType=c.ParamType, Length=c.Length, Parameters=read_bytes(c.Parameters, c.Length))


def _read_params(mem: Any, params: Any) -> None:
    """Bring a Python CO_CALL_PARAMETERS up to date with its C structure, in place."""
    f = ffi()
    params.Flags = mem.Flags
    c = mem.CallMgrParameters
    if c == f.NULL:
        params.CallMgrParameters = None
    else:
        cm = params.CallMgrParameters
        if not isinstance(cm, CO_CALL_MANAGER_PARAMETERS):
            cm = params.CallMgrParameters = CO_CALL_MANAGER_PARAMETERS()
        for side in ("Transmit", "Receive"):
            spec, cspec = getattr(cm, side), getattr(c, side)
            if not isinstance(spec, FLOWSPEC):
                spec = FLOWSPEC()
                setattr(cm, side, spec)
            for name in _FLOWSPEC:
                setattr(spec, name, getattr(cspec, name))
        cm.CallMgrSpecific = _read_specific(c.CallMgrSpecific)
    c = mem.MediaParameters
    if c == f.NULL:
        params.MediaParameters = None
    else:
        media = params.MediaParameters
        if not isinstance(media, CO_MEDIA_PARAMETERS):
            media = params.MediaParameters = CO_MEDIA_PARAMETERS()
        media.Flags, media.ReceivePriority, media.ReceiveSizeHint = c.Flags, c.ReceivePriority, c.ReceiveSizeHint
        media.MediaSpecific = _read_specific(c.MediaSpecific)


def _info_bytes(value: Any) -> bytes:
    """An OID's information buffer as bytes: bytes as they are; the tuples of ULONGs the Python
    samples answer with (NDIS_CO_LINK_SPEED is two ULONGs) packed as C lays them out."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, tuple) and all(type(v) is int for v in value):
        return b"".join((v & 0xFFFFFFFF).to_bytes(4, "little") for v in value)
    if type(value) is int:
        return (value & 0xFFFFFFFF).to_bytes(4, "little")
    return b""


def _write_oid(side: HostSide, mem: Any, req: Any) -> None:
    f = ffi()
    mem.Header.Type, mem.Header.Revision, mem.Header.Size = 0x96, 1, f.sizeof("NDIS_OID_REQUEST")
    for name in _OID_COMMON:
        setattr(mem, name, getattr(req, name) or 0)
    mem.RequestId = side.to_c(req.RequestId)
    mem.RequestHandle = side.to_c(req.RequestHandle)
    q = mem.DATA.QUERY_INFORMATION
    q.Oid = req.Oid
    data = _info_bytes(req.InformationBuffer)
    length = max(req.InformationBufferLength or 0, len(data))
    if q.InformationBuffer == f.NULL or q.InformationBufferLength < length:
        buf = f.new("UCHAR[]", max(length, 1))
        side.keep[address(mem)] = buf
        q.InformationBuffer = buf
    f.memmove(q.InformationBuffer, data, len(data))
    q.InformationBufferLength = length
    q.BytesWritten = req.BytesWritten
    q.BytesNeeded = req.BytesNeeded
    if req.RequestType == 1:
        mem.DATA.SET_INFORMATION.BytesRead = req.BytesRead


def _read_oid(side: HostSide, mem: Any, req: Any) -> None:
    for name in _OID_COMMON:
        setattr(req, name, getattr(mem, name))
    req.RequestId = side.from_c(mem.RequestId)
    req.RequestHandle = side.from_c(mem.RequestHandle)
    q = mem.DATA.QUERY_INFORMATION
    req.Oid = q.Oid
    req.InformationBufferLength = q.InformationBufferLength
    req.InformationBuffer = read_bytes(q.InformationBuffer, q.InformationBufferLength)
    req.BytesWritten = q.BytesWritten
    req.BytesNeeded = q.BytesNeeded
    if mem.RequestType == 1:
        req.BytesRead = mem.DATA.SET_INFORMATION.BytesRead
