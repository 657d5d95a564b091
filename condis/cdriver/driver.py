"""Loading a C driver image: its DriverEntry as NDIS's core calls a Python driver's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from condis.cdriver import bridge as B
from condis.cdriver import image as images
from condis.cdriver._ffi import ffi
from condis.cdriver._signatures import FUNCTIONS

_OPS: Any = None
_CALLBACKS: list[Any] = []


def ops() -> Any:
    """The one table of NDIS routines every C driver image calls through (made once)."""
    global _OPS
    if _OPS is None:
        from condis.cdriver.routines import bodies
        f = ffi()
        table = f.new("struct condis_ops *")
        for name, body in bodies().items():
            ret = FUNCTIONS[name][0]
            error = B._refusal(ret)
            if ret == "NDIS_STATUS":
                error = B.signed(error)
            ctype = dict(f.typeof(table).item.fields)[name].type
            cb = f.callback(ctype, B._routine(name, body), error=error if isinstance(error, int) else None)
            _CALLBACKS.append(cb)
            setattr(table, name, cb)
        _OPS = table
    return _OPS


class CDriver:
    """A C driver image to load, with the configuration NdisReadConfiguration gives it.

    ``CDriver(path, Sap="alice")``: each load calls the image's DriverEntry on a fresh copy of
    its globals. Usable where the testbed takes a driver class: ``CDriver(path)()`` is itself,
    and ``.DriverEntry`` is what ``Ndis.load_driver`` calls.
    """

    def __init__(self, path: str | os.PathLike[str], **config: Any) -> None:
        self.path = Path(path)
        self.config = config
        self.instances: list[B.Instance] = []

    def __call__(self, **config: Any) -> CDriver:
        return self if not config else CDriver(self.path, **{**self.config, **config})

    def __repr__(self) -> str:
        return f"<C driver {self.path.name}>"

    @property
    def debug_output(self) -> list[str]:
        """What the driver's DbgPrint calls printed, in order, over all its loads."""
        return [line for inst in self.instances for line in inst.debug]

    def DriverEntry(self, ndis: Any, DriverObject: Any, RegistryPath: str) -> int:
        return load_image(ndis, self.path, DriverObject, RegistryPath, self.config, self.instances)


def load_image(ndis: Any, path: str | os.PathLike[str], driver_object: Any, registry_path: str,
               config: dict[str, Any] | None = None, instances: list[B.Instance] | None = None) -> int:
    """Call the DriverEntry of the C image at ``path`` for ``ndis``, at PASSIVE_LEVEL as NDIS's
    core calls every DriverEntry; the image's DriverUnload becomes the DRIVER_OBJECT's."""
    try:
        image = images.acquire(path, ndis)
    except images.ImageError as e:
        raise ndis._violate("condis.DriverImage", "DriverEntry", str(e)) from None
    image.attach(ops())
    inst = B.Instance(ndis, image, driver_object.DriverName, dict(config or {}))
    inst.py_driver_object = driver_object
    if instances is not None:
        instances.append(inst)
    reg = B._wide(registry_path)
    c_reg = ffi().new("UNICODE_STRING *")
    c_reg.Buffer, c_reg.Length, c_reg.MaximumLength = reg, 2 * len(registry_path), 2 * len(registry_path) + 2
    try:
        status = inst.run(image.driver_entry, inst.c_driver_object, c_reg)
    except BaseException:
        images.release(image)
        raise
    inst.on_unload = lambda: _unloaded(inst)
    unload = inst.c_driver_object.DriverUnload
    if unload != ffi().NULL:
        driver_object.DriverUnload = B.thunk(inst, unload, "DRIVER_UNLOAD")
    if status < 0:      # NT_SUCCESS fails: the driver is not loaded
        images.release(image)
    return B.unsigned(status)


def _unloaded(inst: B.Instance) -> None:
    """After the driver's unload routine: what it allocated and never freed is a leak."""
    findings = []
    for addr, (_, size, tag, where) in inst.memory.items():
        tag_text = bytes((tag >> s) & 0xFF for s in (0, 8, 16, 24)).decode("latin-1")
        findings.append(("condis.LeakMemory", f"{inst.name!r} unloaded with {size} bytes at {addr:#x} (tag "
                         f"{tag_text!r}, allocated at {where or 'an unknown place'}) from "
                         "NdisAllocateMemoryWithTagPriority never freed with NdisFreeMemory"))
    for addr, (_, where) in inst.mdls.items():
        findings.append(("condis.LeakMemory", f"{inst.name!r} unloaded with the MDL at {addr:#x} (allocated at "
                         f"{where or 'an unknown place'}) from NdisAllocateMdl never freed with NdisFreeMdl"))
    images.release(inst.image)
    inst.host._teardown("DriverUnload", findings)


def image_entry(path: str | os.PathLike[str]) -> Any:
    """The DriverEntry of a C driver image, for ``Ndis.load_driver(path, name)``."""
    return CDriver(path).DriverEntry
