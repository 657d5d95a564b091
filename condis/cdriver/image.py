"""Driver images: a C driver's shared object, loaded once per simulated host that loads it.

Windows loads a driver once per machine, so each simulated host needs its own copy of the
driver's global variables. The bridge therefore loads a private copy of the .so for each load
(dlopen of one path twice would share its globals), and reuses a copy once the host that had it
is gone: before reuse, the image's writable data is put back as it was at load
(runtime.c: condis_snapshot / condis_restore), so every load starts from the same state and
schedules replay exactly. No driver code runs outside condis's events and handler calls.
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import tempfile
import weakref
from pathlib import Path
from typing import Any

from condis.cdriver._ffi import ffi, libc

_COPIES = Path(tempfile.mkdtemp(prefix="condis-images-"))
_POOL: dict[tuple[str, int, int], list[Image]] = {}
_SPARE_BEFORE_COLLECT = 4


class ImageError(Exception):
    """A file that is not a C driver image condis can load."""


class Image:
    """One loaded copy of a driver image."""

    def __init__(self, source: Path, copy: Path) -> None:
        self.source = source
        self.copy = copy
        f = ffi()
        try:
            self.lib: Any = f.dlopen(str(copy), f.RTLD_NOW | f.RTLD_LOCAL)
        except OSError as e:
            raise ImageError(f"{source}: cannot load it as a driver image: {e}") from None
        try:
            self.driver_entry = self.lib.DriverEntry
        except AttributeError:
            raise ImageError(f"{source} has no DriverEntry: a driver image exports "
                             "NTSTATUS DriverEntry(PDRIVER_OBJECT, PUNICODE_STRING)") from None
        try:
            self.lib.condis_attach   # noqa: B018 - the runtime `condis cc` links in
        except AttributeError:
            raise ImageError(f"{source} was not built with condis cc: it lacks condis's runtime") from None
        self.lib.condis_snapshot()
        info = f.new("Dl_info *")
        libc().dladdr(f.cast("void *", self.driver_entry), info)
        self.base = int(f.cast("uintptr_t", info.dli_fbase))
        self.owner: Any = None
        self._lines: dict[int, str] = {}

    def attach(self, ops: Any) -> None:
        self.lib.condis_attach(ops)

    def where(self, pc: int) -> str:
        """``file.c:line`` (function) of a return address in this image, from its debug information."""
        if not pc:
            return ""
        known = self._lines.get(pc)
        if known is not None:
            return known
        where = ""
        tool = shutil.which("addr2line")
        if tool is not None:
            # the return address is the instruction after the call: the call is one byte before it
            offset = pc - 1 - self.base
            proc = subprocess.run([tool, "-f", "-C", "-e", str(self.copy), hex(offset)], capture_output=True, text=True)
            lines = proc.stdout.split("\n")
            if proc.returncode == 0 and len(lines) >= 2 and not lines[1].startswith("??"):
                where = f"{lines[1].split(' ')[0]} ({lines[0]})"
        self._lines[pc] = where
        return where


def acquire(path: str | os.PathLike[str], owner: Any) -> Image:
    """An image of the driver at ``path`` for ``owner`` (a host): a free copy reset to its state at
    load, or a new copy. The copy goes back to the pool when ``owner`` is garbage collected or
    :func:`release` is called."""
    source = Path(path).resolve()
    if not source.is_file():
        raise ImageError(f"no driver image {path}")
    if os.environ.get("CONDIS_ASAN"):
        from condis.cdriver.build import BuildError, asan_variant
        try:
            source = asan_variant(source)
        except BuildError as e:
            raise ImageError(str(e)) from None
    stat = source.stat()
    key = (str(source), stat.st_mtime_ns, stat.st_size)
    pool = _POOL.setdefault(key, [])
    image = _free(pool)
    if image is None and len(pool) >= _SPARE_BEFORE_COLLECT:
        gc.collect()            # hosts of finished simulations hold images until they are collected
        image = _free(pool)
    if image is None:
        copy = _COPIES / f"{source.stem}-{os.getpid()}-{len(pool)}-{stat.st_mtime_ns}.so"
        shutil.copyfile(source, copy)
        image = Image(source, copy)
        pool.append(image)
    else:
        image.lib.condis_restore()
    image.owner = weakref.ref(owner)
    return image


def release(image: Image) -> None:
    image.owner = None


def _free(pool: list[Image]) -> Image | None:
    for image in pool:
        if image.owner is None or image.owner() is None:
            return image
    return None
