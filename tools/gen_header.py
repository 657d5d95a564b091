"""Generate the parts of condis's C headers that come straight from the reference pack's facts.

    python3 tools/gen_header.py [--check] [REFERENCE_DIR]

From facts/prototypes.tsv (the declaration of every DDI, callback and structure, as the pages give
them) and facts/ndis-status.tsv it writes, under condis/cdriver/:

- include/condis/status.h    every NDIS_STATUS_* value;
- include/condis/handlers.h  one function type per driver callback, under its documented name
                             (PROTOCOL_CM_CLOSE_CALL), and the pointer type the characteristics
                             structures use for it (CM_CLOSE_CALL_HANDLER);
- include/condis/structs.h   the NDIS 6 characteristics, attribute, parameter and request structures;
- include/condis/ddi.h       the prototype of every NDIS function condis provides;
- runtime/exports.c          the body of each of those functions in a driver image: a call through
                             the table the C bridge installs when it loads the image;
- runtime/ops.h              that table;
- _signatures.py             the same signatures as Python data, for the bridge's marshalling.

The rest of the headers (base types, object headers, NET_BUFFER_LIST, list and memory helpers) is
written by hand in include/condis/. ``--check`` fails when a generated file is out of step.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "condis" / "cdriver"

# The pointer types the characteristics structures declare for each callback (the names ndis.h
# gives them), and the callback each one points to. Callbacks that are not part of the pack's
# CoNDIS surface (the NDIS 6 miniport and protocol entry points a CoNDIS driver may leave NULL)
# get their prototypes from EXTRA_CALLBACKS below, written from their public documentation.
HANDLER_TYPES = {
    "SET_OPTIONS_HANDLER": "SET_OPTIONS",
    "MINIPORT_INITIALIZE_HANDLER": "MINIPORT_INITIALIZE",
    "MINIPORT_HALT_HANDLER": "MINIPORT_HALT",
    "MINIPORT_DRIVER_UNLOAD": "MINIPORT_UNLOAD",
    "MINIPORT_PAUSE_HANDLER": "MINIPORT_PAUSE",
    "MINIPORT_RESTART_HANDLER": "MINIPORT_RESTART",
    "MINIPORT_OID_REQUEST_HANDLER": "MINIPORT_OID_REQUEST",
    "MINIPORT_SEND_NET_BUFFER_LISTS_HANDLER": "MINIPORT_SEND_NET_BUFFER_LISTS",
    "MINIPORT_RETURN_NET_BUFFER_LISTS_HANDLER": "MINIPORT_RETURN_NET_BUFFER_LISTS",
    "MINIPORT_CANCEL_SEND_HANDLER": "MINIPORT_CANCEL_SEND",
    "MINIPORT_CHECK_FOR_HANG_HANDLER": "MINIPORT_CHECK_FOR_HANG",
    "MINIPORT_RESET_HANDLER": "MINIPORT_RESET",
    "MINIPORT_DEVICE_PNP_EVENT_NOTIFY_HANDLER": "MINIPORT_DEVICE_PNP_EVENT_NOTIFY",
    "MINIPORT_SHUTDOWN_HANDLER": "MINIPORT_SHUTDOWN",
    "MINIPORT_CANCEL_OID_REQUEST_HANDLER": "MINIPORT_CANCEL_OID_REQUEST",
    "MINIPORT_DIRECT_OID_REQUEST_HANDLER": "MINIPORT_DIRECT_OID_REQUEST",
    "MINIPORT_CANCEL_DIRECT_OID_REQUEST_HANDLER": "MINIPORT_CANCEL_DIRECT_OID_REQUEST",
    "MINIPORT_SYNCHRONOUS_OID_REQUEST_HANDLER": "MINIPORT_SYNCHRONOUS_OID_REQUEST",
    "W_CO_CREATE_VC_HANDLER": "MINIPORT_CO_CREATE_VC",
    "W_CO_DELETE_VC_HANDLER": "MINIPORT_CO_DELETE_VC",
    "W_CO_ACTIVATE_VC_HANDLER": "MINIPORT_CO_ACTIVATE_VC",
    "W_CO_DEACTIVATE_VC_HANDLER": "MINIPORT_CO_DEACTIVATE_VC",
    "W_CO_SEND_NET_BUFFER_LISTS_HANDLER": "MINIPORT_CO_SEND_NET_BUFFER_LISTS",
    "W_CO_OID_REQUEST_HANDLER": "MINIPORT_CO_OID_REQUEST",
    "BIND_HANDLER_EX": "PROTOCOL_BIND_ADAPTER_EX",
    "UNBIND_HANDLER_EX": "PROTOCOL_UNBIND_ADAPTER_EX",
    "OPEN_ADAPTER_COMPLETE_HANDLER_EX": "PROTOCOL_OPEN_ADAPTER_COMPLETE_EX",
    "CLOSE_ADAPTER_COMPLETE_HANDLER_EX": "PROTOCOL_CLOSE_ADAPTER_COMPLETE_EX",
    "NET_PNP_EVENT_HANDLER": "PROTOCOL_NET_PNP_EVENT",
    "UNINSTALL_PROTOCOL_HANDLER": "PROTOCOL_UNINSTALL",
    "OID_REQUEST_COMPLETE_HANDLER": "PROTOCOL_OID_REQUEST_COMPLETE",
    "STATUS_HANDLER_EX": "PROTOCOL_STATUS_EX",
    "RECEIVE_NET_BUFFER_LISTS_HANDLER": "PROTOCOL_RECEIVE_NET_BUFFER_LISTS",
    "SEND_NET_BUFFER_LISTS_COMPLETE_HANDLER": "PROTOCOL_SEND_NET_BUFFER_LISTS_COMPLETE",
    "DIRECT_OID_REQUEST_COMPLETE_HANDLER": "PROTOCOL_DIRECT_OID_REQUEST_COMPLETE",
    "CO_STATUS_HANDLER_EX": "PROTOCOL_CO_STATUS_EX",
    "CO_AF_REGISTER_NOTIFY_HANDLER": "PROTOCOL_CO_AF_REGISTER_NOTIFY",
    "CO_RECEIVE_NET_BUFFER_LISTS_HANDLER": "PROTOCOL_CO_RECEIVE_NET_BUFFER_LISTS",
    "CO_SEND_NET_BUFFER_LISTS_COMPLETE_HANDLER": "PROTOCOL_CO_SEND_NET_BUFFER_LISTS_COMPLETE",
    "CO_CREATE_VC_HANDLER": "PROTOCOL_CO_CREATE_VC",
    "CO_DELETE_VC_HANDLER": "PROTOCOL_CO_DELETE_VC",
    "CO_OID_REQUEST_HANDLER": "PROTOCOL_CO_OID_REQUEST",
    "CO_OID_REQUEST_COMPLETE_HANDLER": "PROTOCOL_CO_OID_REQUEST_COMPLETE",
    "CL_OPEN_AF_COMPLETE_HANDLER_EX": "PROTOCOL_CL_OPEN_AF_COMPLETE_EX",
    "CL_CLOSE_AF_COMPLETE_HANDLER": "PROTOCOL_CL_CLOSE_AF_COMPLETE",
    "CL_REG_SAP_COMPLETE_HANDLER": "PROTOCOL_CL_REGISTER_SAP_COMPLETE",
    "CL_DEREG_SAP_COMPLETE_HANDLER": "PROTOCOL_CL_DEREGISTER_SAP_COMPLETE",
    "CL_MAKE_CALL_COMPLETE_HANDLER": "PROTOCOL_CL_MAKE_CALL_COMPLETE",
    "CL_MODIFY_CALL_QOS_COMPLETE_HANDLER": "PROTOCOL_CL_MODIFY_CALL_QOS_COMPLETE",
    "CL_CLOSE_CALL_COMPLETE_HANDLER": "PROTOCOL_CL_CLOSE_CALL_COMPLETE",
    "CL_ADD_PARTY_COMPLETE_HANDLER": "PROTOCOL_CL_ADD_PARTY_COMPLETE",
    "CL_DROP_PARTY_COMPLETE_HANDLER": "PROTOCOL_CL_DROP_PARTY_COMPLETE",
    "CL_INCOMING_CALL_HANDLER": "PROTOCOL_CL_INCOMING_CALL",
    "CL_INCOMING_CALL_QOS_CHANGE_HANDLER": "PROTOCOL_CL_INCOMING_CALL_QOS_CHANGE",
    "CL_INCOMING_CLOSE_CALL_HANDLER": "PROTOCOL_CL_INCOMING_CLOSE_CALL",
    "CL_INCOMING_DROP_PARTY_HANDLER": "PROTOCOL_CL_INCOMING_DROP_PARTY",
    "CL_CALL_CONNECTED_HANDLER": "PROTOCOL_CL_CALL_CONNECTED",
    "CL_NOTIFY_CLOSE_AF_HANDLER": "PROTOCOL_CL_NOTIFY_CLOSE_AF",
    "CM_OPEN_AF_HANDLER": "PROTOCOL_CM_OPEN_AF",
    "CM_CLOSE_AF_HANDLER": "PROTOCOL_CM_CLOSE_AF",
    "CM_REG_SAP_HANDLER": "PROTOCOL_CM_REG_SAP",
    "CM_DEREG_SAP_HANDLER": "PROTOCOL_CM_DEREGISTER_SAP",
    "CM_MAKE_CALL_HANDLER": "PROTOCOL_CM_MAKE_CALL",
    "CM_CLOSE_CALL_HANDLER": "PROTOCOL_CM_CLOSE_CALL",
    "CM_INCOMING_CALL_COMPLETE_HANDLER": "PROTOCOL_CM_INCOMING_CALL_COMPLETE",
    "CM_ADD_PARTY_HANDLER": "PROTOCOL_CM_ADD_PARTY",
    "CM_DROP_PARTY_HANDLER": "PROTOCOL_CM_DROP_PARTY",
    "CM_ACTIVATE_VC_COMPLETE_HANDLER": "PROTOCOL_CM_ACTIVATE_VC_COMPLETE",
    "CM_DEACTIVATE_VC_COMPLETE_HANDLER": "PROTOCOL_CM_DEACTIVATE_VC_COMPLETE",
    "CM_MODIFY_CALL_QOS_HANDLER": "PROTOCOL_CM_MODIFY_QOS_CALL",
    "CM_NOTIFY_CLOSE_AF_COMPLETE_HANDLER": "PROTOCOL_CM_NOTIFY_CLOSE_AF_COMPLETE",
}

# Entry points outside the pack's CoNDIS surface, from their public reference pages
# (learn.microsoft.com, ndis.h): return type and parameters.
EXTRA_CALLBACKS = {
    "MINIPORT_OID_REQUEST": "NDIS_STATUS (NDIS_HANDLE MiniportAdapterContext, PNDIS_OID_REQUEST OidRequest)",
    "MINIPORT_SEND_NET_BUFFER_LISTS": "VOID (NDIS_HANDLE MiniportAdapterContext, PNET_BUFFER_LIST NetBufferList, "
                                      "NDIS_PORT_NUMBER PortNumber, ULONG SendFlags)",
    "MINIPORT_RETURN_NET_BUFFER_LISTS": "VOID (NDIS_HANDLE MiniportAdapterContext, PNET_BUFFER_LIST NetBufferLists, "
                                        "ULONG ReturnFlags)",
    "MINIPORT_CANCEL_SEND": "VOID (NDIS_HANDLE MiniportAdapterContext, PVOID CancelId)",
    "MINIPORT_CHECK_FOR_HANG": "BOOLEAN (NDIS_HANDLE MiniportAdapterContext)",
    "MINIPORT_RESET": "NDIS_STATUS (NDIS_HANDLE MiniportAdapterContext, PBOOLEAN AddressingReset)",
    "MINIPORT_DEVICE_PNP_EVENT_NOTIFY": "VOID (NDIS_HANDLE MiniportAdapterContext, PNET_DEVICE_PNP_EVENT NetDevicePnPEvent)",
    "MINIPORT_SHUTDOWN": "VOID (NDIS_HANDLE MiniportAdapterContext, NDIS_SHUTDOWN_ACTION ShutdownAction)",
    "MINIPORT_CANCEL_OID_REQUEST": "VOID (NDIS_HANDLE MiniportAdapterContext, PVOID RequestId)",
    "MINIPORT_DIRECT_OID_REQUEST": "NDIS_STATUS (NDIS_HANDLE MiniportAdapterContext, PNDIS_OID_REQUEST OidRequest)",
    "MINIPORT_CANCEL_DIRECT_OID_REQUEST": "VOID (NDIS_HANDLE MiniportAdapterContext, PVOID RequestId)",
    "MINIPORT_SYNCHRONOUS_OID_REQUEST": "NDIS_STATUS (NDIS_HANDLE MiniportAdapterContext, PNDIS_OID_REQUEST OidRequest)",
    "PROTOCOL_UNINSTALL": "VOID (VOID)",
    "PROTOCOL_OID_REQUEST_COMPLETE": "VOID (NDIS_HANDLE ProtocolBindingContext, PNDIS_OID_REQUEST OidRequest, "
                                     "NDIS_STATUS Status)",
    "PROTOCOL_STATUS_EX": "VOID (NDIS_HANDLE ProtocolBindingContext, PNDIS_STATUS_INDICATION StatusIndication)",
    "PROTOCOL_RECEIVE_NET_BUFFER_LISTS": "VOID (NDIS_HANDLE ProtocolBindingContext, PNET_BUFFER_LIST NetBufferLists, "
                                         "NDIS_PORT_NUMBER PortNumber, ULONG NumberOfNetBufferLists, ULONG ReceiveFlags)",
    "PROTOCOL_SEND_NET_BUFFER_LISTS_COMPLETE": "VOID (NDIS_HANDLE ProtocolBindingContext, PNET_BUFFER_LIST NetBufferList, "
                                               "ULONG SendCompleteFlags)",
    "PROTOCOL_DIRECT_OID_REQUEST_COMPLETE": "VOID (NDIS_HANDLE ProtocolBindingContext, PNDIS_OID_REQUEST OidRequest, "
                                            "NDIS_STATUS Status)",
    # the routines a driver hands NDIS outside the characteristics structures
    "DRIVER_INITIALIZE": "NTSTATUS (PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)",
    "DRIVER_UNLOAD": "VOID (PDRIVER_OBJECT DriverObject)",
    "NDIS_IO_WORKITEM_FUNCTION": "VOID (PVOID WorkItemContext, NDIS_HANDLE NdisIoWorkItemHandle)",
    "NDIS_TIMER_FUNCTION": "VOID (PVOID SystemSpecific1, PVOID FunctionContext, PVOID SystemSpecific2, "
                           "PVOID SystemSpecific3)",
    # kernel work items, how a protocol driver defers work to PASSIVE_LEVEL (IoQueueWorkItemEx's page)
    "IO_WORKITEM_ROUTINE_EX": "VOID (PVOID IoObject, PVOID Context, PIO_WORKITEM IoWorkItem)",
}

# The structures of structs.h, in declaration order (each after what it embeds).
STRUCTS = [
    "_NDIS_MINIPORT_DRIVER_CHARACTERISTICS", "_NDIS_MINIPORT_CO_CHARACTERISTICS",
    "_NDIS_PROTOCOL_DRIVER_CHARACTERISTICS", "_NDIS_PROTOCOL_CO_CHARACTERISTICS",
    "_NDIS_CO_CLIENT_OPTIONAL_HANDLERS", "_NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS",
    "_NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES", "_NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES",
    "_NDIS_MINIPORT_INIT_PARAMETERS", "_NDIS_BIND_PARAMETERS", "_NDIS_OPEN_PARAMETERS",
    "_NDIS_OID_REQUEST", "_NDIS_STATUS_INDICATION",
]
CO_STRUCTS = ["_CO_ADDRESS_FAMILY", "_CO_SAP", "_CO_SPECIFIC_PARAMETERS", "_flowspec",
              "_CO_CALL_MANAGER_PARAMETERS", "_CO_MEDIA_PARAMETERS", "_CO_CALL_PARAMETERS"]

# Functions of prototypes.tsv that the hand-written headers provide as macros or inline code
# (no call into NDIS), and those condis does not provide: left undeclared, a call to one fails
# at compile time with its name.
IN_HEADER = {"NDIS_LOWER_IRQL", "NDIS_RAISE_IRQL_TO_DISPATCH", "ASSERTMSG", "DbgPrint", "InitializeListHead",
             "InsertHeadList", "InsertTailList", "IsListEmpty", "RemoveEntryList", "RemoveHeadList",
             "NdisInitializeListHead", "NdisZeroMemory", "NdisMoveMemory", "NdisEqualMemory",
             "NdisInterlockedIncrement", "NdisInterlockedDecrement", "NdisInterlockedInsertHeadList",
             "NdisInterlockedInsertTailList", "NdisInterlockedRemoveHeadList", "NdisGetDataBuffer",
             "NET_BUFFER_CURRENT_MDL", "NET_BUFFER_CURRENT_MDL_OFFSET", "NET_BUFFER_DATA_LENGTH",
             "NET_BUFFER_DATA_OFFSET", "NET_BUFFER_LIST_FIRST_NB", "NET_BUFFER_LIST_NEXT_NBL",
             "NET_BUFFER_LIST_STATUS", "NET_BUFFER_NEXT_NB"}
NOT_PROVIDED = {"NdisMIndicateStatusEx", "NdisMSleep", "NdisStallExecution"}
# The two IRQL macros call these bridge routines (ndis.h defines them as macros too).
IRQL_ROUTINES = {
    "NDIS_RAISE_IRQL_TO_DISPATCH": "VOID CondisRaiseIrqlToDispatch( _Out_ PKIRQL pIrql );",
    "NDIS_LOWER_IRQL": "VOID CondisLowerIrql( _In_ KIRQL OldIrql, _In_ KIRQL CurIrql );",
}

EXTRA_FUNCTIONS = [
    "VOID NdisOpenConfigurationEx( _In_ PNDIS_CONFIGURATION_OBJECT ConfigObject, _Out_ PNDIS_HANDLE ConfigurationHandle );",
    "VOID NdisReadConfiguration( _Out_ PNDIS_STATUS Status, _Out_ PNDIS_CONFIGURATION_PARAMETER *ParameterValue, "
    "_In_ NDIS_HANDLE ConfigurationHandle, _In_ PNDIS_STRING Keyword, _In_ NDIS_PARAMETER_TYPE ParameterType );",
    "VOID NdisCloseConfiguration( _In_ NDIS_HANDLE ConfigurationHandle );",
    "VOID CondisWireAttach( _In_ PVOID Port, _In_ PCONDIS_WIRE_RECEIVE Receive, _In_ PVOID Context );",
    "VOID CondisWireDetach( _In_ PVOID Port );",
    "VOID CondisWireTransmit( _In_ PVOID Port, _In_ ULONG Vci, _In_ const VOID *Data, _In_ ULONG Length );",
    "BOOLEAN CondisWireProgramVc( _In_ PVOID Port );",
    # kernel work items (learn.microsoft.com: IoInitializeWorkItem, IoQueueWorkItemEx, IoUninitializeWorkItem)
    "VOID IoInitializeWorkItem( _In_ PVOID IoObject, _In_ PIO_WORKITEM IoWorkItem );",
    "VOID IoQueueWorkItemEx( _In_ PIO_WORKITEM IoWorkItem, _In_ PIO_WORKITEM_ROUTINE_EX WorkerRoutine, "
    "_In_ WORK_QUEUE_TYPE QueueType, _In_opt_ PVOID Context );",
    "VOID IoUninitializeWorkItem( _In_ PIO_WORKITEM IoWorkItem );",
]

BY_VALUE = {"LARGE_INTEGER", "UNICODE_STRING"}

_ANNOTATION = re.compile(r"\[[^\]]*\]|_In_opt_|_In_|_Out_opt_|_Out_|_Inout_opt_|_Inout_|_Use_decl_annotations_")


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def parse_params(text: str) -> list[tuple[str, str, str]]:
    """``(annotation, type, name)`` for each parameter of a declaration's parameter list."""
    text = text.strip()
    if text in ("", "void", "VOID"):
        return []
    # "[in, optional]" holds a comma: turn bracketed annotations into one word first
    text = re.sub(r"\[([^\]]*)\]", lambda m: "_" + m.group(1).split(",")[0].strip().replace(" ", "") + "_", text)
    params = []
    for raw in text.split(","):
        raw = raw.strip()
        m = re.match(r"(_\w+_(?=\s))?\s*(.*)$", raw)
        annotation = (m.group(1) or "").strip()
        rest = m.group(2).strip()
        words = rest.replace("*", " * ").split()
        name = words[-1]
        ctype = " ".join(words[:-1]).replace(" *", "*")
        a = annotation.lower()
        direction = "inout" if "inout" in a else "out" if "out" in a else "in"
        params.append((direction, ctype, name))
    return params


def parse_function(decl: str) -> tuple[str, str, list[tuple[str, str, str]]]:
    decl = decl.split("/*")[0].strip().rstrip(";")
    m = re.match(r"(.*?)\b(\w+)\s*\((.*)\)\s*$", decl, re.S)
    if not m:
        raise ValueError(f"not a prototype: {decl}")
    ret = _ANNOTATION.sub("", m.group(1)).strip()
    return ret, m.group(2), parse_params(m.group(3))


def c_params(params: list[tuple[str, str, str]]) -> str:
    return ", ".join(f"{t} {n}" for _, t, n in params) or "VOID"


def generate(ref: Path) -> dict[Path, str]:
    protos = {row["name"]: row for row in read_tsv(ref / "facts" / "prototypes.tsv")}
    files: dict[Path, str] = {}
    head = "/* Generated by tools/gen_header.py from the reference pack's facts; do not edit. */\n"

    # ---- status values
    status_rows = read_tsv(ref / "facts" / "ndis-status.tsv")
    lines = [head, "#pragma once", "/* NDIS_STATUS values (facts/ndis-status.tsv). */", ""]
    name_col, value_col = list(status_rows[0].keys())[:2]
    for row in status_rows:
        lines.append(f"#define {row[name_col]:<52} ((NDIS_STATUS){row[value_col]}L)")
    files[OUT / "include" / "condis" / "status.h"] = "\n".join(lines) + "\n"

    # ---- callbacks
    callbacks: dict[str, tuple[str, list[tuple[str, str, str]], str]] = {}
    for name, row in protos.items():
        if row["kind"] != "callback":
            continue
        # one page writes "IN PNET_BUFFER_LIST" as one word
        ret, _, params = parse_function(row["declaration"].replace("INPNET_BUFFER_LIST", "PNET_BUFFER_LIST"))
        callbacks[name] = (ret, [("in", t, n) for _, t, n in params], row["page"])
    for name, sig in EXTRA_CALLBACKS.items():
        m = re.match(r"(\w+) \((.*)\)$", sig)
        callbacks[name] = (m.group(1), parse_params(m.group(2)), "")
    lines = [head, "#pragma once",
             "/* Driver callbacks: one function type per entry point, under the name its reference page",
             "   gives it (ddi/nc-ndis-*.md), and the pointer type the characteristics structures use. */", ""]
    for name in sorted(callbacks):
        ret, params, page = callbacks[name]
        if page:
            lines.append(f"/* {page.rsplit('/', 1)[-1][:-3]} */")
        lines.append(f"typedef {ret} ({name})({c_params(params)});")
        lines.append(f"typedef {name} *P{name};")
    lines.append("")
    for ptr, cb in HANDLER_TYPES.items():
        lines.append(f"typedef {cb} *{ptr};")
    files[OUT / "include" / "condis" / "handlers.h"] = "\n".join(lines) + "\n"

    # ---- structures
    def struct_text(name: str) -> str:
        decl = protos[name]["declaration"].split("/*")[0].strip()
        decl = re.sub(r"\s*(#if \([^)]*\)|#endif)\s*", lambda m: "\n" + m.group(1) + "\n", decl)
        decl = decl.replace("; ", ";\n    ").replace("{ ", "{\n    ")
        return decl
    co = [head, "#pragma once", "/* Call-manager structures: address families, SAPs, FLOWSPEC, call parameters",
          "   (facts/prototypes.tsv, from their NDIS 5.x reference pages). */", ""]
    co.append("/* Address families, service types and flags (facts/co-structures.md). */")
    for line in (ref / "facts" / "co-structures.md").read_text().splitlines():
        m = re.match(r"\|\s*([A-Z][A-Z0-9_]+)(?: \(flag bit\))?\s*\|\s*(0x[0-9A-Fa-f]+|\d+)\s*\|", line)
        if m and not m.group(1).endswith("_LEVEL"):
            co.append(f"#define {m.group(1):<40} {m.group(2)}")
    co.append("")
    for name in CO_STRUCTS:
        co.append(f"/* {protos[name]['page']} */")
        co.append(struct_text(name))
        co.append("")
    files[OUT / "include" / "condis" / "co.h"] = "\n".join(co) + "\n"
    st = [head, "#pragma once", "/* NDIS 6 characteristics, attribute, parameter and request structures. */", ""]
    for name in STRUCTS:
        st.append(f"/* {protos[name]['page']} */")
        st.append(struct_text(name))
        st.append("")
    files[OUT / "include" / "condis" / "structs.h"] = "\n".join(st) + "\n"

    # ---- functions that call into NDIS
    functions: dict[str, tuple[str, list[tuple[str, str, str]]]] = {}
    for name, row in protos.items():
        if row["kind"] != "function" or name in IN_HEADER or name in NOT_PROVIDED:
            continue
        if name == "NdisSetOptionalHandlers":   # the page's syntax block omits the SAL annotations
            functions[name] = ("NDIS_STATUS", [("in", "NDIS_HANDLE", "NdisHandle"),
                                               ("in", "PNDIS_DRIVER_OPTIONAL_HANDLERS", "OptionalHandlers")])
            continue
        ret, fname, params = parse_function(row["declaration"])
        functions[name] = (ret, params)
    for decl in IRQL_ROUTINES.values():
        ret, fname, params = parse_function(decl)
        functions[fname] = (ret, params)
    # Outside the pack: configuration (public reference pages of the three routines) and the
    # simulated NIC's wire (condis's own hardware, include/condis/hw.h).
    for decl in EXTRA_FUNCTIONS:
        ret, fname, params = parse_function(decl)
        functions[fname] = (ret, params)
    functions["CondisAssertFailed"] = ("VOID", [("in", "PCSTR", "Expression"), ("in", "PCSTR", "File"),
                                                ("in", "ULONG", "Line")])
    functions["CondisDebugPrint"] = ("VOID", [("in", "PCSTR", "Text")])
    names = sorted(functions)
    lines = [head, "#pragma once", "/* Every NDIS routine condis provides to a driver, with its documented prototype",
             "   (facts/prototypes.tsv). A routine that is not declared here or in support.h is not provided;",
             "   calling one fails at compile time. */", ""]
    for name in names:
        ret, params = functions[name]
        lines.append(f"{ret} {name}({c_params(params)});")
    files[OUT / "include" / "condis" / "ddi.h"] = "\n".join(lines) + "\n"

    # cffi's callbacks take no structure by value: those parameters travel by address in the table
    def by_address(params: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
        return [(d, f"P{t}" if t in BY_VALUE else t, n) for d, t, n in params]

    ops = [head, "#pragma once", "/* The table through which a driver image's NDIS routines reach condis. */", "",
           "struct condis_ops {"]
    for name in names:
        ret, params = functions[name]
        ops.append(f"    {ret} (*{name})({c_params(by_address(params))});")
    ops += ["};", "", "#ifndef CONDIS_CDEF", "extern struct condis_ops condis_ops;", "extern PVOID condis_caller;",
            "#endif"]
    files[OUT / "runtime" / "ops.h"] = "\n".join(ops) + "\n"

    ex = [head, '#include "ndis.h"', '#include "ops.h"', "",
          "/* Each routine notes who called it (for the verifier's file and line) and calls condis. */", ""]
    for name in names:
        ret, params = functions[name]
        args = ", ".join(f"&{n}" if t in BY_VALUE else n for _, t, n in params)
        ex.append(f"{ret} {name}({c_params(params)})")
        ex.append("{")
        ex.append("    condis_caller = __builtin_return_address(0);")
        ex.append(f"    {'return ' if ret not in ('VOID', 'void') else ''}condis_ops.{name}({args});")
        ex.append("}")
        ex.append("")
    files[OUT / "runtime" / "exports.c"] = "\n".join(ex)

    # ---- Python data
    py = ['"""Signatures of the C surface (generated by tools/gen_header.py from facts/prototypes.tsv)."""', "",
          "# ruff: noqa: E501", "",
          "# name: (return type, ((direction, C type, parameter name), ...))",
          "FUNCTIONS: dict[str, tuple[str, tuple[tuple[str, str, str], ...]]] = {"]
    for name in names:
        ret, params = functions[name]
        py.append(f"    {name!r}: ({ret!r}, {tuple(params)!r}),")
    py += ["}", "", "CALLBACKS: dict[str, tuple[str, tuple[tuple[str, str, str], ...]]] = {"]
    for name in sorted(callbacks):
        ret, params, _ = callbacks[name]
        py.append(f"    {name!r}: ({ret!r}, {tuple(params)!r}),")
    py += ["}", "", "# pointer type of a characteristics field -> the callback it points to",
           f"HANDLER_TYPES: dict[str, str] = {HANDLER_TYPES!r}", ""]
    files[OUT / "_signatures.py"] = "\n".join(py)
    return files


def main(argv: list[str]) -> int:
    check = "--check" in argv
    rest = [a for a in argv if a != "--check"]
    ref = Path(rest[0]) if rest else ROOT.parent.parent / "shared" / "reference"
    if not ref.is_dir():
        ref = ROOT.parent / "shared" / "reference"
    stale = []
    for path, text in generate(ref).items():
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of step with the reference pack:", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
