"""Every rule of the catalog (condis/rules.py) has a test that breaks it, and every such test names a
rule of the catalog.

A test says which rule it breaks with the ``rule`` marker. The test sources are read, not collected,
so the check holds however few tests a run selects.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from condis._pages import OUTSIDE_THE_PACK, PAGES
from condis.rules import RULES

TESTS = Path(__file__).resolve().parents[1]
# the marker as a decorator, or in ``pytest.param(..., marks=...)``
_MARKER = re.compile(r"""mark\.rule\(\s*(['"])(?P<id>[^'"]+)\1\s*\)""")


@functools.cache
def marked() -> dict[str, list[str]]:
    """Rule id -> the test files (relative to tests/) that carry a marker with it."""
    found: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("*.py")):
        if path == Path(__file__).resolve():
            continue
        name = str(path.relative_to(TESTS))
        for m in _MARKER.finditer(path.read_text(encoding="utf-8")):
            files = found.setdefault(m["id"], [])
            if name not in files:
                files.append(name)
    return found


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_rule_has_a_test(rule):
    if rule not in marked():
        pytest.fail(f"no test under tests/ is marked rule({rule!r}); write one that breaks it "
                    f"({RULES[rule].summary} See {RULES[rule].page})", pytrace=False)


def test_every_marked_rule_is_in_the_catalog():
    unknown = {rule: files for rule, files in marked().items() if rule not in RULES}
    assert not unknown, f"tests marked with rules condis/rules.py does not have: {unknown}"


def test_the_scan_finds_the_markers_pytest_sees(request):
    """The source scan and pytest's own markers agree on this folder's tests."""
    seen = {m.args[0] for item in request.session.items for m in item.iter_markers("rule")
            if Path(str(item.path)).parent == Path(__file__).parent}
    scanned = {rule for rule, files in marked().items() if any(f.startswith("rules/") for f in files)}
    assert seen <= scanned


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_rules_page_is_in_the_pack_and_states_it(rule):
    """A rule's own page exists and has the rule's key term (conftest.RULE_TERMS); every test that
    breaks the rule checks, through ``expect_violation``, that the page its Violation cites names the
    function or handler the rule was broken in."""
    from tests.rules.conftest import REFERENCE, RULE_TERMS
    if RULES[rule].page in OUTSIDE_THE_PACK:
        # a kernel routine's page, which the pack does not hold: it has its title and address
        title, url = PAGES[RULES[rule].page]
        assert title and url.startswith("https://learn.microsoft.com/")
        return
    if not REFERENCE.is_dir():
        pytest.skip(f"the reference pack is not at {REFERENCE}")
    page = REFERENCE / RULES[rule].page
    assert page.is_file(), f"{RULES[rule].page} is not in the reference pack"
    terms = RULE_TERMS.get(rule, ())
    text = page.read_text(encoding="utf-8").lower()
    assert not terms or any(t.lower() in text for t in terms), f"{RULES[rule].page} has none of {terms}"
