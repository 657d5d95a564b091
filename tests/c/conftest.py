"""C drivers on condis: builds of the test drivers in tests/c/drivers, made once per session.

Every test here needs gcc; where it is missing they are skipped, saying so.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

DRIVERS = Path(__file__).resolve().parent / "drivers"

if shutil.which("gcc") is None:
    pytest.skip("gcc is not installed: condis builds C drivers with gcc", allow_module_level=True)


@pytest.fixture(scope="session")
def c_image(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``c_image("echo_client", "-DFLAG")``: the test driver built with condis's build, cached."""
    from condis.cdriver import build
    out = tmp_path_factory.mktemp("images")
    built: dict[tuple[str, ...], Path] = {}

    def make(name: str, *flags: str) -> Path:
        key = (name, *flags)
        if key not in built:
            suffix = "".join(f.strip("-").replace("=", "_") for f in flags)
            built[key] = build([DRIVERS / f"{name}.c"], out / f"{name}{suffix}.so", extra=flags)
        return built[key]
    return make


def pytest_configure(config: pytest.Config) -> None:
    # the catalog's marker (tests/rules/conftest.py registers it too, for that folder)
    config.addinivalue_line("markers", "rule(id): the test breaks the catalog rule ``id`` (condis/rules.py)")
