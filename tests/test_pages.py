"""Pages users can open: every page condis names is in the generated table of titles and addresses,
and the table is in step with the reference pack's facts/urls.tsv."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from condis._ddi_table import CALLBACKS, FUNCTIONS
from condis._pages import PAGES
from condis.errors import Violation, cite
from condis.rules import RULES
from condis.verifier import statements

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = [Path(os.environ["CONDIS_REFERENCE"])] if "CONDIS_REFERENCE" in os.environ else []
CANDIDATES += [ROOT.parent / "shared" / "reference", ROOT.parent.parent / "shared" / "reference"]
REFERENCE = next((p for p in CANDIDATES if (p / "facts" / "urls.tsv").is_file()), None)


@pytest.mark.skipif(REFERENCE is None, reason="the reference pack is not beside the repository")
def test_the_table_is_generated_from_urls_tsv():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import gen_pages
    finally:
        sys.path.pop(0)
    assert (ROOT / "condis" / "_pages.py").read_text(encoding="utf-8") == gen_pages.source(REFERENCE), \
        "condis/_pages.py is out of step with facts/urls.tsv: run python tools/gen_pages.py <pack>"


def test_every_page_condis_names_has_a_title_and_an_address():
    named = {r.page for r in RULES.values()} | {row[2] for row in FUNCTIONS.values()}
    named |= {row[1] for row in CALLBACKS.values()}
    named |= {page for rule in RULES for page, _ in statements(rule)}
    missing = sorted(p for p in named if p not in PAGES)
    assert not missing
    for page in named:
        title, url = PAGES[page]
        assert title and url.startswith("https://learn.microsoft.com/")


def test_the_seed_page_is_the_documentation_of_ndismcmclosecallcomplete():
    assert PAGES["seed/000_e0f5fe94aade492e.txt"] == (
        "NdisMCmCloseCallComplete function (ndis.h)",
        "https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nf-ndis-ndismcmclosecallcomplete")
    v = Violation("condis.CompleteWithoutPending", "seed/000_e0f5fe94aade492e.txt", "NdisMCmCloseCallComplete",
                  "[A] VC 0xd was not pended")
    assert str(v) == ("NdisMCmCloseCallComplete: [A] VC 0xd was not pended [rule condis.CompleteWithoutPending] "
                      "see NdisMCmCloseCallComplete function (ndis.h): "
                      "https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nf-ndis-ndismcmclosecallcomplete")
    assert v.page == "seed/000_e0f5fe94aade492e.txt" and v.title == "NdisMCmCloseCallComplete function (ndis.h)"


def test_a_path_outside_the_table_is_shown_as_it_is():
    assert cite("guide/no-such-page.md") == "guide/no-such-page.md"


def test_a_rule_names_its_page_by_title_and_address():
    rule = RULES["condis.CompleteWithoutPending"]
    assert (rule.title, rule.url) == PAGES[rule.page]
    assert all((r.title, r.url) == PAGES[r.page] for r in RULES.values())
