"""condis's ndis.h: in step with the reference pack, the same layouts for gcc and the bridge, Windows
widths on 64-bit Linux, and routines condis does not provide refused at build time by name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from condis.cdriver import BuildError, build
from condis.cdriver._ffi import ffi
from condis.cdriver.build import INCLUDE, compiler

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT.parent / "shared" / "reference"


@pytest.mark.skipif(not PACK.is_dir(), reason="the reference pack is not beside the repository")
def test_the_generated_headers_are_in_step_with_the_pack():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_header.py"), "--check", str(PACK)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _layout_program() -> tuple[str, list[str]]:
    """A C program printing the size of every structure the bridge knows and each field's offset,
    and the same lines as the bridge computes them."""
    f = ffi()
    _, structs, _ = f.list_types()
    lines_c, expected = [], []
    for tag in sorted(structs):
        name = f"struct {tag}"
        t = f.typeof(name)
        if t.fields is None or tag.startswith("$") or tag == "condis_ops":
            continue
        lines_c.append(f'printf("{tag} %zu\\n", sizeof({name}));')
        expected.append(f"{tag} {f.sizeof(name)}")
        for field, _ in t.fields:
            if field:
                lines_c.append(f'printf("{tag}.{field} %zu\\n", offsetof({name}, {field}));')
                expected.append(f"{tag}.{field} {f.offsetof(name, field)}")
    program = "#include <ndis.h>\n#include <stdio.h>\nint main(void) {\n" + "\n".join(lines_c) + "\nreturn 0;\n}\n"
    return program, expected


def test_gcc_and_the_bridge_lay_out_every_structure_alike(tmp_path):
    program, expected = _layout_program()
    src = tmp_path / "layout.c"
    src.write_text(program)
    exe = tmp_path / "layout"
    subprocess.run([compiler(), "-std=gnu11", f"-I{INCLUDE}", str(src), "-o", str(exe)], check=True)
    got = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split("\n")[:-1]
    assert len(expected) > 400
    assert got == expected


def test_windows_widths_on_64_bit_linux(tmp_path):
    src = tmp_path / "widths.c"
    src.write_text("""#include <ndis.h>
_Static_assert(sizeof(ULONG) == 4 && sizeof(LONG) == 4, "ULONG and LONG are 32 bits");
_Static_assert(sizeof(ULONG_PTR) == sizeof(void *), "ULONG_PTR is pointer-sized");
_Static_assert(sizeof(WCHAR) == 2, "WCHAR is 16 bits");
_Static_assert(sizeof(NDIS_STATUS) == 4 && sizeof(NDIS_HANDLE) == sizeof(void *), "status and handle");
_Static_assert(NDIS_STATUS_PENDING == 0x103, "a status value from facts/ndis-status.tsv");
_Static_assert(CO_ADDRESS_FAMILY_Q2931 == 1, "an address family from facts/co-structures.md");
static NDIS_STRING Name = NDIS_STRING_CONST("condis");
int check(void) { return Name.Length == 12 && Name.MaximumLength == 14 && Name.Buffer[0] == 'c'; }
""")
    subprocess.run([compiler(), "-std=gnu11", "-Wall", "-Werror", f"-I{INCLUDE}", "-c", str(src), "-o",
                    str(tmp_path / "w.o")], check=True)


def test_a_routine_condis_does_not_provide_fails_at_compile_time_with_its_name(tmp_path):
    with pytest.raises(BuildError) as e:
        build([Path(__file__).parent / "drivers" / "undeclared.c"], tmp_path / "u.so")
    assert "implicit declaration of function" in e.value.output
    assert "NdisMSleep" in e.value.output


def test_a_symbol_nothing_defines_fails_at_link_time_with_its_name(tmp_path):
    with pytest.raises(BuildError) as e:
        build([Path(__file__).parent / "drivers" / "unresolved.c"], tmp_path / "u.so")
    assert "undefined reference to `NdisMRegisterScatterGatherDma'" in e.value.output
