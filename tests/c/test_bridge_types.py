"""The bridge's list of the C types it names (parsed once, before the explorer forks) is complete."""

from __future__ import annotations

import re
from pathlib import Path

from condis.cdriver._ffi import TYPE_NAMES

BRIDGE = Path(__file__).resolve().parents[2] / "condis" / "cdriver"


def test_every_type_string_the_bridge_uses_is_listed():
    used = set()
    for path in BRIDGE.glob("*.py"):
        used |= set(re.findall(r"""\.(?:new|cast|sizeof|offsetof|typeof)\("([^"{}]+)\"""", path.read_text()))
    assert used - set(TYPE_NAMES) == set()
