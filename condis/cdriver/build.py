"""Compiling a C driver: ``condis cc`` and :func:`build`.

A driver image is a shared object built with the machine's gcc from the driver's sources and
condis's runtime (runtime/exports.c and runtime/runtime.c), against condis's ndis.h. The flags
make the mistakes a WDK build would catch fail here too, at build time and with their names:

- ``-Werror=implicit-function-declaration``: a routine condis does not declare (one it does not
  provide) is an error at compile time;
- ``-Wl,--no-undefined`` (``-z defs``): any symbol nothing defines is refused at link time;
- ``-g``: debug information, so the verifier can name the C file and line of a violating call;
- ``-z now -z relro``: every relocation done at load, so the image's writable data can be reset
  between loads (runtime.c).

``--asan`` adds AddressSanitizer; such an image is loaded only in a process that has the ASan
runtime preloaded (``condis replay --asan`` arranges it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
INCLUDE = HERE / "include"
SAMPLES = HERE / "samples"
RUNTIME = (HERE / "runtime" / "exports.c", HERE / "runtime" / "runtime.c")
CFLAGS = ("-std=gnu11", "-g", "-O1", "-fPIC", "-Wall", "-Wextra", "-Wno-unused-parameter",
          "-Werror=implicit-function-declaration", "-Werror=incompatible-pointer-types",
          "-Werror=int-conversion")
LDFLAGS = ("-shared", "-Wl,--no-undefined", "-Wl,-z,defs", "-Wl,-z,now", "-Wl,-z,relro")
ASAN = ("-fsanitize=address", "-fno-omit-frame-pointer")


class BuildError(Exception):
    """gcc refused the driver: ``output`` is what it printed (file, line, name of what is wrong)."""

    def __init__(self, command: Sequence[str], output: str) -> None:
        self.command = list(command)
        self.output = output
        super().__init__(f"building the driver failed:\n{output}")


def compiler() -> str:
    """The C compiler: $CC, else gcc on the PATH."""
    cc = os.environ.get("CC") or shutil.which("gcc")
    if not cc:
        raise BuildError(["gcc"], "no C compiler: condis builds C drivers with gcc (install gcc, or set CC)")
    return cc


def command(sources: Sequence[str | Path], output: str | Path, asan: bool = False,
            extra: Sequence[str] = ()) -> list[str]:
    """The gcc command line that builds ``sources`` into the driver image ``output``."""
    return [compiler(), *CFLAGS, *(ASAN if asan else ()), f"-I{INCLUDE}", *extra,
            *(str(s) for s in sources), *(str(r) for r in RUNTIME), "-o", str(output), *LDFLAGS,
            *(ASAN[:1] if asan else ())]


def build(sources: Sequence[str | Path], output: str | Path, asan: bool = False, extra: Sequence[str] = ()) -> Path:
    """Compile and link a driver image; returns its path. Raises :class:`BuildError` with gcc's
    messages when the sources do not compile or link."""
    if not sources:
        raise BuildError([], "no source files given")
    for src in sources:
        if not Path(src).is_file():
            raise BuildError([], f"no source file {src}")
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = command(sources, out, asan, extra)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(cmd, _explain(proc.stderr + proc.stdout))
    # how the image was built, so that `condis replay --asan` can rebuild it with AddressSanitizer
    recipe = {"sources": [str(Path(s).resolve()) for s in sources], "extra": list(extra), "asan": asan}
    Path(f"{out}.build.json").write_text(json.dumps(recipe, indent=1) + "\n")
    return out


def compiled(sources: Sequence[str | Path], extra: Sequence[str] = ()) -> Path:
    """A driver image built from ``sources``, from a cache kept between runs: built again only when a
    source or a C file beside it, a flag, or condis's own headers and runtime changed. For scenarios and tests that start
    from C sources; ``$CONDIS_CACHE`` says where the cache is (default ~/.cache/condis)."""
    paths = [Path(s).resolve() for s in sources]
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    known = _COMPILED.get((stamp, tuple(extra)))
    if known is not None and known.is_file():
        return known
    # what the sources may include: the C files beside them (a sample may include another sample's,
    # as atmcm includes atmmcm's), and condis's headers and runtime
    near = {q for p in paths for q in (p.parent.parent.rglob("*.[ch]") if p.parent.parent == SAMPLES
                                       else p.parent.glob("*.[ch]"))}
    digest = hashlib.sha256()
    for p in [*paths, *sorted(near - set(paths)), *RUNTIME, *sorted(INCLUDE.rglob("*.h"))]:
        digest.update(str(p).encode() + b"\0" + p.read_bytes())
    digest.update("\0".join([*CFLAGS, *LDFLAGS, *extra]).encode())
    cache = Path(os.environ.get("CONDIS_CACHE") or Path.home() / ".cache" / "condis") / "images"
    out = cache / f"{paths[0].stem}-{digest.hexdigest()[:16]}.so"
    if not out.is_file():
        tmp = out.with_suffix(f".{os.getpid()}.so")
        build(paths, tmp, extra=extra)
        os.replace(tmp, out)
        os.replace(f"{tmp}.build.json", f"{out}.build.json")
    _COMPILED[(stamp, tuple(extra))] = out
    return out


_COMPILED: dict[tuple[object, ...], Path] = {}


def asan_variant(image: Path) -> Path:
    """The AddressSanitizer build of a driver image (rebuilt from the sources recorded beside it
    when they are newer), for processes run with CONDIS_ASAN=1 (``condis replay --asan``)."""
    recipe_path = Path(f"{image}.build.json")
    if not recipe_path.is_file():
        raise BuildError([], f"{image} has no {recipe_path.name} beside it: condis cc records how it built an "
                         "image there; rebuild the driver with condis cc, or build it with --asan yourself")
    recipe = json.loads(recipe_path.read_text())
    if recipe.get("asan"):
        return image
    out = image.with_suffix(".asan.so")
    newest = max(Path(s).stat().st_mtime_ns for s in recipe["sources"])
    if not out.is_file() or out.stat().st_mtime_ns < newest:
        build(recipe["sources"], out, asan=True, extra=recipe["extra"])
    return out


def asan_runtime() -> str:
    """The path of gcc's AddressSanitizer runtime, to preload into a Python process."""
    proc = subprocess.run([compiler(), "-print-file-name=libasan.so"], capture_output=True, text=True)
    path = proc.stdout.strip()
    if proc.returncode != 0 or not Path(path).is_file():
        raise BuildError([compiler()], "gcc has no AddressSanitizer runtime (libasan) on this machine")
    return path


def _explain(output: str) -> str:
    """gcc's output, with a line saying what an undefined reference means here."""
    if "undefined reference to" in output:
        output += ("\nAn undefined reference names a routine the driver calls that neither its sources nor "
                   "condis provide (see condis/cdriver/include/condis/ddi.h for what condis provides).")
    return output

