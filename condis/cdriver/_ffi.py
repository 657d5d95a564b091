"""The one cffi FFI of the C bridge: condis's C declarations as the bridge sees them.

The declarations are read from condis's own ndis.h, run through the C preprocessor, so the
structures the bridge reads and writes have exactly the layout gcc gives them in a driver
(tests/c/test_layout.py compares every structure's size and field offsets with gcc's).
"""

from __future__ import annotations

import functools
import re
import subprocess

import cffi

from condis.cdriver.build import INCLUDE, RUNTIME, BuildError, compiler

_HOOKS = """
void condis_attach(const struct condis_ops *ops);
PVOID condis_last_caller(void);
int condis_snapshot(void);
void condis_restore(void);
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);
typedef struct { const char *dli_fname; void *dli_fbase; const char *dli_sname; void *dli_saddr; } Dl_info;
int dladdr(const void *addr, Dl_info *info);
void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void free(void *ptr);
"""


@functools.cache
def declarations() -> str:
    """ndis.h and the runtime's table, preprocessed into plain C declarations for cffi (once)."""
    source = '#include "ndis.h"\n#include "ops.h"\n'
    proc = subprocess.run([compiler(), "-E", "-P", "-DCONDIS_CDEF", f"-I{INCLUDE}", f"-I{RUNTIME[0].parent}",
                           "-x", "c", "-"], input=source, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(["gcc", "-E"], proc.stderr)
    text = proc.stdout
    text = text[text.index("typedef void VOID"):]        # what stddef.h / stdint.h brought is cffi's own
    return re.sub(r"sizeof\s*\(\s*PVOID\s*\)", str(cffi.FFI().sizeof("void *")), text)


@functools.cache
def ffi() -> cffi.FFI:
    f = cffi.FFI()
    f.cdef(declarations(), override=True)
    f.cdef(_HOOKS, override=True)
    return f


def new_with_header(cname: str, object_type: int) -> object:
    """A zeroed C structure ``cname`` that NDIS hands a driver, its NDIS_OBJECT_HEADER filled in:
    ``object_type``, revision 1, the structure's size."""
    f = ffi()
    mem = f.new(f"{cname} *")
    mem.Header.Type, mem.Header.Revision, mem.Header.Size = object_type, 1, f.sizeof(cname)
    return mem


def address(ptr: object) -> int:
    """A C pointer's address, as an int (0 for NULL)."""
    return int(_CAST[0](_CAST[1], ptr))


_CAST: list = [lambda t, p: _init_cast(p), None]


def _init_cast(ptr: object) -> object:
    f = ffi()
    _CAST[0], _CAST[1] = f.cast, f.typeof("uintptr_t")
    return f.cast(_CAST[1], ptr)


@functools.cache
def libc() -> object:
    return ffi().dlopen(None)


# Every C type the bridge names by string. cffi parses a type string the first time it sees it, and
# with condis's few hundred typedefs a parse costs tens of milliseconds: :func:`parse_all` does
# them all once (tests/c/test_bridge_types.py checks this list against the bridge's sources).
TYPE_NAMES = (
    "CO_ADDRESS_FAMILY *", "CO_CALL_MANAGER_PARAMETERS", "CO_CALL_MANAGER_PARAMETERS *", "CO_CALL_PARAMETERS *",
    "CO_MEDIA_PARAMETERS", "CO_MEDIA_PARAMETERS *", "CO_SAP", "CO_SAP *", "DRIVER_OBJECT *", "Dl_info *", "MDL *",
    "NDIS_BIND_PARAMETERS", "NDIS_BIND_PARAMETERS *", "NDIS_CONFIGURATION_PARAMETER *", "NDIS_HANDLE *",
    "NDIS_MINIPORT_INIT_PARAMETERS", "NDIS_MINIPORT_INIT_PARAMETERS *", "NDIS_OBJECT_HEADER *", "NDIS_OID_REQUEST",
    "NDIS_OID_REQUEST *", "NDIS_STATUS_INDICATION", "NDIS_STATUS_INDICATION *", "NDIS_STRING *", "NET_BUFFER *",
    "NET_BUFFER_LIST *", "NET_BUFFER_LIST_CONTEXT", "NET_BUFFER_LIST_CONTEXT *", "NET_PNP_EVENT_NOTIFICATION",
    "NET_PNP_EVENT_NOTIFICATION *", "PCONDIS_WIRE_RECEIVE", "PIO_WORKITEM", "PNDIS_RESOURCE_LIST", "PUCHAR", "PVOID", "UCHAR[]",
    "UNICODE_STRING *", "VAR_STRING", "WCHAR[]", "struct condis_ops *", "uintptr_t", "void *",
)


def parse_all() -> None:
    """Parse every type the bridge uses (see TYPE_NAMES), and each callback's pointer type."""
    from condis.cdriver._signatures import CALLBACKS
    f = ffi()
    for name in TYPE_NAMES:
        f.typeof(name)
    for name in CALLBACKS:
        f.typeof(f"{name} *")
