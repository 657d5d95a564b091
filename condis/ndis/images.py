"""Driver images: what ``Ndis.load_driver`` does with a path instead of a DriverEntry.

NDIS's core calls a driver's DriverEntry and then knows the driver only by the handlers it
registers, whatever it is written in. A driver image in another language is made callable by the
loader registered for its file suffix; the C bridge (:mod:`condis.cdriver`) registers ``.so``.
The loader module is imported only when such a path is loaded, so the core runs without it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

# suffix -> "module:function"; the function takes the path and returns a DriverEntry callable
LOADERS: dict[str, str] = {".so": "condis.cdriver.driver:image_entry"}


def image_entry(path: str | os.PathLike[str]) -> Callable[..., Any]:
    """The DriverEntry callable of the driver image at ``path``."""
    suffix = Path(path).suffix
    ref = LOADERS.get(suffix)
    if ref is None:
        raise ValueError(f"{path}: no driver image loader for {suffix or 'files without a suffix'!r} "
                         f"(known: {', '.join(sorted(LOADERS))}); pass a DriverEntry callable or a built image")
    module, _, function = ref.partition(":")
    return getattr(importlib.import_module(module), function)(path)
