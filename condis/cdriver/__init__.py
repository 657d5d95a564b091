"""C drivers on condis: compile a CoNDIS driver written in C, load it on a simulated host beside
Python drivers, and verify, explore and trace it the same way.

    from condis.cdriver import CDriver, build
    image = build(["mcm.c", "callmgr.c"], "atmmcm.so")      # or: condis cc mcm.c callmgr.c -o atmmcm.so
    host.load_driver(str(image), "atmmcm")                  # DriverEntry(PDRIVER_OBJECT, PUNICODE_STRING)
    host.load_driver(CDriver(image, Sap="alice").DriverEntry, "atmclient")   # with configuration

The bridge is its own package: NDIS's core knows a C driver only by the handlers it registered
(:mod:`condis.cdriver.bridge` makes each C function pointer one), as it knows a Python driver.
Building needs gcc; nothing else beyond cffi.
"""

from __future__ import annotations

from condis.cdriver.build import BuildError, build, command, compiled
from condis.cdriver.driver import CDriver, load_image
from condis.cdriver.image import ImageError

__all__ = ["BuildError", "CDriver", "ImageError", "build", "command", "compiled", "load_image"]
