"""condis/verifier/musts.tsv accounts for every obligation sentence of the CoNDIS pages
(tools/musts.py extracts them from the reference pack)."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pytest

from condis.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
# beside the repository, or above it for a worktree deeper down
REFERENCE = next((p / "shared" / "reference" for p in ROOT.parents if (p / "shared" / "reference").is_dir()),
                 ROOT.parent / "shared" / "reference")


def _tool():
    spec = importlib.util.spec_from_file_location("condis_tools_musts", ROOT / "tools" / "musts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


musts = _tool()
needs_pack = pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"the reference pack is not at {REFERENCE}")


def test_rows_name_a_catalog_rule_or_give_a_reason():
    rows = musts.read_table()
    assert rows, "musts.tsv is empty"
    for row in rows:
        assert row["rule"] == "-" or row["rule"] in RULES, f"{row['id']}: {row['rule']} is not in the catalog"
        assert row["note"].strip(), f"{row['id']} has no note"
        assert row["id"].startswith(row["page"] + "#"), f"{row['id']} does not belong to page {row['page']}"
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "musts.tsv lists a sentence twice"


def test_the_table_ships_with_the_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "musts.tsv" in config["tool"]["setuptools"]["package-data"]["condis.verifier"]
    assert musts.TABLE == ROOT / "condis" / "verifier" / "musts.tsv"


@needs_pack
def test_every_sentence_is_accounted_for_and_no_row_is_stale():
    found = musts.extract(REFERENCE)
    assert found, "no obligation sentence found in the reference pack"
    current = {m.id for m in found}
    listed = {row["id"] for row in musts.read_table()}
    missing = [f"{m.id}  {m.line}" for m in found if m.id not in listed]
    assert not missing, "sentences with no row in musts.tsv (python tools/musts.py --missing):\n" + "\n".join(missing)
    stale = sorted(listed - current)
    assert not stale, f"rows no sentence matches any more: {stale}"


@needs_pack
def test_scope_is_the_seed_the_chapter_and_the_condis_ddi_pages():
    pages = musts.pages(REFERENCE)
    assert pages[0] == musts.SEED
    assert len([p for p in pages if p.startswith("guide/")]) == 51
    ddi = [p for p in pages if p.startswith("ddi/")]
    assert "ddi/nf-ndis-ndiscocreatevc.md" in ddi and "ddi/nc-ndis-protocol_cl_incoming_call.md" in ddi
    assert "ddi/ns-ndis-_ndis_co_client_optional_handlers.md" in ddi
    for outside in ("ddi/nf-ndis-ndiscloseadapterex.md", "ddi/nf-ndis-ndiscompletebindadapterex.md",
                    "ddi/nc-ndis-protocol_close_adapter_complete_ex.md", "ddi/ns-ndis-_ndis_bind_parameters.md"):
        assert outside not in ddi


def test_sentence_ids_survive_reflowing():
    one = musts.sentence_id("guide/x.md", "A driver  must\n  not pend.")
    assert one == musts.sentence_id("guide/x.md", "A driver must not pend.")
    assert one != musts.sentence_id("guide/y.md", "A driver must not pend.")
