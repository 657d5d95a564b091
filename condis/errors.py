"""The one exception condis raises for driver misuse."""

from __future__ import annotations

from typing import Any

from condis._pages import PAGES


def page_link(page: str) -> tuple[str, str]:
    """(title, address on learn.microsoft.com) of a reference page, by its path in the pack.

    Every page a rule or a DDI names is in the table (tests/test_pages.py); a path that is not
    comes back as its own title with no address.
    """
    return PAGES.get(page, (page, ""))


def cite(page: str) -> str:
    """A page as a user can find it: "<title>: <url>"."""
    title, url = page_link(page)
    return f"{title}: {url}" if url else title


class Violation(Exception):
    """A driver broke a documented CoNDIS rule.

    Raised at the DDI entry, handler return or completion that broke the rule, before NDIS
    changes any state, so every other AF, SAP, VC, party and call is untouched.

    Attributes:
        rule: short rule id (the Static Driver Verifier name where one exists, else ``condis.*``).
        page: the reference page that states the rule, by its path in the reference pack.
        title: that page's title on learn.microsoft.com.
        url: that page's address on learn.microsoft.com.
        ddi: the DDI or handler in which the rule was broken.
        detail: what was called, in what state, and what was expected.
    """

    def __init__(self, rule: str, page: str, ddi: str, detail: str, **objects: Any) -> None:
        self.rule = rule
        self.page = page
        self.title, self.url = page_link(page)
        self.ddi = ddi
        self.detail = detail
        self.objects = objects
        super().__init__(f"{ddi}: {detail} [rule {rule}] see {cite(page)}")
